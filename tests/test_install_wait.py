"""`install --wait` against an in-memory cluster and a fake clock: the revision is recorded
`deployed` only once its objects are ready, else `failed` with Helm's description and the
reasons. The same path on a real API server: tests/e2e/test_install_wait.py."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.base.errors import EXIT_CLUSTER, EXIT_USAGE, NotReadyError
from lmfchart.cli import app
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import record_from_secret
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.install import install
from lmfchart.usecases.wait import WaitResult, wait_for_ready
from tests.conftest import example_values
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster

NS = "llm"
SEED = ValueOptions(files=(str(example_values("seed")),))
DEPLOYMENT = ("apps/v1", "Deployment", NS, "lmf-llama-factory")


def _install(cluster: FakeCluster, clock: FakeClock, *, values: ValueOptions = SEED,
             waited: list[Sequence[ObjectRef]] | None = None) -> Any:
    def wait(refs: Sequence[ObjectRef]) -> WaitResult:
        if waited is not None:
            waited.append(refs)
        return wait_for_ready(cluster=cluster, refs=refs, timeout_s=10, poll_s=2, clock=clock)

    return install(cluster=cluster, release_name="lmf", namespace=NS, values=values, wait=wait)


def _records(cluster: FakeCluster) -> dict[int, tuple[str, str]]:
    return {record.version: (record.status, record.description)
            for record in map(record_from_secret, cluster.secrets.values())}


def _roll_out(cluster: FakeCluster) -> None:
    """What the Deployment controller writes once the pods are available."""
    cluster.objects[DEPLOYMENT]["status"] = {"replicas": 1, "updatedReplicas": 1,
                                             "readyReplicas": 1, "availableReplicas": 1}


def test_the_revision_is_deployed_once_its_objects_are_ready() -> None:
    cluster, clock = FakeCluster((NS,)), FakeClock()
    clock.schedule.append((4, partial(_roll_out, cluster)))
    waited: list[Sequence[ObjectRef]] = []

    result = _install(cluster, clock, waited=waited)

    assert result.outcome == "installed"
    assert _records(cluster) == {1: ("deployed", "Install complete")}
    assert [ref.kind for ref in waited[0]] == ["Service", "Deployment", "Ingress"]
    assert clock.slept == [2, 2]


def test_objects_not_ready_in_time_fail_the_revision_saying_why() -> None:
    cluster, clock = FakeCluster((NS,)), FakeClock()
    with pytest.raises(NotReadyError) as raised:
        _install(cluster, clock)

    assert raised.value.exit_code == EXIT_CLUSTER
    assert str(raised.value).splitlines() == [
        f"release lmf in namespace {NS}: revision 1 is not ready (recorded as failed): timed "
        "out after 10s; 1 of 3 objects not ready:",
        "  Deployment/lmf-llama-factory: InProgress: 0/1 replicas updated",
    ]
    assert _records(cluster) == {1: ("failed", 'Release "lmf" failed: timed out after 10s: '
                                     "Deployment/lmf-llama-factory: 0/1 replicas updated")}


def test_a_failed_upgrade_wait_leaves_the_previous_revision_deployed() -> None:
    cluster, clock = FakeCluster((NS,)), FakeClock()
    clock.schedule.append((0, partial(_roll_out, cluster)))
    _install(cluster, clock)
    # The new pod template never rolls out: the controller reports the old replica only.
    cluster.objects[DEPLOYMENT]["status"] = {"replicas": 2, "updatedReplicas": 1,
                                             "availableReplicas": 1, "readyReplicas": 1}

    with pytest.raises(NotReadyError, match="revision 2 is not ready"):
        _install(cluster, clock, values=ValueOptions(files=SEED.files,
                                                     sets=("image.tag=0.9.5",)))

    assert _records(cluster) == {
        1: ("deployed", "Install complete"),
        2: ("failed", 'Upgrade "lmf" failed: timed out after 10s: '
                      "Deployment/lmf-llama-factory: 1 old replicas pending termination")}


def test_no_changes_still_waits_and_writes_no_record() -> None:
    cluster, clock = FakeCluster((NS,)), FakeClock()
    clock.schedule.append((0, partial(_roll_out, cluster)))
    _install(cluster, clock)
    cluster.objects[DEPLOYMENT]["status"] = {"replicas": 1, "updatedReplicas": 1}
    secrets = dict(cluster.secrets)

    with pytest.raises(NotReadyError, match=r"revision 1 \(no changes\) is not ready"):
        _install(cluster, clock)

    assert cluster.secrets == secrets


def test_an_interrupted_wait_records_the_revision_failed_not_pending() -> None:
    cluster = FakeCluster((NS,))

    def interrupted(refs: Sequence[ObjectRef]) -> WaitResult:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED,
                wait=interrupted)

    assert _records(cluster) == {1: ("failed", 'Release "lmf" failed: interrupted while '
                                     "waiting")}


@pytest.mark.parametrize("timeout", ["5", "five", "-1m"])
def test_a_bad_timeout_is_a_usage_error_before_any_request(timeout: str) -> None:
    result = CliRunner().invoke(app, ["install", "--wait", "--timeout", timeout,
                                      "--kubeconfig", "/nonexistent/kubeconfig"])
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"error: --timeout {timeout!r}: not a duration" in result.output
