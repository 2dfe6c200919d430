"""`validate` checks every rendered object against the Kubernetes schema: values the model
accepts (free-form `affinity`, `tolerations`, ...) but the API server would refuse fail it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app

runner = CliRunner()

# Each passes the values model (the keys are free-form objects) and fails only the
# Kubernetes schema: (values, values key, rendered path, what the schema says).
CASES = {
    "misspelt-affinity-field": (
        "affinity:\n"
        "  nodeAffinity:\n"
        "    requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      nodeSelectorTerms:\n"
        "        - matchExpresions:\n"
        "            - {key: gpu, operator: In, values: [a100]}\n",
        "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0]",
        "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        ".nodeSelectorTerms[0]",
        "'matchExpresions' was unexpected",
    ),
    "wrong-type-in-tolerations": (
        "tolerations:\n"
        "  - {key: gpu, operator: Exists, effect: NoSchedule, tolerationSeconds: soon}\n",
        "tolerations[0].tolerationSeconds",
        "spec.template.spec.tolerations[0].tolerationSeconds",
        "'soon' is not of type 'integer'",
    ),
    "unknown-container-security-field": (
        "securityContext:\n  runAsNonRoot: true\n  readOnlyRootFS: true\n",
        "securityContext",
        "spec.template.spec.containers[0].securityContext",
        "'readOnlyRootFS' was unexpected",
    ),
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str, str]:
    text, key, rendered, message = CASES[request.param]
    path = tmp_path / "values.yaml"
    path.write_text(text)
    return str(path), key, rendered, message


def test_model_alone_accepts_the_values(case: tuple[str, str, str, str]) -> None:
    """Only the Kubernetes schema step can catch these: `template` renders them."""
    path, *_ = case
    done = runner.invoke(app, ["template", "-f", path])
    assert done.exit_code == 0, done.output


def test_text_report_names_rendered_path_and_values_key(
    case: tuple[str, str, str, str]
) -> None:
    path, key, rendered, message = case
    done = runner.invoke(app, ["validate", path])
    assert done.exit_code == 1, done.output
    lines = done.stdout.splitlines()
    assert lines[0] == f"FAIL  {path}"
    assert lines[-1] == "0 valid, 1 invalid"
    [problem] = [line for line in lines[1:-1] if message in line]
    assert problem.startswith(f"  {path}: {key}: rendered Deployment/lmf-llama-factory "
                              f"{rendered}: ")
    assert re.search(r"\(Kubernetes \d+\.\d+ schema\)$", problem)


def test_json_report_names_rendered_path_and_values_key(
    case: tuple[str, str, str, str]
) -> None:
    path, key, rendered, message = case
    done = runner.invoke(app, ["validate", "--format", "json", path])
    assert done.exit_code == 1, done.output
    report = json.loads(done.stdout)
    assert report["valid"] is False
    [entry] = report["files"]
    assert (entry["file"], entry["valid"]) == (path, False)
    [error] = [e for e in entry["errors"] if message in e["message"]]
    assert error["file"] == path
    assert error["key"] == key
    assert error["message"].startswith(f"rendered Deployment/lmf-llama-factory {rendered}: ")


def test_github_annotation_names_rendered_path_and_values_key(
    case: tuple[str, str, str, str]
) -> None:
    path, key, rendered, message = case
    done = runner.invoke(app, ["validate", "--format", "github", path])
    assert done.exit_code == 1, done.output
    *annotations, summary = done.stdout.splitlines()
    assert summary == "0 valid, 1 invalid"
    [annotation] = [line for line in annotations if message in line]
    escaped_path = path.replace(":", "%3A").replace(",", "%2C")
    escaped_key = key.replace(":", "%3A").replace(",", "%2C")
    assert annotation.startswith(f"::error file={escaped_path},title={escaped_key}::"
                                 f"{key}: rendered Deployment/lmf-llama-factory {rendered}: ")


def test_older_kubernetes_schema_is_used_when_asked(tmp_path: Path) -> None:
    """A field newer than the chosen Kubernetes version fails only under that version."""
    path = tmp_path / "values.yaml"
    # seLinuxChangePolicy arrived in Kubernetes 1.32: the 1.31 pod spec has no such field.
    path.write_text("podSecurityContext:\n  seLinuxChangePolicy: MountOption\n")
    newest = runner.invoke(app, ["validate", str(path)])
    older = runner.invoke(app, ["validate", "--kube-version", "1.31", str(path)])
    assert newest.exit_code == 0, newest.output
    assert older.exit_code == 1, older.output
    assert "'seLinuxChangePolicy' was unexpected" in older.stdout
    assert "(Kubernetes 1.31 schema)" in older.stdout


PYTORCHJOB_RUN = ("storage:\n"
                  "  output: {type: existingClaim, existingClaim: shared-output}\n"
                  "train:\n"
                  "  kf: {model: Qwen/Qwen3-0.6B, datasets: [identity], nodes: 3, gpus: 2,\n"
                  "       engine: pytorchjob}\n")
CUSTOM_NOTE = ("not checked offline: kubeflow.org/v1 PyTorchJob (custom resources: their "
               "schema comes with their CustomResourceDefinition, which lmfchart does not "
               "ship; the API server checks them at `lmfchart install`, `--dry-run` included)")


@pytest.fixture
def pytorchjob_files(tmp_path: Path) -> list[str]:
    paths = []
    for name in ("a.yaml", "b.yaml"):
        path = tmp_path / name
        path.write_text(PYTORCHJOB_RUN)
        paths.append(str(path))
    return paths


def test_a_pytorchjob_is_noted_once_as_not_checked_offline(pytorchjob_files: list[str]) -> None:
    done = runner.invoke(app, ["validate", *pytorchjob_files])
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [
        f"ok    {pytorchjob_files[0]}", f"ok    {pytorchjob_files[1]}",
        f"note: {CUSTOM_NOTE}", "2 valid, 0 invalid"]


def test_the_note_is_per_file_in_json_and_a_notice_on_github(
        pytorchjob_files: list[str]) -> None:
    done = runner.invoke(app, ["validate", "--format", "json", *pytorchjob_files])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert report["valid"] is True
    assert [f["notes"] for f in report["files"]] == [[CUSTOM_NOTE], [CUSTOM_NOTE]]
    github = runner.invoke(app, ["validate", "--format", "github", *pytorchjob_files])
    assert github.exit_code == 0, github.output
    assert github.stdout.splitlines() == [f"::notice::{CUSTOM_NOTE}", "2 valid, 0 invalid"]


def test_the_objects_beside_a_pytorchjob_are_still_checked(
        tmp_path: Path) -> None:
    """The objects around a custom resource are still checked: a wrong toleration fails
    the web UI's Deployment even though the PyTorchJob carries it unchecked."""
    path = tmp_path / "values.yaml"
    path.write_text(PYTORCHJOB_RUN + "tolerations:\n  - {key: gpu, tolerationSeconds: soon}\n")
    done = runner.invoke(app, ["validate", str(path)])
    assert done.exit_code == 1, done.output
    assert "rendered Deployment/lmf-llama-factory spec.template.spec.tolerations[0]" \
        ".tolerationSeconds: 'soon' is not of type 'integer'" in done.stdout
    assert f"note: {CUSTOM_NOTE}" in done.stdout.splitlines()
