"""`lmfchart train` and `lmfchart export` against a real API server: each launch upgrades
the release with the run added, the server stores the Jobs (and an Indexed Job's headless
Service) as the chart renders them, and the real helm 4 and helm 3 read the runs back from
the release's values. The test control plane runs no Job controller: Jobs stay as created,
so the tests assert on the objects."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.charts import render_chart_dir

from .cluster import Cluster
from .commands import get, helm_history, helm_run, lmfchart, records

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

MODEL = "/root/.cache/huggingface/models/Qwen3-0.6B"


def run_objects(cluster: Cluster, namespace: str, what: str,
                component: str = "train") -> dict[str, dict[str, Any]]:
    """Run name -> its object of kind WHAT (jobs, configmaps, services) in NAMESPACE."""
    found = {}
    for obj in get(cluster, what, namespace)["items"]:
        labels = obj["metadata"].get("labels") or {}
        if labels.get("app.kubernetes.io/component") == component:
            found[labels["llama-factory/run"]] = obj
    return found


def versions(cluster: Cluster, namespace: str) -> dict[str, str]:
    listed = get(cluster, "jobs,configmaps,services,deployments,secrets", namespace)
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
            for o in listed["items"]}


# Results on a volume that outlives the pods, shared by the nodes of a multi-node run.
SHARED_OUTPUT = ("--set", "storage.output.type=pvc",
                 "--set", "storage.output.accessModes={ReadWriteMany}")


def helm_values(helm: Path, cluster: Cluster, namespace: str) -> Any:
    shown = helm_run(helm, cluster, "get", "values", "lmf", "-n", namespace, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    return json.loads(shown.stdout)


def test_runs_join_the_release_one_launch_at_a_time(
    cluster: Cluster, namespace: str, helm4: Path, helm3: Path,
) -> None:
    first = lmfchart(cluster, "train", "first", "-n", namespace, *SHARED_OUTPUT, "--model",
                     MODEL, "--method", "lora", "--dataset", "alpaca_en_demo", "--max-steps", "5")
    assert first.exit_code == 0, first.output
    assert f"release lmf in namespace {namespace} installed: revision 1" in first.stdout
    [first_job] = run_objects(cluster, namespace, "jobs").values()
    assert f"train run first: created Job/{first_job['metadata']['name']}" in first.stdout
    container = first_job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["llamafactory-cli", "train", "/config/train.yaml"]
    config = yaml.safe_load(
        run_objects(cluster, namespace, "configmaps")["first"]["data"]["train.yaml"])
    assert (config["model_name_or_path"], config["max_steps"]) == (MODEL, 5)

    other = lmfchart(cluster, "train", "other", "-n", namespace, "--model", MODEL,
                     "--method", "full", "--dataset", "identity", "--nodes", "2")
    assert other.exit_code == 0, other.output
    assert f"release lmf in namespace {namespace} upgraded: revision 2" in other.stdout
    jobs = run_objects(cluster, namespace, "jobs")
    assert jobs["first"]["metadata"]["uid"] == first_job["metadata"]["uid"]
    assert (jobs["other"]["spec"]["completionMode"], jobs["other"]["spec"]["completions"]) == (
        "Indexed", 2)
    service = run_objects(cluster, namespace, "services")["other"]
    assert (service["metadata"]["name"], service["spec"]["clusterIP"]) == (
        jobs["other"]["metadata"]["name"], "None")

    exported = lmfchart(cluster, "export", "-n", namespace, "--model", MODEL,
                        "--adapter", "/app/output/train/first")
    assert exported.exit_code == 0, exported.output
    [export_job] = run_objects(cluster, namespace, "jobs", "export").values()
    assert export_job["metadata"]["labels"]["llama-factory/run"] == "first"
    assert export_job["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "llamafactory-cli", "export", "/config/export.yaml"]
    assert {name: job["metadata"]["uid"] for name, job in
            run_objects(cluster, namespace, "jobs").items()} == {
        name: job["metadata"]["uid"] for name, job in jobs.items()}

    expected = {
        "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
        "train": {
            "first": {"model": MODEL, "method": "lora", "datasets": ["alpaca_en_demo"],
                      "maxSteps": 5},
            "other": {"model": MODEL, "method": "full", "datasets": ["identity"], "nodes": 2},
        },
        "export": {"first": {"model": MODEL, "adapter": "/app/output/train/first"}},
    }
    assert helm_values(helm4, cluster, namespace) == expected
    assert helm_values(helm3, cluster, namespace) == expected
    assert helm_history(helm4, cluster, namespace) == [
        (1, "superseded", "Install complete"), (2, "superseded", "Upgrade complete"),
        (3, "deployed", "Upgrade complete")]


def test_a_changed_run_replaces_its_job(cluster: Cluster, namespace: str) -> None:
    args = ("train", "r", "-n", namespace, *SHARED_OUTPUT, "--model", MODEL, "--method", "lora",
            "--dataset", "alpaca_en_demo")
    assert lmfchart(cluster, *args, "--epochs", "1").exit_code == 0
    old = run_objects(cluster, namespace, "jobs")["r"]["metadata"]["name"]

    changed = lmfchart(cluster, *args, "--epochs", "2")

    assert changed.exit_code == 0, changed.output
    new = run_objects(cluster, namespace, "jobs")["r"]["metadata"]["name"]
    assert f"train run r: Job/{new} replaced Job/{old}" in changed.stdout
    assert f"Job/{old}: pruned" in changed.stdout
    names = cluster.kubectl("get", "jobs", "-n", namespace, "-o", "name").stdout.split()
    assert names == [f"job.batch/{new}"]


def test_dry_run_creates_nothing(cluster: Cluster, namespace: str) -> None:
    args = ("-n", namespace, *SHARED_OUTPUT, "--model", MODEL, "--method", "lora", "--dataset",
            "identity")
    assert lmfchart(cluster, "train", "first", *args).exit_code == 0
    before = versions(cluster, namespace)

    planned = lmfchart(cluster, "train", "second", *args, "--gpus", "2", "--dry-run")

    assert planned.exit_code == 0, planned.output
    assert "train run second: would create Job/lmf-llama-factory-train-second-" in (
        planned.stdout)
    assert "unchanged     Job/lmf-llama-factory-train-first-" in planned.stdout
    assert versions(cluster, namespace) == before
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "deployed"}


def test_install_reuse_values_keeps_the_runs_as_helm_does(
    cluster: Cluster, namespace: str, helm4: Path, tmp_path: Path,
) -> None:
    """`install --reuse-values` merges over the release's values, runs included; helm 4's
    `upgrade --reuse-values` of the same chart with the same flag stores the same values."""
    assert lmfchart(cluster, "train", "first", "-n", namespace, *SHARED_OUTPUT, "--model",
                    MODEL, "--method", "lora", "--dataset", "identity").exit_code == 0
    job = run_objects(cluster, namespace, "jobs")["first"]
    serve = ("--set", "api.enabled=true", "--set", f"api.model={MODEL}")

    reused = lmfchart(cluster, "install", "-n", namespace, "--reuse-values", *serve)

    assert reused.exit_code == 0, reused.output
    assert run_objects(cluster, namespace, "jobs")["first"]["metadata"]["uid"] == (
        job["metadata"]["uid"])
    ours = helm_values(helm4, cluster, namespace)
    assert ours["train"]["first"]["model"] == MODEL and ours["api"]["enabled"] is True
    chart = render_chart_dir(tmp_path / "chart")
    upgraded = helm_run(helm4, cluster, "upgrade", "lmf", str(chart), "-n", namespace,
                        "--reuse-values", *serve)
    assert upgraded.returncode == 0, upgraded.stderr
    assert helm_values(helm4, cluster, namespace) == ours
    assert run_objects(cluster, namespace, "jobs")["first"]["metadata"]["uid"] == (
        job["metadata"]["uid"])
