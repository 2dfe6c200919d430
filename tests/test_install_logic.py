"""The install, uninstall, status and history logic against an in-memory cluster.

These tests pin decisions (what is applied, pruned, kept, refused, recorded); that the
objects and records work on a real API server and with real helm is tests/e2e/test_install.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from lmfchart.base.errors import ClusterError, ReleaseStateError
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import record_from_secret, record_to_secret
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.diff import diff
from lmfchart.usecases.install import install
from lmfchart.usecases.liveobjects import client_side_takeover
from lmfchart.usecases.lock import acquire
from lmfchart.usecases.status import history, status
from lmfchart.usecases.uninstall import uninstall
from lmfchart.usecases.wait import wait_for_ready
from tests.conftest import example_values
from tests.support.fakecluster import FakeCluster

NS = "llm"
SEED = ValueOptions(files=(str(example_values("seed")),))
KEEP_PVC = ValueOptions(sets=("storage.saves.type=pvc",))
DEPLOYMENT = ObjectRef("apps/v1", "Deployment", NS, "lmf-llama-factory")
PVC = ObjectRef("v1", "PersistentVolumeClaim", NS, "lmf-llama-factory-saves")


def run(cluster: FakeCluster, values: ValueOptions = SEED, **flags: Any):  # type: ignore[no-untyped-def]
    return install(cluster=cluster, release_name="lmf", namespace=NS, values=values, **flags)


def records(cluster: FakeCluster) -> dict[int, str]:
    return {record_from_secret(s).version: record_from_secret(s).status
            for s in cluster.secrets.values()}


def versions(cluster: FakeCluster) -> dict[Any, str]:
    return {key: obj["metadata"]["resourceVersion"] for key, obj in cluster.objects.items()}


def test_fresh_install_applies_owned_objects_and_records_revision_1() -> None:
    cluster = FakeCluster((NS,))
    result = run(cluster)
    assert result.outcome == "installed" and result.revision == 1
    assert [(c.ref.kind, c.action) for c in result.changes] == [
        ("Service", "created"), ("Deployment", "created"), ("Ingress", "created")]
    deployment = cluster.objects[("apps/v1", "Deployment", NS, "lmf-llama-factory")]
    assert deployment["metadata"]["annotations"]["meta.helm.sh/release-name"] == "lmf"
    assert deployment["metadata"]["annotations"]["meta.helm.sh/release-namespace"] == NS
    assert deployment["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    (secret,) = cluster.secrets.values()
    record = record_from_secret(secret)
    assert (record.version, record.status, record.apply_method) == (1, "deployed", "ssa")
    assert record.first_deployed == record.last_deployed
    # The stored manifest is what template renders, without the ownership annotations.
    assert "# Source: llama-factory/templates/deployment.yaml" in record.manifest
    assert "meta.helm.sh/release-name" not in record.manifest
    assert "http://lmf.172.18.0.2.nip.io/" in result.release_notes


def test_second_install_with_same_values_writes_nothing() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    before, secrets = versions(cluster), dict(cluster.secrets)
    cluster.requests.clear()
    result = run(cluster)
    assert result.outcome == "unchanged" and result.revision == 1
    assert cluster.writes() == []
    assert versions(cluster) == before and cluster.secrets == secrets


def test_upgrade_prunes_what_is_no_longer_rendered_and_supersedes() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    first = record_from_secret(cluster.secrets[(NS, "sh.helm.release.v1.lmf.v1")])
    uid = cluster.objects[("apps/v1", "Deployment", NS, "lmf-llama-factory")]["metadata"]["uid"]
    result = run(cluster, ValueOptions(files=SEED.files, sets=("ingress.enable=false",)))
    assert result.outcome == "upgraded" and result.revision == 2
    assert ("Ingress", "pruned") in [(c.ref.kind, c.action) for c in result.changes]
    assert not any(key[1] == "Ingress" for key in cluster.objects)
    assert records(cluster) == {1: "superseded", 2: "deployed"}
    second = record_from_secret(cluster.secrets[(NS, "sh.helm.release.v1.lmf.v2")])
    assert second.first_deployed == first.first_deployed
    assert second.description == "Upgrade complete"
    assert cluster.objects[("apps/v1", "Deployment", NS,
                            "lmf-llama-factory")]["metadata"]["uid"] == uid


def test_prune_and_uninstall_keep_objects_marked_keep() -> None:
    cluster = FakeCluster((NS,))
    run(cluster, KEEP_PVC)
    assert cluster.get(PVC) is not None
    pruned = run(cluster, ValueOptions())
    assert [(c.ref.kind, c.action, c.message) for c in pruned.changes
            if c.ref.kind == "PersistentVolumeClaim"] == [
        ("PersistentVolumeClaim", "kept", "helm.sh/resource-policy: keep")]
    run(cluster, KEEP_PVC)  # back in the release
    removed = uninstall(cluster=cluster, release_name="lmf", namespace=NS)
    assert {(c.ref.kind, c.action) for c in removed.changes} == {
        ("PersistentVolumeClaim", "kept"), ("Deployment", "deleted"), ("Service", "deleted")}
    assert list(cluster.objects) == [("v1", "PersistentVolumeClaim", NS,
                                      "lmf-llama-factory-saves")]
    assert cluster.secrets == {}
    assert set(removed.records) == {f"sh.helm.release.v1.lmf.v{n}" for n in (1, 2, 3)}


def test_uninstall_dry_run_deletes_nothing() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    objects, secrets = dict(cluster.objects), dict(cluster.secrets)
    result = uninstall(cluster=cluster, release_name="lmf", namespace=NS, dry_run=True)
    assert {c.action for c in result.changes} == {"deleted"} and result.dry_run
    assert cluster.objects == objects and cluster.secrets == secrets


def test_uninstall_refused_by_the_server_keeps_the_records() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    cluster.refuse["Deployment/lmf-llama-factory"] = "forbidden: User cannot delete"
    with pytest.raises(ClusterError) as failed:
        uninstall(cluster=cluster, release_name="lmf", namespace=NS)
    assert "uninstall stopped; the records are kept" in failed.value.message
    assert "Deployment/lmf-llama-factory: forbidden: User cannot delete" in failed.value.message
    assert records(cluster) == {1: "deployed"}


def test_pending_revision_with_a_live_lease_is_refused_naming_it_and_the_holder() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    secret = cluster.secrets[(NS, "sh.helm.release.v1.lmf.v1")]
    record = record_from_secret(secret)
    record.status = "pending-upgrade"
    cluster.secrets[(NS, "sh.helm.release.v1.lmf.v1")] = record_to_secret(record, created=False)
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="other-host/7/abc")
    cluster.requests.clear()
    with pytest.raises(ReleaseStateError,
                       match=r"revision 1 is pending-upgrade: .*holder other-host/7/abc"):
        run(cluster, ValueOptions(sets=("image.tag=1.2.3",)))
    assert cluster.writes() == []


def test_objects_of_no_release_or_another_release_are_refused() -> None:
    cluster = FakeCluster((NS,))
    cluster.put({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "lmf-llama-factory", "namespace": NS}})
    cluster.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "lmf-llama-factory", "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "other",
                        "meta.helm.sh/release-namespace": "team"}}})
    with pytest.raises(ReleaseStateError) as refused:
        run(cluster)
    assert "Service/lmf-llama-factory exists and belongs to no release" in refused.value.message
    assert ("Deployment/lmf-llama-factory exists and belongs to release other in namespace "
            "team") in refused.value.message
    assert "--take-ownership" in refused.value.message
    assert cluster.writes() == [] and cluster.secrets == {}
    taken = run(cluster, take_ownership=True)
    assert {c.action for c in taken.changes} >= {"changed"}
    assert cluster.get(DEPLOYMENT)["metadata"]["annotations"][  # type: ignore[index]
        "meta.helm.sh/release-name"] == "lmf"


def test_dry_run_stores_nothing_and_plans_each_object() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    objects, secrets = dict(cluster.objects), dict(cluster.secrets)
    cluster.requests.clear()
    plan = run(cluster, ValueOptions(files=SEED.files, sets=("ingress.enable=false",
                                                             "resources.limits.cpu=2")),
               dry_run=True)
    assert plan.outcome == "planned" and plan.revision == 2
    assert [(c.ref.kind, c.action) for c in plan.changes] == [
        ("Service", "unchanged"), ("Deployment", "changed"), ("Ingress", "pruned")]
    assert cluster.objects == objects and cluster.secrets == secrets
    assert all("dry run" in verb for verb, _ in cluster.writes())


def test_dry_run_in_a_missing_namespace() -> None:
    cluster = FakeCluster()
    with pytest.raises(ReleaseStateError, match="namespace llm does not exist"):
        run(cluster, dry_run=True)
    plan = run(cluster, dry_run=True, create_namespace=True)
    assert plan.namespace_missing and {c.action for c in plan.changes} == {"unchecked"}
    assert "kubernetes#83562" in plan.changes[0].message
    assert cluster.writes() == [] and not cluster.namespaces


def test_create_namespace_then_install() -> None:
    cluster = FakeCluster()
    with pytest.raises(ReleaseStateError, match="--create-namespace"):
        run(cluster)
    result = run(cluster, create_namespace=True)
    assert result.namespace_created and cluster.namespaces == {NS}


def test_refused_object_fails_the_revision_and_names_it() -> None:
    cluster = FakeCluster((NS,))
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.replicas: Invalid value: -1"
    with pytest.raises(ClusterError) as failed:
        run(cluster)
    assert "Deployment/lmf-llama-factory: spec.replicas: Invalid value: -1" in (
        failed.value.message)
    assert records(cluster) == {1: "failed"}
    # The next install is not blocked by the failed one.
    del cluster.refuse["Deployment/lmf-llama-factory"]
    assert run(cluster).revision == 2
    assert records(cluster) == {1: "failed", 2: "deployed"}


def test_rolling_update_deployment_is_switched_with_retain_keys_first() -> None:
    cluster = FakeCluster((NS,))
    cluster.put({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
        "name": "lmf-llama-factory", "namespace": NS,
        "labels": {"app.kubernetes.io/managed-by": "Helm"},
        "annotations": {"meta.helm.sh/release-name": "lmf",
                        "meta.helm.sh/release-namespace": NS}},
        "spec": {"strategy": {"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}})
    run(cluster)
    verbs = [r for r in cluster.writes() if r[1] == "Deployment/lmf-llama-factory"]
    assert verbs == [("patch", "Deployment/lmf-llama-factory"),
                     ("apply", "Deployment/lmf-llama-factory")]
    assert cluster.get(DEPLOYMENT)["spec"]["strategy"] == {"type": "Recreate"}  # type: ignore[index]


def test_fields_helm_3_set_client_side_move_to_helm_apply_despite_a_busy_controller() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    deployment = cluster.objects[("apps/v1", "Deployment", NS, "lmf-llama-factory")]
    deployment["metadata"]["managedFields"] = [
        {"manager": "helm", "operation": "Update", "apiVersion": "apps/v1",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
    cluster.busy["Deployment/lmf-llama-factory"] = 2
    assert run(cluster, ValueOptions(files=SEED.files, sets=("image.tag=v2",))).revision == 2
    assert cluster.busy["Deployment/lmf-llama-factory"] == 0
    fields = cluster.get(DEPLOYMENT)["metadata"]["managedFields"]  # type: ignore[index]
    assert [(f["manager"], f["operation"]) for f in fields] == [("helm", "Apply")]


def test_status_and_history_read_the_records() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    run(cluster, ValueOptions(files=SEED.files, sets=("image.tag=v0.6.2",)))
    report = status(cluster=cluster, release_name="lmf", namespace=NS)
    assert (report.revision, report.status) == (2, "deployed")
    assert report.url == "http://lmf.172.18.0.2.nip.io/"
    assert [(o.ref.kind, o.exists) for o in report.objects] == [
        ("Service", True), ("Deployment", True), ("Ingress", True)]
    cluster.delete(ObjectRef("networking.k8s.io/v1", "Ingress", NS, "lmf-llama-factory"))
    report = status(cluster=cluster, release_name="lmf", namespace=NS)
    assert report.as_dict()["objects"][2] == {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "lmf-llama-factory",
        "exists": False, "state": "Missing", "message": "not found in the cluster",
        "reasons": []}
    revisions = history(cluster=cluster, release_name="lmf", namespace=NS)
    assert [(r.revision, r.status, r.description) for r in revisions] == [
        (1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete")]
    assert revisions[1].app_version == "v0.6.2"
    with pytest.raises(ReleaseStateError, match="release nope not found in namespace llm"):
        status(cluster=cluster, release_name="nope", namespace=NS)


def test_client_side_fields_of_helm_move_to_its_apply_entry() -> None:
    live = {"apiVersion": "v1", "kind": "Service", "metadata": {
        "name": "s", "resourceVersion": "7", "managedFields": [
            {"manager": "helm", "operation": "Update", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:type": {}}}},
            {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}},
            {"manager": "helm", "operation": "Apply", "apiVersion": "v1",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:ports": {}}}},
        ]}}
    patch = client_side_takeover(live)
    assert patch is not None
    assert patch["metadata"]["resourceVersion"] == "7"
    entries = patch["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [
        ("kube-controller-manager", "Update"), ("helm", "Apply")]
    assert entries[1]["fieldsV1"] == {"f:spec": {"f:ports": {}, "f:type": {}}}
    assert client_side_takeover({"apiVersion": "v1", "metadata": {"managedFields": entries}}) \
        is None


def _pulling_pod(deployment: dict[str, Any]) -> dict[str, Any]:
    waiting = {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x/y:2"'}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "lmf-pod", "namespace": NS,
                         "labels": deployment["spec"]["selector"]["matchLabels"]},
            "status": {"phase": "Pending", "containerStatuses": [
                {"name": "webui", "ready": False, "state": {"waiting": waiting}}]}}


def test_status_shows_readiness_and_reasons_reading_pods_only_for_objects_not_ready() -> None:
    cluster = FakeCluster((NS,))
    run(cluster)
    deployment = cluster.get(DEPLOYMENT)
    assert deployment is not None
    cluster.put(_pulling_pod(deployment))
    cluster.requests.clear()

    report = status(cluster=cluster, release_name="lmf", namespace=NS)

    assert [(o.ref.kind, o.state, o.message) for o in report.objects] == [
        ("Service", "Current", "ready"),
        ("Deployment", "InProgress", "0/1 replicas updated"),
        ("Ingress", "Current", "exists")]
    assert report.objects[1].reasons == (
        'pod lmf-pod container webui: ImagePullBackOff: Back-off pulling image "x/y:2"',)
    assert report.as_dict()["objects"][1]["reasons"] == list(report.objects[1].reasons)
    objects = [r for r in cluster.requests if r[0] != "list" or r[1] != "Secret"]
    assert objects == [("get", "Service/lmf-llama-factory"),
                       ("get", "Deployment/lmf-llama-factory"),
                       ("get", "Ingress/lmf-llama-factory"),
                       ("list", "Event"), ("list", "Pod")]

    key = next(k for k in cluster.objects if k[1] == "Deployment")
    cluster.objects[key]["status"] = {"replicas": 1, "updatedReplicas": 1,
                                      "readyReplicas": 1, "availableReplicas": 1}
    cluster.requests.clear()
    report = status(cluster=cluster, release_name="lmf", namespace=NS)
    assert [(o.state, o.message, o.reasons) for o in report.objects][1] == (
        "Current", "1/1 replicas available", ())
    assert [r for r in cluster.requests if r[0] == "list" and r[1] != "Secret"] == []


def _diff(cluster: FakeCluster) -> Any:
    return diff(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)


@pytest.mark.parametrize("operation", [
    lambda cluster: run(cluster, create_namespace=True),
    lambda cluster: run(cluster, create_namespace=True, dry_run=True),
    _diff,
], ids=["install", "install --dry-run", "diff"])
def test_a_kind_the_cluster_does_not_serve_is_refused_before_anything_is_written(
        operation: Any) -> None:
    cluster = FakeCluster()  # no namespace yet: --create-namespace would write one first
    cluster.unserved.add(("networking.k8s.io/v1", "Ingress"))
    with pytest.raises(ReleaseStateError) as refused:
        operation(cluster)
    assert refused.value.message == (
        f"release lmf in namespace {NS}: the cluster does not serve 1 kind the release "
        "needs; nothing was changed:\n  Ingress/lmf-llama-factory: networking.k8s.io/v1 "
        "Ingress is not served: install the CustomResourceDefinition that serves it")
    assert refused.value.exit_code == 5
    # At most the release's records were read: no object, no namespace.
    assert set(cluster.requests) <= {("list", "Secret")}
    assert cluster.namespaces == set() and not cluster.secrets


def _waited_kinds(values: ValueOptions, *, wait_for_runs: bool) -> list[str]:
    cluster, waited = FakeCluster((NS,)), []

    def wait(refs: Any) -> Any:
        waited.extend(ref.kind for ref in refs)
        return wait_for_ready(cluster=cluster, refs=[], timeout_s=1)

    run(cluster, values, wait=wait, wait_for_runs=wait_for_runs)
    return sorted(set(waited))


def test_wait_leaves_the_runs_out_unless_asked() -> None:
    """A release is ready when it serves: its training runs may take days (a launch of one
    run waits for that run: wait_for_runs)."""
    values = ValueOptions(sets=(
        "storage.output.type=hostPath,storage.output.hostPath=/srv/output",
        "train.a.model=/m,train.a.datasets={d}",
        "export.b.model=/m,export.b.adapter=/srv/output/train/a"))
    assert _waited_kinds(values, wait_for_runs=False) == ["ConfigMap", "Deployment", "Service"]
    assert _waited_kinds(values, wait_for_runs=True) == [
        "ConfigMap", "Deployment", "Job", "Service"]
