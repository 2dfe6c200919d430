"""`uninstall --wait` against an in-memory cluster with finalizers and a fake clock: when it
returns, what it says about objects still there, and that the records stay until they go.
tests/e2e/test_uninstall_wait.py runs the same against a real API server."""

from __future__ import annotations

import pytest

from lmfchart.base.errors import EXIT_CLUSTER, NotReadyError
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import record_from_secret
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.deletion import DeletionResult, wait_until_gone
from lmfchart.usecases.install import install
from lmfchart.usecases.readiness import State
from lmfchart.usecases.uninstall import UninstallResult, uninstall
from lmfchart.usecases.wait import ObjectStatus
from tests.conftest import example_values
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster

NS = "llm"
DEPLOYMENT = ObjectRef("apps/v1", "Deployment", NS, "lmf-llama-factory")
SERVICE = ObjectRef("v1", "Service", NS, "lmf-llama-factory")
FINALIZER = "example.com/hold"


def _installed(values: ValueOptions | None = None) -> FakeCluster:
    cluster = FakeCluster((NS,))
    install(cluster=cluster, release_name="lmf", namespace=NS,
            values=values or ValueOptions(files=(str(example_values("seed")),)))
    return cluster


def _hold(cluster: FakeCluster, ref: ObjectRef) -> None:
    cluster.patch(ref, {"metadata": {"finalizers": [FINALIZER]}})


def _release(cluster: FakeCluster, ref: ObjectRef) -> None:
    cluster.patch(ref, {"metadata": {"finalizers": None}})


def _uninstall(cluster: FakeCluster, clock: FakeClock, timeout_s: float,
               polls: list[list[ObjectStatus]] | None = None) -> UninstallResult:
    def wait(refs: list[ObjectRef]) -> DeletionResult:
        return wait_until_gone(cluster=cluster, refs=refs, timeout_s=timeout_s, clock=clock,
                               progress=None if polls is None else polls.append)

    return uninstall(cluster=cluster, release_name="lmf", namespace=NS,
                     wait=wait)  # type: ignore[arg-type]


def _gets_after_deletes(cluster: FakeCluster) -> list[str]:
    """The objects read after the last object delete (the wait's polls)."""
    last = max(i for i, (verb, what) in enumerate(cluster.requests)
               if verb == "delete" and not what.startswith(("Secret/", "Lease/")))
    return [what for verb, what in cluster.requests[last + 1:] if verb == "get"]


def _records(cluster: FakeCluster) -> list[int]:
    return sorted(record_from_secret(s).version for s in cluster.secrets.values())


def test_objects_gone_at_once_end_the_wait_after_one_poll() -> None:
    cluster, clock = _installed(), FakeClock()
    result = _uninstall(cluster, clock, 300)
    assert result.waited is not None and result.waited.gone
    assert result.waited.explanation() == "all 3 objects gone after 0s"
    assert clock.slept == [] and cluster.objects == {} and cluster.secrets == {}
    # One GET per deleted object after the deletes, nothing more.
    assert _gets_after_deletes(cluster) == [
        "Ingress/lmf-llama-factory", "Deployment/lmf-llama-factory",
        "Service/lmf-llama-factory"]


def test_waits_for_a_finalizer_to_go_polling_only_what_is_left() -> None:
    cluster, clock = _installed(), FakeClock()
    _hold(cluster, DEPLOYMENT)
    clock.schedule.append((5.0, lambda: _release(cluster, DEPLOYMENT)))
    polls: list[list[ObjectStatus]] = []
    result = _uninstall(cluster, clock, 60, polls)
    assert result.waited is not None and result.waited.gone
    assert clock.slept == [2.0, 2.0, 2.0]
    first = {item.label: item.message for item in polls[0]}
    assert first["Deployment/lmf-llama-factory"] == (
        f"finalizers still set: {FINALIZER} (deletion requested at 2026-01-01T00:05:00Z)")
    assert first["Service/lmf-llama-factory"] == "gone"
    assert _gets_after_deletes(cluster) == [
        "Ingress/lmf-llama-factory", "Deployment/lmf-llama-factory",
        "Service/lmf-llama-factory"] + ["Deployment/lmf-llama-factory"] * 3
    assert cluster.secrets == {}


def test_timeout_names_what_holds_each_object_and_keeps_the_records() -> None:
    cluster, clock = _installed(), FakeClock()
    _hold(cluster, DEPLOYMENT)
    with pytest.raises(NotReadyError) as timed_out:
        _uninstall(cluster, clock, 5)
    assert timed_out.value.exit_code == EXIT_CLUSTER == 5
    assert timed_out.value.message == (
        "uninstall of release lmf in namespace llm: timed out after 5s; 1 of 3 deleted "
        "objects are still there:\n"
        f"  Deployment/lmf-llama-factory: finalizers still set: {FINALIZER} "
        "(deletion requested at 2026-01-01T00:05:00Z)\n"
        "the records are kept: run the uninstall again once these are gone")
    assert clock.slept == [2.0, 2.0, 1.0]
    assert _records(cluster) == [1]

    # Still held: the re-run deletes it again and waits for it alone.
    clock.schedule.append((clock.now - 1000.0 + 1, lambda: _release(cluster, DEPLOYMENT)))
    again = _uninstall(cluster, clock, 5)
    assert again.waited is not None and again.waited.gone
    assert [item.label for item in again.waited.objects] == ["Deployment/lmf-llama-factory"]
    assert cluster.objects == {} and cluster.secrets == {}


def test_a_rerun_with_nothing_left_to_delete_does_not_wait() -> None:
    cluster, clock = _installed(), FakeClock()
    _hold(cluster, DEPLOYMENT)
    with pytest.raises(NotReadyError):
        _uninstall(cluster, clock, 5)
    _release(cluster, DEPLOYMENT)
    again = _uninstall(cluster, clock, 5)
    assert again.waited is None and again.changes == ()
    assert cluster.objects == {} and cluster.secrets == {}


def test_kept_objects_are_not_waited_for() -> None:
    cluster, clock = _installed(ValueOptions(sets=("storage.saves.type=pvc",))), FakeClock()
    result = _uninstall(cluster, clock, 5)
    assert result.waited is not None
    assert "PersistentVolumeClaim" not in {item.ref.kind for item in result.waited.objects}
    assert {item.state for item in result.waited.objects} == {State.CURRENT}
    assert [key[1] for key in cluster.objects] == ["PersistentVolumeClaim"]


def test_dry_run_never_waits() -> None:
    cluster = _installed()
    result = uninstall(cluster=cluster, release_name="lmf", namespace=NS, dry_run=True,
                       wait=lambda refs: pytest.fail("waited on a dry run"))
    assert result.waited is None and _records(cluster) == [1]
