"""Security contexts and the non-root mode, as users set them: the real helm renders the
generated chart exactly as `lmfchart template` does, and every pod the chart makes (web UI,
training Job, PyTorchJob replicas, export Job, API) gets the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart.model.sections.security import NON_ROOT_HOME
from tests.support.charts import by_identity, helm_objects, lmf_objects, render_chart_dir

pytestmark = pytest.mark.helm

MODEL = "Qwen/Qwen2.5-0.5B"
# One pod of every kind the chart makes.
EVERY_POD = {
    "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
    "train": {
        "job": {"model": MODEL, "datasets": ["alpaca_en_demo"], "gpus": 1, "nodes": 2},
        "kf": {"model": MODEL, "datasets": ["alpaca_en_demo"], "gpus": 1, "nodes": 2,
               "engine": "pytorchjob"},
    },
    "export": {"merged": {"model": MODEL, "adapter": "/app/output/train/job"}},
    "api": {"enabled": True, "model": MODEL},
}
NON_ROOT = {"security": {"nonRoot": True},
            "storage": {"hfCache": {"mountPath": f"{NON_ROOT_HOME}/.cache/huggingface"}}}


def _pod_specs(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in objects:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        if obj["kind"] in ("Deployment", "Job"):
            yield name, obj["spec"]["template"]["spec"]
        elif obj["kind"] == "PyTorchJob":
            for role, replica in obj["spec"]["pytorchReplicaSpecs"].items():
                yield f"{name}/{role}", replica["template"]["spec"]


def _both(helm: Path, tmp_path: Path, values: dict[str, Any],
          sets: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """lmfchart's objects, after checking that helm renders the same from the chart."""
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    ours = lmf_objects("lmf", "ml", files=[str(path)], sets=sets)
    chart = render_chart_dir(tmp_path / "chart", files=[str(path)])
    extra = [arg for s in sets for arg in ("--set", s)]
    theirs = helm_objects(helm, chart, "lmf", "ml", extra=extra)
    assert by_identity(theirs) == by_identity(ours)
    return ours


def test_every_pod_gets_the_secure_defaults(helm: Path, tmp_path: Path) -> None:
    pods = dict(_pod_specs(_both(helm, tmp_path, EVERY_POD)))
    assert len(pods) == 6  # web UI, API, Job, PyTorchJob master and worker, export
    for name, pod in pods.items():
        assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}, name
        assert pod["automountServiceAccountToken"] is False, name
        [container] = pod["containers"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}, name


@pytest.mark.parametrize(("sets", "pod_context", "container_context"), [
    # A key of one's own merges over the defaults.
    (("securityContext.readOnlyRootFilesystem=true",),
     {"seccompProfile": {"type": "RuntimeDefault"}},
     {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
      "readOnlyRootFilesystem": True}),
    # null removes a default key, as for any Helm value.
    (("securityContext.capabilities=null", "podSecurityContext.seccompProfile=null"),
     None, {"allowPrivilegeEscalation": False}),
    (("podSecurityContext.seccompProfile.type=Localhost",
      "podSecurityContext.seccompProfile.localhostProfile=profiles/gradio.json"),
     {"seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/gradio.json"}},
     {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}),
], ids=["add-a-key", "remove-defaults", "change-seccomp"])
def test_users_override_the_defaults_like_helm(
        sets: tuple[str, ...], pod_context: dict[str, Any] | None,
        container_context: dict[str, Any], helm: Path, tmp_path: Path) -> None:
    for name, pod in _pod_specs(_both(helm, tmp_path, EVERY_POD, sets)):
        assert pod.get("securityContext") == pod_context, name
        assert pod["containers"][0]["securityContext"] == container_context, name


def test_non_root_mode_reaches_every_pod(helm: Path, tmp_path: Path) -> None:
    values = {**EVERY_POD, **NON_ROOT, "storage": {**EVERY_POD["storage"], **NON_ROOT["storage"]}}
    pods = dict(_pod_specs(_both(helm, tmp_path, values)))
    assert len(pods) == 6
    for name, pod in pods.items():
        assert pod["securityContext"] == {
            "runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"}}, name
        [container] = pod["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["HOME"] == NON_ROOT_HOME, name
        scratch = {m["mountPath"]: m["subPath"] for m in container["volumeMounts"]
                   if m["name"] == "scratch"}
        assert scratch == {NON_ROOT_HOME: "home", "/tmp": "tmp",
                           "/app/llamaboard_cache": "llamaboard-cache",
                           "/app/llamaboard_config": "llamaboard-config"}, name
        assert {"name": "scratch", "emptyDir": {}} in pod["volumes"], name
        mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
        assert mounts["hf-cache"] == f"{NON_ROOT_HOME}/.cache/huggingface", name


def test_non_root_ids_come_from_values(helm: Path, tmp_path: Path) -> None:
    sets = ("security.runAsUser=2000", "security.runAsGroup=3000")
    for name, pod in _pod_specs(_both(helm, tmp_path, NON_ROOT, sets)):
        context = pod["securityContext"]
        assert (context["runAsUser"], context["runAsGroup"], context["fsGroup"]) == (
            2000, 3000, 3000), name


def test_switching_non_root_on_replaces_the_training_job(tmp_path: Path) -> None:
    """Jobs are immutable: a run whose pods change user must get a new Job name."""
    run = {"storage": EVERY_POD["storage"], "train": {"job": EVERY_POD["train"]["job"]}}
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(run))
    sets = ("security.nonRoot=true", f"storage.hfCache.mountPath={NON_ROOT_HOME}/hf")

    def job_names(*extra: str) -> set[str]:
        return {o["metadata"]["name"] for o in lmf_objects("lmf", "ml", files=[str(path)],
                                                           sets=extra) if o["kind"] == "Job"}

    before, after = job_names(), job_names(*sets)
    assert len(before) == len(after) == 1 and before != after
