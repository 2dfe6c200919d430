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

from lmfchart.release.hooks import is_hook
from tests.support.charts import lmf_objects, render_chart_dir

from .cluster import Cluster, make_deployment_ready, wait_for
from .commands import get, helm_run, lmfchart, records, start_lmfchart

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

F = "lmf-llama-factory"
MODEL = "/root/.cache/huggingface/models/Yi-6B"
# Like examples/fine-tuning; the nodes share an existing claim (no volume provisioner runs
# here: a claim of the chart would stay Pending).
VALUES = {
    "hub": {"offline": True},
    "storage": {"output": {"type": "existingClaim", "existingClaim": "shared-output"},
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


@pytest.mark.usefixtures("kubeflow_crds")
def test_workloads_as_the_api_server_stored_them(
        cluster: Cluster, namespace: str, values_file: str) -> None:
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
    assert volumes["output"]["persistentVolumeClaim"]["claimName"] == "shared-output"
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


def rendered_name(namespace: str, values_file: str, run: str, kind: str = "Job",
                  *sets: str) -> str:
    """The name `lmfchart template` gives run RUN's KIND for these values."""
    [job] = [o for o in lmf_objects("lmf", namespace, files=[values_file], sets=list(sets))
             if o["kind"] == kind and o["metadata"]["labels"]["llama-factory/run"] == run]
    name: str = job["metadata"]["name"]
    return name


def uids(cluster: Cluster, namespace: str) -> dict[str, str]:
    """Every Job's and PyTorchJob's name -> uid."""
    listed = get(cluster, "jobs,pytorchjobs.kubeflow.org", namespace)["items"]
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["uid"] for o in listed}


def gone(cluster: Cluster, what: str, namespace: str) -> bool:
    found = cluster.kubectl("get", what, "-n", namespace, "--ignore-not-found", "-o", "name")
    return found.stdout.strip() == ""


@pytest.mark.usefixtures("kubeflow_crds")
def test_a_changed_run_is_a_new_job_and_the_old_one_is_pruned(
        cluster: Cluster, namespace: str,
        values_file: str) -> None:
    # The server dry-runs every object, the PyTorchJob against its CRD, and stores none.
    planned = install(cluster, namespace, values_file, "--dry-run")
    pytorchjob = rendered_name(namespace, values_file, "kf", "PyTorchJob")
    assert f"  would create  PyTorchJob/{pytorchjob}" in planned.stdout.splitlines()
    assert uids(cluster, namespace) == {}
    install(cluster, namespace, values_file)
    first = uids(cluster, namespace)
    assert len(first) == 4
    # What the server defaulted in the Jobs and the PyTorchJob is no change.
    unchanged = lmfchart(cluster, "diff", "-n", namespace, "-f", values_file)
    assert unchanged.exit_code == 0, unchanged.output

    again = install(cluster, namespace, values_file)
    assert f"no changes: release lmf in namespace {namespace} stays at revision 1" in (
        again.stdout)
    assert uids(cluster, namespace) == first  # the same Jobs, not re-created

    old = rendered_name(namespace, values_file, "single")
    new = rendered_name(namespace, values_file, "single", "Job", "train.single.epochs=5")
    assert new != old
    upgraded = install(cluster, namespace, values_file, "--set", "train.single.epochs=5")
    assert f"Job/{new}: created" in upgraded.stdout
    assert f"Job/{old}: pruned" in upgraded.stdout
    assert gone(cluster, f"job/{old}", namespace)
    after = uids(cluster, namespace)
    assert {k: v for k, v in after.items() if k != f"Job/{new}"} == {
        k: v for k, v in first.items() if k != f"Job/{old}"}, "other runs were re-created"
    config = get(cluster, f"configmap/{F}-train-single", namespace)["data"]["train.yaml"]
    assert yaml.safe_load(config)["num_train_epochs"] == 5.0


@pytest.mark.usefixtures("kubeflow_crds")
def test_helm_upgrades_a_changed_run_without_an_immutable_field_error(
        helm: Path, cluster: Cluster, namespace: str,
        values_file: str, tmp_path: Path) -> None:
    install(cluster, namespace, values_file)
    first = uids(cluster, namespace)
    old = rendered_name(namespace, values_file, "single")
    new = rendered_name(namespace, values_file, "single", "Job", "train.single.epochs=7")
    chart = render_chart_dir(tmp_path / "chart", files=[values_file])
    done = helm_run(helm, cluster, "upgrade", "lmf", str(chart), "-n", namespace,
                    "--set", "train.single.epochs=7")
    assert done.returncode == 0, done.stderr
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "superseded",
                                           "sh.helm.release.v1.lmf.v2": "deployed"}
    # helm computed the same content hash as lmfchart, and pruned the old Job.
    assert jobs(cluster, namespace)["single"]["metadata"]["name"] == new
    assert gone(cluster, f"job/{old}", namespace)
    after = uids(cluster, namespace)
    assert {k: v for k, v in after.items() if k != f"Job/{new}"} == {
        k: v for k, v in first.items() if k != f"Job/{old}"}
    # And lmfchart takes the release back from helm, the Jobs as they are (helm 3 wrote
    # them client-side: their fields move to lmfchart's apply, an allowed change).
    back = install(cluster, namespace, values_file, "--set", "train.single.epochs=7")
    assert f"Job/{new}: failed" not in back.stdout
    assert uids(cluster, namespace) == after


@pytest.mark.usefixtures("kubeflow_crds")
def test_install_wait_waits_for_deployments_not_for_runs_and_status_shows_the_runs(
        cluster: Cluster, namespace: str, values_file: str,
        api_client: Any) -> None:
    from kubernetes import client

    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    rendered = lmf_objects("lmf", namespace, files=[values_file])
    waited = [o for o in rendered
              if o["kind"] not in ("Job", "PyTorchJob") and not is_hook(o)]
    started = start_lmfchart(cluster, "install", "-n", namespace, "-f", values_file,
                             "--wait", "--timeout", "2m")
    try:
        for name in (F, f"{F}-api"):
            wait_for(f"deployment {name}", lambda name=name: bool(
                apps.list_namespaced_deployment(
                    namespace, field_selector=f"metadata.name={name}").items))
            make_deployment_ready(core, apps, name, namespace)
        out, err = started.communicate(timeout=120)
    finally:
        started.kill()
    assert started.returncode == 0, out + err
    lines = out.splitlines()
    assert f"waiting up to 2m0s for {len(waited)} objects to be ready" in lines
    assert any(line.startswith(f"all {len(waited)} objects ready after ") for line in lines)
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "deployed"}

    shown = lmfchart(cluster, "status", "-n", namespace, "-o", "json")
    assert shown.exit_code == 0, shown.output
    states = {(o["kind"], o["name"]): (o["state"], o["message"])
              for o in json.loads(shown.stdout)["objects"]}
    runs = {key: value for key, value in states.items() if key[0] in ("Job", "PyTorchJob")}
    print(json.dumps({f"{k[0]}/{k[1]}": v for k, v in runs.items()}, indent=1))
    assert len(runs) == 4
    # The Job controller started them; no kubelet runs their pods.
    for (kind, name), (state, message) in runs.items():
        assert state == "InProgress", (name, message)
        if kind == "Job":
            assert message.startswith("running: 0/"), message
        else:
            assert message == "not started: no training operator has taken it up yet"


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["install", "dry-run"])
def test_install_without_the_crd_names_the_run_and_writes_nothing(
        cluster: Cluster, without_kubeflow_crds: None, namespace: str, values_file: str,
        dry_run: list[str]) -> None:
    done = lmfchart(cluster, "install", "-n", namespace, "-f", values_file, *dry_run)
    assert done.exit_code == 5, done.output
    [job] = [o["metadata"]["name"] for o in lmf_objects("lmf", namespace, files=[values_file])
             if o["kind"] == "PyTorchJob"]
    assert (f"release lmf in namespace {namespace}: the cluster does not serve 1 kind the "
            "release needs; nothing was changed:\n"
            f"  train run kf (PyTorchJob/{job}): kubeflow.org/v1 PyTorchJob is not served: "
            "install the Kubeflow training operator (its CRDs serve kubeflow.org/v1 "
            "PyTorchJob) or set train.kf.engine: job (`lmfchart train --engine job`)") in (
        done.output)
    assert records(cluster, namespace) == {}
    left = get(cluster, "all,configmaps,leases", namespace)["items"]
    assert [o["metadata"]["name"] for o in left] == ["kube-root-ca.crt"]
