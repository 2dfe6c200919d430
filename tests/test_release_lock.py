"""The release Lease (acquire, refuse, take over an expired one, renew, release) and the
recovery of an interrupted `pending-*` revision, against the in-memory cluster.

That two real processes and a real API server behave so is tests/e2e/test_release_lock.py.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lmfchart.base.errors import ClusterError
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import record_from_secret, record_to_secret
from lmfchart.usecases.install import install
from lmfchart.usecases.lock import (
    ReleaseBusyError,
    acquire,
    holding,
    lease_name,
    lease_ref,
)
from lmfchart.usecases.recovery import RECOVERED
from tests.conftest import example_values
from tests.support.fakecluster import FakeCluster

NS = "llm"
SEED = ValueOptions(files=(str(example_values("seed")),))
START = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def stored_lease(cluster: FakeCluster) -> dict[str, Any] | None:
    return cluster.get(lease_ref("lmf", NS))


def mark(cluster: FakeCluster, version: int, status: str) -> None:
    key = (NS, f"sh.helm.release.v1.lmf.v{version}")
    record = record_from_secret(cluster.secrets[key])
    record.status = status  # type: ignore[assignment]
    cluster.secrets[key] = record_to_secret(record, created=False)
    cluster.secrets[key]["metadata"]["resourceVersion"] = "1"


def statuses(cluster: FakeCluster) -> dict[int, tuple[str, str]]:
    found = (record_from_secret(s) for s in cluster.secrets.values())
    return {r.version: (r.status, r.description) for r in found}


def test_acquire_writes_holder_duration_and_times() -> None:
    cluster, clock = FakeCluster((NS,)), Clock()
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="me/1/a", clock=clock)
    lease = stored_lease(cluster)
    assert lease is not None
    assert lease["metadata"]["name"] == "lmfchart-release-lmf"
    assert lease["spec"] == {"holderIdentity": "me/1/a", "leaseDurationSeconds": 60,
                             "acquireTime": "2026-11-30T12:00:00.000000Z",
                             "renewTime": "2026-11-30T12:00:00.000000Z"}


def test_a_live_lease_refuses_a_second_holder_naming_the_first_and_its_expiry() -> None:
    cluster, clock = FakeCluster((NS,)), Clock()
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="me/1/a", clock=clock)
    before = stored_lease(cluster)
    clock.now += timedelta(seconds=59)
    with pytest.raises(ReleaseBusyError) as busy:
        acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="you/2/b",
                clock=clock)
    assert busy.value.exit_code == 5
    assert "holder me/1/a" in busy.value.message
    assert "expires 2026-11-30T12:01:00Z" in busy.value.message
    assert stored_lease(cluster) == before


def test_an_expired_lease_is_taken_over_with_its_resource_version() -> None:
    cluster, clock = FakeCluster((NS,)), Clock()
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="dead/1/a", clock=clock)
    clock.now += timedelta(seconds=61)
    taken = acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="me/2/b",
                    clock=clock)
    lease = stored_lease(cluster)
    assert lease is not None and lease["spec"]["holderIdentity"] == "me/2/b"
    assert lease["spec"]["renewTime"] == "2026-11-30T12:01:01.000000Z"
    assert taken.stored["metadata"]["resourceVersion"] == lease["metadata"]["resourceVersion"]


def test_taking_over_loses_to_whoever_replaced_the_expired_lease_first() -> None:
    cluster, clock = FakeCluster((NS,)), Clock()
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="dead/1/a", clock=clock)
    clock.now += timedelta(seconds=61)
    original_get = cluster.get

    def get_then_race(ref: Any) -> Any:
        # Another process replaces the expired Lease between our read and our write.
        seen = original_get(ref)
        if seen is not None and seen["spec"]["holderIdentity"] == "dead/1/a":
            rival = dict(seen, spec=dict(seen["spec"], holderIdentity="rival/3/c",
                                         renewTime="2026-11-30T12:01:01.000000Z"))
            cluster.replace(rival)
        return seen

    cluster.get = get_then_race  # type: ignore[method-assign]
    with pytest.raises(ReleaseBusyError, match="holder rival/3/c"):
        acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="me/2/b",
                clock=clock)


def test_renewal_moves_the_renew_time_and_a_lost_lease_is_never_written_again() -> None:
    cluster, clock = FakeCluster((NS,)), Clock()
    lease = acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="me/1/a",
                    clock=clock)
    clock.now += timedelta(seconds=20)
    lease.renew()
    stored = stored_lease(cluster)
    assert stored is not None
    assert stored["spec"]["renewTime"] == "2026-11-30T12:00:20.000000Z"
    assert stored["spec"]["acquireTime"] == "2026-11-30T12:00:00.000000Z"
    # It expires and someone else takes it: our next renewal gets a 409.
    clock.now += timedelta(seconds=61)
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="next/2/b", clock=clock)
    with pytest.raises(ClusterError, match="modified"):
        lease.renew()


def test_holding_renews_in_the_background_and_releases_on_error() -> None:
    cluster = FakeCluster((NS,))
    renewed = []
    with (pytest.raises(RuntimeError, match="boom"),
          holding(cluster=cluster, release_name="lmf", namespace=NS, seconds=1) as lease):
        assert lease is not None
        first = lease.stored["spec"]["renewTime"]
        time.sleep(0.8)  # a renewal every third of the duration
        renewed.append(lease.stored["spec"]["renewTime"] != first)
        raise RuntimeError("boom")
    assert renewed == [True]
    assert stored_lease(cluster) is None


def test_holding_without_the_namespace_holds_nothing() -> None:
    cluster = FakeCluster(())
    with holding(cluster=cluster, release_name="lmf", namespace=NS) as lease:
        assert lease is None


def test_a_forbidden_lease_says_which_permissions_are_missing() -> None:
    cluster = FakeCluster((NS,))

    def forbidden(obj: dict[str, Any]) -> dict[str, Any]:
        raise ClusterError('leases.coordination.k8s.io is forbidden: User "x" cannot create',
                           kind="Lease", name=obj["metadata"]["name"], status=403,
                           reason="Forbidden")

    cluster.create = forbidden  # type: ignore[method-assign]
    with pytest.raises(ClusterError) as refused:
        acquire(cluster=cluster, release_name="lmf", namespace=NS)
    assert refused.value.message.startswith(
        "Lease/lmfchart-release-lmf: leases.coordination.k8s.io is forbidden")
    assert ("needs get, create, update and delete on leases.coordination.k8s.io in namespace "
            "llm") in refused.value.message


def test_a_long_release_name_gives_a_valid_lease_name() -> None:
    name = lease_name("r" * 300)
    assert len(name) == 253 and name.startswith("lmfchart-release-rrr")
    assert name != lease_name("r" * 301)


def test_a_pending_revision_without_a_lease_is_recovered_then_upgraded() -> None:
    cluster = FakeCluster((NS,))
    install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    mark(cluster, 1, "pending-install")
    said: list[str] = []
    with holding(cluster=cluster, release_name="lmf", namespace=NS):
        result = install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED,
                         progress=said.append)
    assert said[0] == ("revision 1 is pending-install and no live operation holds the "
                       "release: it was interrupted (a killed or disconnected process); "
                       "marked it failed")
    assert result.revision == 2
    assert statuses(cluster) == {1: ("failed", RECOVERED), 2: ("deployed", "Install complete")}


def test_a_pending_revision_with_an_expired_lease_is_recovered() -> None:
    cluster = FakeCluster((NS,))
    install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    mark(cluster, 1, "pending-upgrade")
    long_ago = Clock()
    long_ago.now = datetime.now(UTC) - timedelta(minutes=5)
    acquire(cluster=cluster, release_name="lmf", namespace=NS, holder="dead/1/a",
            clock=long_ago)
    with holding(cluster=cluster, release_name="lmf", namespace=NS):
        result = install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    assert result.revision == 2
    assert statuses(cluster)[1] == ("failed", RECOVERED)


def test_a_dry_run_says_it_would_recover_and_writes_nothing() -> None:
    cluster = FakeCluster((NS,))
    install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    mark(cluster, 1, "pending-install")
    cluster.requests.clear()
    said: list[str] = []
    result = install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED,
                     dry_run=True, progress=said.append)
    assert result.outcome == "planned" and result.revision == 2
    assert said[0].endswith("it was interrupted (a killed or disconnected process); "
                            "a real run marks it failed")
    assert [w for w in cluster.writes() if w[0] in ("create", "replace")] == []
    assert statuses(cluster)[1][0] == "pending-install"


def test_recovery_keeps_the_resource_version_precondition() -> None:
    cluster = FakeCluster((NS,))
    install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    mark(cluster, 1, "pending-install")
    original_list = cluster.list_secrets

    def list_then_rewrite(namespace: str, *, labels: dict[str, str]) -> Any:
        # A helm running without any lock rewrites the record after we read it.
        found = original_list(namespace, labels=labels)
        cluster.secrets[(NS, "sh.helm.release.v1.lmf.v1")]["metadata"]["resourceVersion"] = "9"
        return found

    cluster.list_secrets = list_then_rewrite  # type: ignore[method-assign]
    with pytest.raises(ClusterError, match="modified"):
        install(cluster=cluster, release_name="lmf", namespace=NS, values=SEED)
    assert statuses(cluster)[1][0] == "pending-install"
