"""`validate`: check many values files in one process and report every problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from lmfchart import openapi
from lmfchart.base.errors import InputError, Issue, UsageError
from lmfchart.base.keypath import KeyPath, format_path
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.inputs.origins import Origins
from lmfchart.model.names import DEFAULT_NAMESPACE, DEFAULT_RELEASE_NAME
from lmfchart.render.manifests import render_objects
from lmfchart.usecases.podsecurity import (
    NO_POD_SECURITY,
    PodSecurityModes,
    Violation,
    violations,
)

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
    # Said, never a failure: an Ingress without login, Pod Security violations of a level
    # checked as a warning.
    warnings: list[Issue] = field(default_factory=list)
    # What was not checked, and why: said once, never a failure.
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def _values_key(path: tuple[str | int, ...]) -> str | None:
    for prefix, key in _PASS_THROUGH.items():
        if path[: len(prefix)] == prefix:
            rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[len(prefix):])
            return key + rest
    return None


def validate_deployment(
    *, name: str, values: ValueOptions, kube_version: str,
    pod_security: PodSecurityModes = NO_POD_SECURITY,
) -> FileReport:
    """Check one set of values as Helm would deploy it; `name` labels the report.

    A TemplateError is lmfchart's own bug, not the values': it ends the run (exit 4)."""
    report = FileReport(name)
    try:
        loaded = load_values(values)
        objects = render_objects(loaded.values, release_name=DEFAULT_RELEASE_NAME,
                                 namespace=DEFAULT_NAMESPACE)
    except InputError as e:
        report.issues += e.issues
        return report
    report.warnings += [Issue(w, file=name) for w in loaded.warnings]
    custom = sorted({(str(obj["apiVersion"]), str(obj["kind"])) for obj in objects
                     if openapi.is_custom_resource(str(obj["apiVersion"]), kube_version)})
    if custom:
        report.notes.append(unchecked_custom_resources(custom))
    for obj in objects:
        for problem in openapi.check_object(obj, kube_version):
            key = _values_key(problem.path)
            report.issues.append(Issue(
                f"rendered {problem.render()} (Kubernetes {kube_version} schema)",
                file=name,
                key_path=key,
            ))
    _check_pod_security(report, objects, pod_security, loaded.origins)
    return report


def _check_pod_security(report: FileReport, objects: Sequence[dict[str, Any]],
                        modes: PodSecurityModes, origins: Origins) -> None:
    def issue(violation: Violation) -> Issue:
        # At the key where the user set it (file, line, seed spelling), or the file's own.
        key = violation.finding.key
        if key and origins.find(key):
            return origins.issue(key, violation.message())
        return Issue(violation.message(), file=report.file,
                     key_path=format_path(key) if key else None)

    enforced = violations(objects, modes.enforce) if modes.enforce else []
    report.issues += [issue(v) for v in enforced]
    # What the enforced level already asks to change is not said again as a warning.
    said = {_change(v) for v in enforced}
    warned = violations(objects, modes.warn) if modes.warn else []
    report.warnings += [issue(v) for v in warned if _change(v) not in said]


def _change(violation: Violation) -> tuple[str, KeyPath | None, str, str]:
    f = violation.finding
    return violation.pod.label, f.key, f.fix, f.detail if f.key is None else ""


def unchecked_custom_resources(kinds: Sequence[tuple[str, str]]) -> str:
    """The note for rendered objects of custom resources: (apiVersion, kind) each."""
    named = ", ".join(f"{api_version} {kind}" for api_version, kind in kinds)
    return (f"not checked offline: {named} (custom resources: their schema comes with "
            "their CustomResourceDefinition, which lmfchart does not ship; the API server "
            "checks them at `lmfchart install`, `--dry-run` included)")


def _overlay_name(values: ValueOptions) -> str:
    parts = list(values.files)
    # Any flag beyond the files (--set, --set-string, and whatever Helm flag comes next).
    if replace(values, files=(), documents=()) != ValueOptions():
        parts.append("--set")
    return " + ".join(parts)


def validate_files(
    *, files: Sequence[str], values: ValueOptions, kube_version: str | None = None,
    pod_security: PodSecurityModes = NO_POD_SECURITY,
) -> list[FileReport]:
    """Each of `files` on top of `values` (its -f files, then its --set flags, as Helm
    orders them); without `files`, `values` alone is the one deployment checked."""
    version = openapi.resolve_version(kube_version)
    if not files:
        if values == ValueOptions():
            raise UsageError("nothing to validate: give values files, -f files or --set flags")
        return [validate_deployment(name=_overlay_name(values), values=values,
                                    kube_version=version, pod_security=pod_security)]
    return [
        validate_deployment(name=path, values=replace(values, files=(*values.files, path)),
                            kube_version=version, pod_security=pod_security)
        for path in files
    ]
