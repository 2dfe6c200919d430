"""`validate`: check many values files in one process and report every problem."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from lmfchart import kubeschema
from lmfchart.errors import InputError, Issue, TemplateError
from lmfchart.loading import load_release
from lmfchart.manifests import render_objects
from lmfchart.release import DEFAULT_NAMESPACE, DEFAULT_RELEASE

# Where a rendered field comes straight from a values key, name that key too.
_PASS_THROUGH = {
    ("spec", "template", "spec", "affinity"): "affinity",
    ("spec", "template", "spec", "tolerations"): "tolerations",
    ("spec", "template", "spec", "nodeSelector"): "nodeSelector",
    ("spec", "template", "spec", "securityContext"): "podSecurityContext",
    ("spec", "template", "spec", "imagePullSecrets"): "image.pullSecrets",
    ("spec", "template", "spec", "containers", 0, "securityContext"): "securityContext",
    ("spec", "template", "spec", "containers", 0, "envFrom"): "envFrom",
}


@dataclass
class FileReport:
    file: str
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def _values_key(path: tuple[str | int, ...]) -> str | None:
    for prefix, key in _PASS_THROUGH.items():
        if path[: len(prefix)] == prefix:
            rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[len(prefix):])
            return key + rest
    return None


def validate_file(path: str, *, kube_version: str) -> FileReport:
    report = FileReport(path)
    try:
        release = load_release([path])
        objects = render_objects(release.values, release=DEFAULT_RELEASE,
                                 namespace=DEFAULT_NAMESPACE)
    except InputError as e:
        report.issues += e.issues
        return report
    except TemplateError as e:
        report.issues.append(Issue(f"internal template error: {e.message}", file=path))
        return report
    for obj in objects:
        for problem in kubeschema.check_object(obj, kube_version):
            key = _values_key(problem.path)
            report.issues.append(Issue(
                f"rendered {problem.render()} (Kubernetes {kube_version} schema)",
                file=path,
                key_path=key,
            ))
    return report


def validate_files(paths: Sequence[str], *, kube_version: str | None = None) -> list[FileReport]:
    version = kube_version or kubeschema.default_version()
    kubeschema.require_version(version)
    return [validate_file(path, kube_version=version) for path in paths]


def format_reports(reports: Sequence[FileReport], style: str) -> str:
    if style == "json":
        return json.dumps(
            {
                "valid": all(r.ok for r in reports),
                "files": [
                    {"file": r.file, "valid": r.ok, "errors": [i.as_dict() for i in r.issues]}
                    for r in reports
                ],
            },
            indent=2,
        ) + "\n"
    lines: list[str] = []
    for report in reports:
        if style == "github":
            lines += [_annotation(issue) for issue in report.issues]
        elif report.ok:
            lines.append(f"ok    {report.file}")
        else:
            lines.append(f"FAIL  {report.file}")
            lines += [f"  {issue.render()}" for issue in report.issues]
    bad = sum(not r.ok for r in reports)
    lines.append(f"{len(reports) - bad} valid, {bad} invalid")
    return "\n".join(lines) + "\n"


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _annotation(issue: Issue) -> str:
    props = [f"file={_escape(issue.file or '', prop=True)}"]
    if issue.line is not None:
        props.append(f"line={issue.line}")
    if issue.key_path:
        props.append(f"title={_escape(issue.key_path, prop=True)}")
    message = f"{issue.key_path}: {issue.message}" if issue.key_path else issue.message
    return f"::error {','.join(props)}::{_escape(message)}"
