"""The rollback, --rollback-on-failure and diff logic against an in-memory cluster.

These tests pin decisions (what is re-applied, pruned, recorded, reported); that the result
works on a real API server and with real helm is tests/e2e/test_diff_rollback.py.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lmfchart.base.errors import ClusterError, NotReadyError, ReleaseStateError
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import ReleaseRecord, record_from_secret
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.diff import diff
from lmfchart.usecases.install import install
from lmfchart.usecases.rollback import rollback
from lmfchart.usecases.wait import WaitResult, wait_for_ready
from tests.conftest import example_values
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster

NS = "llm"
SEED = (str(example_values("seed")),)
DEPLOYMENT = ("apps/v1", "Deployment", NS, "lmf-llama-factory")
NEW_IMAGE = "image=kubeagi/llama-factory:v0.6.2"
INGRESS = ("networking.k8s.io/v1", "Ingress", NS, "lmf-llama-factory")


def values(*sets: str) -> ValueOptions:
    return ValueOptions(files=SEED, sets=sets)


def deploy(cluster: FakeCluster, *sets: str, rollback_on_failure: bool = False) -> None:
    install(cluster=cluster, release_name="lmf", namespace=NS, values=values(*sets),
            rollback_on_failure=rollback_on_failure)


def record(cluster: FakeCluster, version: int) -> ReleaseRecord:
    return record_from_secret(cluster.secrets[(NS, f"sh.helm.release.v1.lmf.v{version}")])


def statuses(cluster: FakeCluster) -> dict[int, str]:
    return {record_from_secret(s).version: record_from_secret(s).status
            for s in cluster.secrets.values()}


def image(cluster: FakeCluster) -> str:
    spec = cluster.objects[DEPLOYMENT]["spec"]["template"]["spec"]
    found: str = spec["containers"][0]["image"]
    return found


def test_rollback_reapplies_the_previous_revision_as_a_new_one() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    deploy(cluster, NEW_IMAGE, "ingress.enable=false")
    assert INGRESS not in cluster.objects
    uid = cluster.objects[DEPLOYMENT]["metadata"]["uid"]
    result = rollback(cluster=cluster, release_name="lmf", namespace=NS)
    assert (result.target, result.revision) == (1, 3)
    assert image(cluster).endswith(":v0.6.1")
    assert cluster.objects[DEPLOYMENT]["metadata"]["uid"] == uid
    assert INGRESS in cluster.objects
    assert statuses(cluster) == {1: "superseded", 2: "superseded", 3: "deployed"}
    first, third = record(cluster, 1), record(cluster, 3)
    assert third.description == "Rollback to 1"
    assert (third.config, third.manifest, third.chart, third.notes) == (
        first.config, first.manifest, first.chart, first.notes)
    assert (third.apply_method, third.first_deployed) == ("ssa", first.first_deployed)


def test_rollback_prunes_what_the_target_lacks_and_keeps_keep() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster, "ingress.enable=false")
    deploy(cluster, "storage.saves.type=pvc")
    pvc = ("v1", "PersistentVolumeClaim", NS, "lmf-llama-factory-saves")
    assert INGRESS in cluster.objects and pvc in cluster.objects
    result = rollback(cluster=cluster, release_name="lmf", namespace=NS, revision=1)
    actions = {(c.ref.kind, c.action) for c in result.changes}
    assert ("Ingress", "pruned") in actions and ("PersistentVolumeClaim", "kept") in actions
    assert INGRESS not in cluster.objects and pvc in cluster.objects


def test_rollback_refuses_a_missing_revision_or_a_pending_release() -> None:
    cluster = FakeCluster((NS,))
    with pytest.raises(ReleaseStateError, match="release lmf not found in namespace llm"):
        rollback(cluster=cluster, release_name="lmf", namespace=NS)
    deploy(cluster)
    with pytest.raises(ReleaseStateError, match="has only revision 1"):
        rollback(cluster=cluster, release_name="lmf", namespace=NS)
    with pytest.raises(ReleaseStateError, match=r"no revision 4 \(revisions kept: 1\)"):
        rollback(cluster=cluster, release_name="lmf", namespace=NS, revision=4)
    assert statuses(cluster) == {1: "deployed"}


def test_a_refused_object_fails_the_rollback_revision_only() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    deploy(cluster, NEW_IMAGE)
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.replicas: Invalid value"
    with pytest.raises(ClusterError, match="revision 3 failed") as failed:
        rollback(cluster=cluster, release_name="lmf", namespace=NS)
    assert "Deployment/lmf-llama-factory: spec.replicas: Invalid value" in str(failed.value)
    assert statuses(cluster) == {1: "superseded", 2: "deployed", 3: "failed"}


def test_rollback_on_failure_of_an_upgrade_restores_the_deployed_revision() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    before = image(cluster)
    # Only the new revision has the PVC: the rollback has nothing the server refuses.
    cluster.refuse["PersistentVolumeClaim/lmf-llama-factory-saves"] = "spec: Invalid value"
    with pytest.raises(ClusterError) as failed:
        deploy(cluster, NEW_IMAGE, "storage.saves.type=pvc", rollback_on_failure=True)
    message = str(failed.value)
    assert ("revision 2 failed (recorded as failed); rolled back to revision 1 as revision 3"
            in message)
    assert "PersistentVolumeClaim/lmf-llama-factory-saves: spec: Invalid value" in message
    # The Deployment was changed after the PVC was refused: it is back.
    assert image(cluster) == before
    assert statuses(cluster) == {1: "superseded", 2: "failed", 3: "deployed"}


def test_without_the_flag_a_failed_upgrade_stays_failed() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    cluster.refuse["Ingress/lmf-llama-factory"] = "spec.rules[0].host: Invalid value"
    with pytest.raises(ClusterError, match="revision 2 failed"):
        deploy(cluster, NEW_IMAGE)
    assert image(cluster).endswith(":v0.6.2")
    assert statuses(cluster) == {1: "deployed", 2: "failed"}


def test_rollback_on_failure_of_a_first_install_removes_it() -> None:
    cluster = FakeCluster((NS,))
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.template: Invalid value"
    with pytest.raises(ClusterError, match=r"revision 1 failed .*the failed install was "
                       r"removed"):
        deploy(cluster, rollback_on_failure=True)
    assert cluster.objects == {} and cluster.secrets == {}


def test_diff_shows_nothing_after_install_and_the_change_after() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    cluster.requests.clear()
    same = diff(cluster=cluster, release_name="lmf", namespace=NS, values=values())
    assert not same.changes and same.revision == 1
    assert cluster.writes() == []
    changed = diff(cluster=cluster, release_name="lmf", namespace=NS,
                   values=values("resources.limits.cpu=2", "ingress.enable=false"))
    actions = {(o.ref.kind, o.action) for o in changed.objects}
    assert actions == {("Service", "unchanged"), ("Deployment", "change"),
                       ("Ingress", "prune")}
    (deployment,) = [o for o in changed.objects if o.ref.kind == "Deployment"]
    assert "+              cpu: 2" in deployment.text.splitlines()
    (ingress,) = [o for o in changed.objects if o.ref.kind == "Ingress"]
    assert "-kind: Ingress" in ingress.text.splitlines()
    assert cluster.writes() == [] and statuses(cluster) == {1: "deployed"}


def test_diff_reports_a_refused_object_and_a_missing_namespace() -> None:
    cluster = FakeCluster((NS,))
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.template: Invalid value"
    report = diff(cluster=cluster, release_name="lmf", namespace=NS, values=values())
    assert report.refused
    (refused,) = [o for o in report.objects if o.action == "refused"]
    assert (refused.ref, refused.message) == (
        ObjectRef("apps/v1", "Deployment", NS, "lmf-llama-factory"),
        "spec.template: Invalid value")
    missing = diff(cluster=FakeCluster(), release_name="lmf", namespace=NS, values=values())
    assert "namespace llm does not exist yet" in missing.unchecked
    assert [o.action for o in missing.objects] == ["create"] * 3


def test_a_rollback_on_failure_that_fails_too_says_both() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.template: Invalid value"
    with pytest.raises(ClusterError) as failed:
        deploy(cluster, NEW_IMAGE, rollback_on_failure=True)
    assert ("revision 2 failed (recorded as failed); undoing it failed too: release/lmf: "
            "revision 3 failed (recorded as failed)") in str(failed.value)
    # The last good revision stays deployed: the next install can start from it.
    assert statuses(cluster) == {1: "deployed", 2: "failed", 3: "failed"}


def test_diff_names_an_object_install_would_refuse_to_take_over() -> None:
    cluster = FakeCluster((NS,))
    cluster.put({"apiVersion": "v1", "kind": "Service",
                 "metadata": {"name": "lmf-llama-factory", "namespace": NS},
                 "spec": {"ports": [{"port": 80}]}})
    report = diff(cluster=cluster, release_name="lmf", namespace=NS, values=values())
    (service,) = [o for o in report.objects if o.ref.kind == "Service"]
    assert service.action == "change"
    assert service.message == (
        "install refuses it unless --take-ownership: Service/lmf-llama-factory exists and "
        "belongs to no release (no Helm ownership label and annotations)")
    assert "+    meta.helm.sh/release-name: lmf" in service.text.splitlines()


def test_rollback_on_failure_after_a_wait_that_fails() -> None:
    cluster = FakeCluster((NS,))
    deploy(cluster)

    def never_ready(refs: Sequence[ObjectRef]) -> WaitResult:
        return wait_for_ready(cluster=cluster, refs=refs, timeout_s=4, poll_s=2,
                              clock=FakeClock())

    with pytest.raises(NotReadyError) as failed:
        install(cluster=cluster, release_name="lmf", namespace=NS, values=values(NEW_IMAGE),
                rollback_on_failure=True, wait=never_ready)
    lines = str(failed.value).splitlines()
    assert "revision 2 is not ready (recorded as failed)" in lines[0]
    assert lines[-1] == "rolled back to revision 1 as revision 3"
    assert image(cluster).endswith(":v0.6.1")
    assert statuses(cluster) == {1: "superseded", 2: "failed", 3: "deployed"}
    # A first install that never becomes ready is removed.
    fresh = FakeCluster((NS,))
    with pytest.raises(NotReadyError, match="the failed install was removed"):
        install(cluster=fresh, release_name="lmf", namespace=NS, values=values(),
                rollback_on_failure=True,
                wait=lambda refs: wait_for_ready(cluster=fresh, refs=refs, timeout_s=4,
                                                 poll_s=2, clock=FakeClock()))
    assert fresh.objects == {} and fresh.secrets == {}
