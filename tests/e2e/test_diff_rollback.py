"""`lmfchart diff`, `lmfchart rollback` and `install --rollback-on-failure` against a real API
server, with the real helm 4 and helm 3 binaries reading (and rolling back) what they leave.

Each test asserts the cluster's state (objects, uids, record Secrets), read with kubectl or
helm, not only what lmfchart prints.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import example_values

from .cluster import Cluster
from .commands import (
    get,
    helm_history,
    helm_install_rendered,
    helm_run,
    lmfchart,
    records,
)

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

SEED = str(example_values("seed"))
DEPLOYMENT = "deployment/lmf-llama-factory"
IMAGE = "kubeagi/llama-factory"
# Passes every check lmfchart and the schema make; only the API server refuses it.
REFUSED_TOLERATION = 'tolerations=[{"key":"a","operator":"Exists","value":"x"}]'


def image(cluster: Cluster, namespace: str) -> str:
    deployment = get(cluster, DEPLOYMENT, namespace)
    found: str = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    return found


def release_objects(cluster: Cluster, namespace: str) -> dict[str, dict[str, Any]]:
    """The kinds the chart makes (not the records), by KIND/NAME."""
    listed = get(cluster, "deployments,services,ingresses,persistentvolumeclaims", namespace)
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in listed["items"]}


def objects(cluster: Cluster, namespace: str) -> dict[str, str]:
    """The release's objects -> resourceVersion."""
    return {name: o["metadata"]["resourceVersion"]
            for name, o in release_objects(cluster, namespace).items()}


def contents(cluster: Cluster, namespace: str) -> dict[str, Any]:
    """The release's objects -> what the chart sets in them (and their uid)."""
    def annotations(obj: dict[str, Any]) -> dict[str, str]:
        # The Deployment controller adds its rollout number whenever it gets to it.
        return {key: value for key, value in (obj["metadata"].get("annotations") or {}).items()
                if key != "deployment.kubernetes.io/revision"}

    return {name: (o["metadata"]["uid"], o["metadata"].get("labels"), annotations(o), o["spec"])
            for name, o in release_objects(cluster, namespace).items()}


def test_diff_shows_nothing_then_a_value_a_prune_and_a_conflict(
    cluster: Cluster, namespace: str,
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    before = objects(cluster, namespace), records(cluster, namespace)

    same = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED)
    assert same.exit_code == 0, same.output
    assert f"no changes: release lmf in namespace {namespace}" in same.stdout

    changed = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED,
                       "--set", f"image={IMAGE}:v0.6.2", "--set", "ingress.enable=false")
    assert changed.exit_code == 2, changed.output
    lines = changed.stdout.splitlines()
    assert "Deployment/lmf-llama-factory: would change" in lines
    assert f"-          image: {IMAGE}:v0.6.1" in lines
    assert f"+          image: {IMAGE}:v0.6.2" in lines
    # Pruned objects are shown whole; server-managed fields never are.
    assert "Ingress/lmf-llama-factory: would prune" in lines
    assert "-kind: Ingress" in lines
    assert not any(word in changed.stdout for word in ("managedFields", "resourceVersion",
                                                       "uid:", "creationTimestamp"))
    # The image tag is the app version label of every object.
    assert "Service/lmf-llama-factory: would change" in lines
    assert "+    app.kubernetes.io/version: v0.6.2" in lines

    # Someone edits a field the chart sets: an install would conflict with that manager.
    cluster.kubectl("patch", DEPLOYMENT, "-n", namespace, "--field-manager=kubectl-edit",
                    "-p", '{"spec":{"replicas":3}}')
    edited = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED)
    assert edited.exit_code == 2, edited.output
    lines = edited.stdout.splitlines()
    assert "  conflict: .spec.replicas is set by field manager kubectl-edit" in lines
    assert "-  replicas: 3" in lines and "+  replicas: 1" in lines
    # diff wrote nothing (the edit aside).
    after = objects(cluster, namespace)
    assert {k: v for k, v in after.items() if k != "Deployment/lmf-llama-factory"} == {
        k: v for k, v in before[0].items() if k != "Deployment/lmf-llama-factory"}
    assert records(cluster, namespace) == before[1]


def test_diff_of_a_release_not_installed_shows_every_object_created(
    cluster: Cluster, namespace: str,
) -> None:
    planned = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED)
    assert planned.exit_code == 2, planned.output
    lines = planned.stdout.splitlines()
    for kind in ("Service", "Deployment", "Ingress"):
        assert f"{kind}/lmf-llama-factory: would create" in lines
        assert f"+kind: {kind}" in lines
    # The server's defaults are in it: it is the server's dry run, not the rendering.
    assert "+  progressDeadlineSeconds: 600" in lines
    assert objects(cluster, namespace) == {} and records(cluster, namespace) == {}


def test_diff_reports_what_only_the_server_refuses(cluster: Cluster, namespace: str) -> None:
    refused = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED,
                       "--set-json", REFUSED_TOLERATION)
    assert refused.exit_code == 1, refused.output
    assert "Deployment/lmf-llama-factory: refused (" in refused.stdout
    assert "tolerations" in refused.stdout


def test_rollback_both_ways_with_helm(cluster: Cluster, namespace: str, helm: Path) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    uid = get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"]
    upgraded = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                        "--set", f"image={IMAGE}:v0.6.2", "--set", "ingress.enable=false")
    assert upgraded.exit_code == 0, upgraded.output
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.2"

    rolled = lmfchart(cluster, "rollback", "-n", namespace)
    assert rolled.exit_code == 0, rolled.output
    assert f"release lmf in namespace {namespace} rolled back to revision 1: revision 3 " \
        "deployed" in rolled.stdout
    assert "Ingress/lmf-llama-factory: created" in rolled.stdout
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.1"
    assert get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"] == uid
    assert "ingress.networking.k8s.io/lmf-llama-factory" in cluster.kubectl(
        "get", "ingress", "-n", namespace, "-o", "name").stdout
    assert helm_history(helm, cluster, namespace) == [
        (1, "superseded", "Install complete"), (2, "superseded", "Upgrade complete"),
        (3, "deployed", "Rollback to 1")]
    values = helm_run(helm, cluster, "get", "values", "lmf", "-n", namespace, "-o", "json")
    assert json.loads(values.stdout)["image"]["tag"] == "v0.6.1"

    # helm rolls back what lmfchart rolled back (and prunes the Ingress again).
    by_helm = helm_run(helm, cluster, "rollback", "lmf", "2", "-n", namespace)
    assert by_helm.returncode == 0, by_helm.stderr
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.2"
    assert cluster.kubectl("get", "ingress", "-n", namespace, "-o", "name").stdout == ""

    # ... and lmfchart rolls back what helm rolled back.
    again = lmfchart(cluster, "rollback", "lmf", "3", "-n", namespace)
    assert again.exit_code == 0, again.output
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.1"
    assert get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"] == uid
    assert [(r, s) for r, s, _ in helm_history(helm, cluster, namespace)] == [
        (1, "superseded"), (2, "superseded"), (3, "superseded"), (4, "superseded"),
        (5, "deployed")]
    history = lmfchart(cluster, "history", "-n", namespace, "-o", "json")
    assert json.loads(history.stdout)[-1]["description"] == "Rollback to 3"


def test_rollback_to_a_revision_that_does_not_exist(cluster: Cluster, namespace: str) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    none_before = lmfchart(cluster, "rollback", "-n", namespace)
    assert none_before.exit_code == 5
    assert "has only revision 1: nothing to roll back to" in none_before.stderr
    missing = lmfchart(cluster, "rollback", "lmf", "7", "-n", namespace)
    assert missing.exit_code == 5
    assert "has no revision 7 (revisions kept: 1)" in missing.stderr
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "deployed"}


def test_rollback_on_failure_restores_the_last_deployed_revision(
    cluster: Cluster, namespace: str, helm: Path,
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    before = contents(cluster, namespace)
    failed = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--rollback-on-failure",
                      "--set", f"image={IMAGE}:v0.6.2", "--set-json", REFUSED_TOLERATION)
    assert failed.exit_code == 5, failed.output
    assert "revision 2 failed (recorded as failed); rolled back to revision 1 as revision 3" \
        in failed.stderr
    assert "Deployment/lmf-llama-factory:" in failed.stderr
    # The Service and Ingress had taken the new version label: they are back too.
    assert contents(cluster, namespace) == before
    assert [(r, s) for r, s, _ in helm_history(helm, cluster, namespace)] == [
        (1, "superseded"), (2, "failed"), (3, "deployed")]
    # The release is usable again at once, by helm too.
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    listed = helm_run(helm, cluster, "list", "-n", namespace, "-o", "json")
    assert [(r["revision"], r["status"]) for r in json.loads(listed.stdout)] == [
        ("3", "deployed")]


def test_rollback_on_failure_removes_a_failed_first_install(
    cluster: Cluster, namespace: str,
) -> None:
    failed = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--rollback-on-failure",
                      "--set-json", REFUSED_TOLERATION)
    assert failed.exit_code == 5, failed.output
    assert "revision 1 failed (recorded as failed); the failed install was removed" in (
        failed.stderr)
    assert objects(cluster, namespace) == {}
    assert records(cluster, namespace) == {}
    # Without the flag the failed revision stays, as helm leaves it.
    kept = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                    "--set-json", REFUSED_TOLERATION)
    assert kept.exit_code == 5
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "failed"}


def test_diff_and_rollback_on_a_release_helm_installed(
    cluster: Cluster, namespace: str, helm: Path, tmp_path: Path,
) -> None:
    chart = helm_install_rendered(helm, cluster, namespace, tmp_path / "chart", SEED)
    # helm 4 applied server-side, helm 3 client-side ("Update" as helm): no change either way.
    same = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED)
    assert same.exit_code == 0, same.output
    upgraded = helm_run(helm, cluster, "upgrade", "lmf", str(chart), "-n", namespace,
                        "--set", "image.tag=v0.6.2")
    assert upgraded.returncode == 0, upgraded.stderr
    changed = lmfchart(cluster, "diff", "-n", namespace, "-f", SEED)
    assert changed.exit_code == 2, changed.output
    assert f"+          image: {IMAGE}:v0.6.1" in changed.stdout.splitlines()
    assert "conflict:" not in changed.stdout

    rolled = lmfchart(cluster, "rollback", "-n", namespace)
    assert rolled.exit_code == 0, rolled.output
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.1"
    assert helm_history(helm, cluster, namespace)[-1] == (3, "deployed", "Rollback to 1")
    assert lmfchart(cluster, "diff", "-n", namespace, "-f", SEED).exit_code == 0
    again = helm_run(helm, cluster, "upgrade", "lmf", str(chart), "-n", namespace,
                     "--set", "image.tag=v0.6.3")
    assert again.returncode == 0, again.stderr
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.3"


def test_rollback_on_failure_after_a_wait_that_times_out(
    cluster: Cluster, namespace: str, helm: Path,
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    # No kubelet runs: the new pods never become ready.
    failed = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--set",
                      f"image={IMAGE}:v0.6.2", "--wait", "--timeout", "3s",
                      "--rollback-on-failure")
    assert failed.exit_code == 5, failed.output
    assert "revision 2 is not ready (recorded as failed)" in failed.stderr
    assert "rolled back to revision 1 as revision 3" in failed.stderr
    assert image(cluster, namespace) == f"{IMAGE}:v0.6.1"
    assert [(r, s) for r, s, _ in helm_history(helm, cluster, namespace)] == [
        (1, "superseded"), (2, "failed"), (3, "deployed")]
