"""kube-score over every example's `lmfchart template` output: its findings printed and
recorded in the README (regenerated with --update-golden), the checks the secure defaults
answer passing everywhere, and no critical finding on the hardened PVC example.

kube-score grades each check: 1 is CRITICAL, 5 WARNING, 10 OK. Nothing is ignored: every
check kube-score runs by default, plus the optional seccomp check, counts.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import EXAMPLES, REPO, example_values
from tests.support.kubescore import kube_score

CRITICAL, WARNING, OK = 1, 5, 10
FLAGS = ("--kubernetes-version", "v1.35", "--enable-optional-test", "container-seccomp-profile")
# What the chart's defaults promise for every pod of every example.
SECURE_DEFAULT_CHECKS = ("container-security-context-privileged", "container-seccomp-profile")
START, END = "<!-- kube-score:start -->", "<!-- kube-score:end -->"


@dataclass(frozen=True)
class Finding:
    grade: int
    check: str
    kind: str
    name: str
    summaries: tuple[str, ...]


@pytest.fixture(scope="module")
def binary() -> Path:
    return kube_score()


@pytest.fixture(scope="module")
def findings(binary: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Finding]]:
    where = tmp_path_factory.mktemp("kube-score")
    return {example: list(_score(binary, example, where)) for example in EXAMPLES}


def _score(binary: Path, example: str, where: Path) -> Iterator[Finding]:
    done = CliRunner().invoke(app, ["template", "-f", str(example_values(example))])
    assert done.exit_code == 0, done.output
    manifests = where / f"{example}.yaml"
    manifests.write_text(done.stdout, encoding="utf-8")
    scored = subprocess.run([str(binary), "score", "-o", "json", *FLAGS, str(manifests)],
                            capture_output=True, text=True, timeout=120, check=False)
    # Exit 1 means "critical findings"; anything else is kube-score failing.
    assert scored.returncode in (0, 1), scored.stderr
    report: list[dict[str, Any]] = json.loads(scored.stdout)
    for obj in report:
        for check in obj["checks"]:
            if check["skipped"]:
                continue
            yield Finding(check["grade"], check["check"]["id"], obj["type_meta"]["kind"],
                          obj["object_meta"]["name"],
                          tuple(c["summary"] for c in check["comments"] or ()))


def _failed(found: list[Finding], grade: int) -> list[Finding]:
    return [f for f in found if f.grade == grade]


def test_findings_are_printed_and_recorded(findings: dict[str, list[Finding]],
                                           update_golden: bool) -> None:
    for example, found in findings.items():
        for finding in found:
            if finding.grade < OK:
                label = "CRITICAL" if finding.grade == CRITICAL else "WARNING"
                print(f"{example}: {label} {finding.check} {finding.kind}/{finding.name}: "
                      f"{'; '.join(finding.summaries)}")
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    current = f"{START}\n{_table(findings)}{END}"
    if update_golden:
        pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.DOTALL)
        text = pattern.sub(lambda _: current, text)
        readme.write_text(text, encoding="utf-8")
    assert current in text, "README kube-score table is stale: run with --update-golden"


def _table(findings: dict[str, list[Finding]]) -> str:
    rows = ["| example | critical | warning |", "|---|---|---|"]
    for example, found in findings.items():
        cells = [", ".join(sorted({f"`{f.check}`" for f in _failed(found, grade)})) or "none"
                 for grade in (CRITICAL, WARNING)]
        rows.append(f"| {example} | {cells[0]} | {cells[1]} |")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("example", EXAMPLES)
def test_secure_defaults_pass_in_every_example(
        example: str, findings: dict[str, list[Finding]]) -> None:
    found = findings[example]
    for check in SECURE_DEFAULT_CHECKS:
        graded = [f for f in found if f.check == check]
        assert graded, f"kube-score did not run {check} on {example}"
        assert all(f.grade == OK for f in graded), graded


def test_hardened_example_has_no_critical_finding(findings: dict[str, list[Finding]]) -> None:
    found = findings["hardened"]
    # Every pod kind the example makes was looked at.
    assert {f.kind for f in found} >= {"Deployment", "Job", "NetworkPolicy", "Service"}
    assert _failed(found, CRITICAL) == []


def test_without_the_hardening_switches_kube_score_objects(
        binary: Path, tmp_path: Path) -> None:
    """The checks the hardened example meets are real: switched off, kube-score fails them."""
    off = ["--set", "networkPolicy.enabled=false", "--set", "security.nonRoot=false",
           "--set", "securityContext.readOnlyRootFilesystem=false",
           "--set", "storage.hfCache.mountPath=/root/.cache/huggingface"]
    done = CliRunner().invoke(app, ["template", "-f", str(example_values("hardened")), *off])
    assert done.exit_code == 0, done.output
    manifests = tmp_path / "off.yaml"
    manifests.write_text(done.stdout, encoding="utf-8")
    scored = subprocess.run([str(binary), "score", "-o", "json", *FLAGS, str(manifests)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert scored.returncode == 1, scored.stderr
    critical = {check["check"]["id"] for obj in json.loads(scored.stdout)
                for check in obj["checks"] if check["grade"] == CRITICAL and not check["skipped"]}
    assert critical == {"pod-networkpolicy", "container-security-context-user-group-id",
                        "container-security-context-readonlyrootfilesystem"}
