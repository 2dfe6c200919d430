"""`validate --pod-security LEVEL` warns and `--pod-security-enforce LEVEL` fails, in every
report format, naming the key to change; tests/e2e/test_pod_security.py proves the
verdicts against the API server's PodSecurity admission."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import REPO, example_values
from tests.support.podsecurity import verdicts_table

runner = CliRunner()
SEED = str(example_values("seed"))
# The seed's Ingress off: its missing login would be a warning of its own.
HOST_FOLDERS = "volume:\n  data: /srv/datasets\ningress:\n  enable: false\n"


def _validate(*args: str) -> Any:
    result = runner.invoke(app, ["validate", *args])
    assert "Traceback" not in result.output, result.output
    return result


def _host_folders(tmp_path: Path) -> str:
    path = tmp_path / "host-folders.yaml"
    path.write_text(HOST_FOLDERS)
    return str(path)


def test_seed_values_with_host_folders_pass_baseline_with_a_warning(tmp_path: Path) -> None:
    overlay = _host_folders(tmp_path)
    result = _validate("--pod-security", "baseline", "-f", SEED, overlay)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"ok    {overlay}"
    # Located where the user set it, in the seed layout's words.
    assert lines[1] == (
        f"  warning: {overlay}:2: volume.data: Deployment/lmf-llama-factory spec.template "
        'breaks Pod Security "baseline": hostPath volumes (volume "data"); '
        "fix: storage.data.type: pvc or existingClaim instead of hostPath")
    assert lines[-1] == "1 valid, 0 invalid, 1 with warnings"


def test_enforced_level_makes_the_file_invalid(tmp_path: Path) -> None:
    overlay = _host_folders(tmp_path)
    result = _validate("--pod-security-enforce", "baseline", "-f", SEED, overlay)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == f"FAIL  {overlay}"
    assert f"  {overlay}:2: volume.data: Deployment/lmf-llama-factory" in result.stdout
    assert "warning:" not in result.stdout
    assert result.stdout.endswith("0 valid, 1 invalid\n")


def test_values_that_meet_the_level_say_nothing() -> None:
    plain = _validate("--pod-security", "baseline", SEED, "--set", "ingress.enable=false")
    assert (plain.exit_code, plain.stdout) == (0, f"ok    {SEED}\n1 valid, 0 invalid\n")
    restricted = _validate(
        "--pod-security-enforce", "restricted", SEED, "--set", "ingress.enable=false",
        "--set-json", 'securityContext={"allowPrivilegeEscalation":false,'
        '"capabilities":{"drop":["ALL"]}}',
        "--set-json", 'podSecurityContext={"runAsNonRoot":true,"runAsUser":1000,'
        '"seccompProfile":{"type":"RuntimeDefault"}}')
    assert restricted.exit_code == 0, restricted.output
    assert "warning" not in restricted.stdout


def test_without_the_option_nothing_is_checked() -> None:
    hostpath = str(example_values("cpu-hostpath"))
    result = _validate(hostpath)
    assert (result.exit_code, result.stdout) == (0, f"ok    {hostpath}\n1 valid, 0 invalid\n")


def test_json_report_has_errors_and_warnings_apart() -> None:
    hostpath = str(example_values("cpu-hostpath"))
    result = _validate("--format", "json", "--pod-security-enforce", "baseline",
                       "--pod-security", "restricted", hostpath)
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)["files"]
    errors = {(e["key"], e["line"]) for e in report["errors"]}
    # cpu-hostpath sets storage.*.type on these lines.
    assert errors == {("storage.hfCache.type", 13), ("storage.data.type", 16),
                      ("storage.saves.type", 20), ("storage.output.type", 23)}
    assert all('Pod Security "baseline": hostPath volumes' in e["message"]
               for e in report["errors"])
    # The volumes restricted also refuses are said once, as the enforced level's errors.
    warned = [w["key"] for w in report["warnings"]]
    # The chart's secure defaults meet the rest of restricted; root is the image's user.
    assert warned == ["security.nonRoot"]
    assert all(w["file"] == hostpath and w["line"] is None for w in report["warnings"])


def test_github_annotations_are_errors_and_warnings() -> None:
    hostpath = str(example_values("cpu-hostpath"))
    result = _validate("--format", "github", "--pod-security-enforce", "baseline",
                       "--pod-security", "restricted", hostpath)
    assert result.exit_code == 1
    kinds = [re.match(r"::(\w+) ", line)[1] for line in result.stdout.splitlines()  # type: ignore[index]
             if line.startswith("::")]
    assert kinds == ["error"] * 4 + ["warning"]
    assert (f"::error file={hostpath},line=20,title=storage.saves.type::storage.saves.type: "
            "Deployment/lmf-llama-factory spec.template breaks Pod Security") in result.stdout
    assert (f"::warning file={hostpath},title=security.nonRoot::"
            "security.nonRoot: ") in result.stdout


def test_every_pod_template_is_judged() -> None:
    """A Job and each replica of a PyTorchJob run pods too: each one is reported."""
    tuning = str(example_values("fine-tuning"))
    result = _validate("--format", "json", "--pod-security", "restricted", tuning,
                       "--set", "train.yi-agent-2x2.engine=pytorchjob")
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)["files"]
    pods = {w["message"].split(" breaks ")[0] for w in report["warnings"]}
    assert {re.sub(r"-[0-9a-f]{8}\b", "", p) for p in pods} == {
        "Deployment/lmf-llama-factory spec.template",
        "Deployment/lmf-llama-factory-api spec.template",
        "Job/lmf-llama-factory-train-yi-agent spec.template",
        "Job/lmf-llama-factory-export-yi-agent-6b spec.template",
        "PyTorchJob/lmf-llama-factory-train-yi-agent-2x2 "
        "spec.pytorchReplicaSpecs.Master.template",
        "PyTorchJob/lmf-llama-factory-train-yi-agent-2x2 "
        "spec.pytorchReplicaSpecs.Worker.template",
    }


def test_unknown_level_is_a_usage_error() -> None:
    result = _validate("--pod-security", "strict", SEED)
    assert result.exit_code == 2
    assert "'strict' is not one of" in " ".join(result.output.split())


def test_readme_table_is_current() -> None:
    """The README's per-example verdicts are lmfchart's (which the e2e test holds equal to
    the API server's); refresh with `python -m tests.support.podsecurity`."""
    assert verdicts_table() in (REPO / "README.md").read_text()
