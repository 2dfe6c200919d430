"""Validation reports as text, JSON or GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from lmfchart.base.errors import Issue
from lmfchart.usecases.validate import FileReport


def format_reports(reports: Sequence[FileReport], style: str) -> str:
    if style == "json":
        return json.dumps(
            {
                "valid": all(r.ok for r in reports),
                "files": [
                    {"file": r.file, "valid": r.ok, "errors": [i.as_dict() for i in r.issues],
                     "warnings": [i.as_dict() for i in r.warnings], "notes": r.notes}
                    for r in reports
                ],
            },
            indent=2,
        ) + "\n"
    lines: list[str] = []
    for report in reports:
        if style == "github":
            lines += [_annotation(issue, "error") for issue in report.issues]
            lines += [_annotation(issue, "warning") for issue in report.warnings]
            continue
        lines.append(f"ok    {report.file}" if report.ok else f"FAIL  {report.file}")
        lines += [f"  {issue.render()}" for issue in report.issues]
        lines += [f"  warning: {issue.render()}" for issue in report.warnings]
    # The same note for many files is said once.
    notes = dict.fromkeys(note for report in reports for note in report.notes)
    if style == "github":
        lines += [f"::notice::{_escape(note)}" for note in notes]
    else:
        lines += [f"note: {note}" for note in notes]
    bad = sum(not r.ok for r in reports)
    warned = sum(bool(r.warnings) for r in reports)
    summary = f"{len(reports) - bad} valid, {bad} invalid"
    lines.append(summary + (f", {warned} with warnings" if warned else ""))
    return "\n".join(lines) + "\n"


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def _annotation(issue: Issue, severity: str) -> str:
    props = [f"file={_escape(issue.file or '', prop=True)}"]
    if issue.line is not None:
        props.append(f"line={issue.line}")
    if issue.key_path:
        props.append(f"title={_escape(issue.key_path, prop=True)}")
    message = f"{issue.key_path}: {issue.message}" if issue.key_path else issue.message
    return f"::{severity} {','.join(props)}::{_escape(message)}"
