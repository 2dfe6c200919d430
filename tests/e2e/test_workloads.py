"""Train runs, exports and the API server installed into the real control plane (with the
Kubeflow PyTorchJob CRD), read back from the API server as it stored them.

The control plane runs the Job and Deployment controllers but no kubelet and no
scheduler: Jobs create their pods, which stay Pending; the test writes a ready status for
the Deployments' pods when it needs them ready, as a kubelet would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .cluster import Cluster, wait_for
from .commands import get, lmfchart

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

F = "lmf-llama-factory"
MODEL = "/root/.cache/huggingface/models/Yi-6B"
# Like examples/fine-tuning, on host folders (no volume provisioner runs here).
VALUES = {
    "hub": {"offline": True},
    "storage": {"output": {"type": "hostPath", "hostPath": "/srv/llama-factory/output"},
                "hfCache": {"type": "hostPath", "hostPath": "/srv/llama-factory/hf-cache"}},
    "train": {
        "single": {"model": MODEL, "datasets": ["alpaca_en_demo"], "template": "yi",
                   "epochs": 3, "gpus": 2},
        "multi": {"model": MODEL, "datasets": ["alpaca_en_demo"], "template": "yi",
                  "gpus": 2, "nodes": 2},
        "kf": {"model": MODEL, "datasets": ["alpaca_en_demo"], "template": "yi",
               "gpus": 1, "nodes": 3, "engine": "pytorchjob"},
    },
    "export": {"merged": {"model": MODEL, "adapter": "/app/output/train/single",
                          "template": "yi"}},
    "api": {"enabled": True, "model": "/app/output/models/merged", "template": "yi",
            "modelName": "merged", "apiKeySecret": {"name": "api-key"}, "gpus": 1},
}
INDEX = "metadata.annotations['batch.kubernetes.io/job-completion-index']"


@pytest.fixture
def values_file(tmp_path: Path) -> str:
    path = tmp_path / "workloads.yaml"
    path.write_text(yaml.safe_dump(VALUES))
    return str(path)


def jobs(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    """The namespace's Jobs by run name (label llama-factory/run)."""
    return {job["metadata"]["labels"]["llama-factory/run"]: job
            for job in get(cluster, "jobs", namespace)["items"]}


def container(workload: dict[str, Any]) -> dict[str, Any]:
    """The one container of a Job's, Deployment's or PyTorchJob replica's pod template."""
    template = workload["template"] if "template" in workload else workload["spec"]["template"]
    [found] = template["spec"]["containers"]
    return found


def env(found: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in found["env"]}


def mounts(found: dict[str, Any]) -> dict[str, str]:
    return {item["name"]: item["mountPath"] for item in found["volumeMounts"]}


def install(cluster: Cluster, namespace: str, values_file: str, *extra: str) -> Any:
    done = lmfchart(cluster, "install", "-n", namespace, "-f", values_file, *extra)
    assert done.exit_code == 0, done.output
    return done


def test_workloads_as_the_api_server_stored_them(
        cluster: Cluster, kubeflow_crds: dict[str, Any], namespace: str,
        values_file: str) -> None:
    done = install(cluster, namespace, values_file)
    stored = jobs(cluster, namespace)
    assert sorted(stored) == ["merged", "multi", "single"]
    assert f"Job/{stored['single']['metadata']['name']}: created" in done.stdout
    web_mounts = mounts(container(get(cluster, f"deployment/{F}", namespace)))
    assert_single_node_run(cluster, namespace, stored["single"], web_mounts)
    assert_indexed_run(cluster, namespace, stored["multi"])
    assert_pytorchjob(cluster, namespace, web_mounts)
    assert_export_and_api(cluster, namespace, stored["merged"])
    # Never the web UI's pods behind the web UI's Service.
    web_selector = get(cluster, f"service/{F}", namespace)["spec"]["selector"]
    for workload in (*stored.values(), get(cluster, f"deployment/{F}-api", namespace)):
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert not web_selector.items() <= labels.items()


def assert_single_node_run(cluster: Cluster, namespace: str, single: dict[str, Any],
                           web_mounts: dict[str, str]) -> None:
    """One node, two GPUs: torchrun on the node, no rendezvous across nodes."""
    name = single["metadata"]["name"]
    assert name.startswith(f"{F}-train-single-") and len(name) == len(f"{F}-train-single-") + 8
    pod = single["spec"]["template"]["spec"]
    main = container(single)
    assert main["command"] == ["llamafactory-cli", "train", "/config/train.yaml"]
    assert {k: v for k, v in env(main).items() if k in (
        "FORCE_TORCHRUN", "NPROC_PER_NODE", "NNODES", "MASTER_ADDR", "HF_HUB_OFFLINE")} == {
        "FORCE_TORCHRUN": "1", "NPROC_PER_NODE": "2", "HF_HUB_OFFLINE": "1"}
    assert main["resources"]["limits"]["nvidia.com/gpu"] == "2"
    assert pod["restartPolicy"] == "Never"
    assert single["spec"]["completionMode"] == "NonIndexed"  # the server's default
    # The web UI's volumes at the web UI's paths, plus the run's config.
    assert mounts(main) == {**web_mounts, "config": "/config"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["config"]["configMap"]["name"] == f"{F}-train-single"
    assert volumes["dshm"]["emptyDir"]["medium"] == "Memory"
    assert volumes["output"]["hostPath"]["path"] == "/srv/llama-factory/output"
    config = get(cluster, f"configmap/{F}-train-single", namespace)["data"]["train.yaml"]
    assert yaml.safe_load(config)["model_name_or_path"] == MODEL


def assert_indexed_run(cluster: Cluster, namespace: str, multi: dict[str, Any]) -> None:
    """Two nodes: an Indexed Job; each pod's rank is its completion index."""
    job = multi["metadata"]["name"]
    spec = multi["spec"]
    assert (spec["completionMode"], spec["completions"], spec["parallelism"]) == (
        "Indexed", 2, 2)
    assert spec["template"]["spec"]["subdomain"] == job
    variables = env(container(multi))
    assert {k: variables[k] for k in ("FORCE_TORCHRUN", "NNODES", "NPROC_PER_NODE",
                                      "MASTER_ADDR", "MASTER_PORT")} == {
        "FORCE_TORCHRUN": "1", "NNODES": "2", "NPROC_PER_NODE": "2",
        "MASTER_ADDR": f"{job}-0.{job}.{namespace}.svc", "MASTER_PORT": "29500"}
    assert variables["NODE_RANK"] == variables["RANK"] == {
        "fieldRef": {"apiVersion": "v1", "fieldPath": INDEX}}
    service = get(cluster, f"service/{job}", namespace)
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("torch", 29500)]
    # The Job controller's pods: hostname <job>-<index> under the Service's subdomain, so
    # pod 0 is MASTER_ADDR; the annotation the ranks read is there.
    selector = ",".join(f"{k}={v}" for k, v in service["spec"]["selector"].items())

    pods = wait_for("the Indexed Job's 2 pods", lambda: _pods(cluster, namespace, selector, 2))
    by_index = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
                for p in pods}
    assert sorted(by_index) == ["0", "1"]
    for index, found in by_index.items():
        assert (found["spec"]["hostname"], found["spec"]["subdomain"]) == (f"{job}-{index}",
                                                                           job)


def assert_pytorchjob(cluster: Cluster, namespace: str, web_mounts: dict[str, str]) -> None:
    """Kubeflow: the PyTorchJob as the server stored it (checked by the CRD's schema)."""
    [pytorchjob] = get(cluster, "pytorchjobs.kubeflow.org", namespace)["items"]
    assert pytorchjob["metadata"]["name"].startswith(f"{F}-train-kf-")
    replicas = pytorchjob["spec"]["pytorchReplicaSpecs"]
    assert {role: r["replicas"] for role, r in replicas.items()} == {"Master": 1, "Worker": 2}
    assert pytorchjob["spec"]["nprocPerNode"] == "1"
    for replica in replicas.values():
        assert replica["restartPolicy"] == "Never"
        main = container(replica)
        assert main["name"] == "pytorch"
        assert main["command"][:2] == ["sh", "-c"]
        assert 'NNODES="$PET_NNODES"' in main["command"][2]
        assert 'NODE_RANK="$PET_NODE_RANK"' in main["command"][2]
        assert main["command"][2].endswith("exec llamafactory-cli train /config/train.yaml")
        assert [(p["name"], p["containerPort"]) for p in main["ports"]] == [
            ("pytorchjob-port", 29500)]
        # Stored as written: the CRD's schema keeps quantities int-or-string.
        assert main["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert mounts(main) == {**web_mounts, "config": "/config"}


def assert_export_and_api(cluster: Cluster, namespace: str, merged: dict[str, Any]) -> None:
    export = container(merged)
    assert export["command"] == ["llamafactory-cli", "export", "/config/export.yaml"]
    assert "nvidia.com/gpu" not in (export.get("resources") or {}).get("limits", {})
    assert yaml.safe_load(get(cluster, f"configmap/{F}-export-merged", namespace)["data"][
        "export.yaml"])["adapter_name_or_path"] == "/app/output/train/single"

    api = get(cluster, f"deployment/{F}-api", namespace)
    serving = container(api)
    assert serving["command"] == ["llamafactory-cli", "api", "/config/api.yaml"]
    assert [(p["name"], p["containerPort"]) for p in serving["ports"]] == [("api", 8000)]
    assert serving["readinessProbe"]["tcpSocket"]["port"] == "api"
    assert env(serving)["API_KEY"] == {"secretKeyRef": {"name": "api-key", "key": "API_KEY"}}
    assert env(serving)["API_MODEL_NAME"] == "merged"
    assert serving["resources"]["limits"]["nvidia.com/gpu"] == "1"
    api_service = get(cluster, f"service/{F}-api", namespace)
    assert [(p["port"], p["targetPort"]) for p in api_service["spec"]["ports"]] == [
        (8000, "api")]


def _pods(cluster: Cluster, namespace: str, selector: str,
          count: int) -> list[dict[str, Any]] | None:
    found: list[dict[str, Any]] = json.loads(cluster.kubectl(
        "get", "pods", "-n", namespace, "-l", selector, "-o", "json").stdout)["items"]
    return found if len(found) == count else None
