"""One operation at a time per release: a `coordination.k8s.io/v1` Lease in its namespace.

Helm has no lock: it trusts the latest record's `pending-*` status, which a killed process
leaves behind for ever. Here the operation holds a Lease (holder, duration, renew time),
renewed in the background while it runs and deleted when it ends, also on errors and
Ctrl-C. A Lease whose renew time plus duration has passed belongs to a process that died:
it is taken over, with the resourceVersion as precondition, so two takers cannot both win.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lmfchart.base.errors import ClusterError, ConflictError, ReleaseStateError
from lmfchart.release.record import rfc3339
from lmfchart.usecases.cluster import Cluster, ObjectRef

LEASE_API_VERSION = "coordination.k8s.io/v1"
LEASE_SECONDS = 60
_PREFIX = "lmfchart-release-"
_NAME_LIMIT = 253  # a Lease name is a DNS subdomain
Clock = Callable[[], datetime]
# The holders this thread of work holds now: its own Lease is never "another operation".
_HELD: ContextVar[frozenset[str]] = ContextVar("lmfchart_held_leases", default=frozenset())
# (namespace, release name) of the Leases held in this context: holding one again nests.
_HELD_RELEASES: ContextVar[frozenset[tuple[str, str]]] = ContextVar(
    "lmfchart_held_releases", default=frozenset())


class ReleaseBusyError(ReleaseStateError):
    """Another live operation holds the release's Lease; nothing was changed."""


def lease_name(release_name: str) -> str:
    """`lmfchart-release-NAME`, shortened with a hash when it would be too long."""
    name = _PREFIX + release_name
    if len(name) <= _NAME_LIMIT:
        return name
    digest = hashlib.sha256(release_name.encode()).hexdigest()[:10]
    return f"{name[:_NAME_LIMIT - 11]}-{digest}"


def lease_ref(release_name: str, namespace: str) -> ObjectRef:
    return ObjectRef(LEASE_API_VERSION, "Lease", namespace, lease_name(release_name))


def new_holder() -> str:
    """`host/pid/uuid`: who holds it, findable on the machine, unique across restarts."""
    return f"{socket.gethostname()}/{os.getpid()}/{uuid.uuid4()}"


@dataclass(frozen=True)
class LeaseState:
    """What a stored Lease says."""

    holder: str
    expires: datetime | None  # None: no renew time, so nothing says it is alive

    @classmethod
    def of(cls, lease: dict[str, Any]) -> LeaseState:
        spec = lease.get("spec") or {}
        renewed = spec.get("renewTime") or spec.get("acquireTime")
        seconds = spec.get("leaseDurationSeconds")
        expires = (_parse_time(renewed) + timedelta(seconds=int(seconds))
                   if renewed and seconds is not None else None)
        return cls(str(spec.get("holderIdentity") or "nobody"), expires)

    def live(self, now: datetime) -> bool:
        return self.expires is not None and now < self.expires


def held_here(holder: str) -> bool:
    """Whether HOLDER is a Lease this thread of work holds (inside `holding`)."""
    return holder in _HELD.get()


def live_holder(*, cluster: Cluster, release_name: str, namespace: str,
                clock: Clock | None = None) -> LeaseState | None:
    """The Lease's state when a live operation holds it; None when absent or expired."""
    found = cluster.get(lease_ref(release_name, namespace))
    if found is None:
        return None
    state = LeaseState.of(found)
    return state if state.live((clock or _now)()) else None


def busy_message(release_name: str, namespace: str, state: LeaseState) -> str:
    until = state.expires.strftime("%Y-%m-%dT%H:%M:%SZ") if state.expires else "?"
    return (f"release {release_name} in namespace {namespace} is busy: another lmfchart "
            f"operation holds Lease/{lease_name(release_name)} (holder {state.holder}, "
            f"renewed while it runs, expires {until} unless renewed); nothing was changed")


class ReleaseLease:
    """A Lease this process holds. `renew` keeps the resourceVersion precondition, so a
    holder that lost it (expired and taken over) never overwrites the new holder's, and
    once lost it is not deleted at the end either."""

    def __init__(self, *, cluster: Cluster, stored: dict[str, Any], holder: str,
                 seconds: int, clock: Clock) -> None:
        self.cluster = cluster
        self.stored = stored
        self.holder = holder
        self.seconds = seconds
        self.clock = clock
        self.lost: str | None = None  # why, once a renewal failed

    @property
    def ref(self) -> ObjectRef:
        return ObjectRef.of(self.stored)

    def renew(self) -> None:
        body = _lease_body(self.ref, holder=self.holder, seconds=self.seconds,
                           acquired=self.stored["spec"].get("acquireTime"), now=self.clock())
        body["metadata"]["resourceVersion"] = self.stored["metadata"]["resourceVersion"]
        self.stored = self.cluster.replace(body)

    def release(self) -> None:
        if self.lost is None:
            self.cluster.delete(self.ref)


def acquire(*, cluster: Cluster, release_name: str, namespace: str,
            holder: str | None = None, seconds: int = LEASE_SECONDS,
            clock: Clock | None = None) -> ReleaseLease:
    """Take the release's Lease, or raise ReleaseBusyError naming its live holder."""
    clock = clock or _now
    holder = holder or new_holder()
    ref = lease_ref(release_name, namespace)
    body = _lease_body(ref, holder=holder, seconds=seconds, acquired=None, now=clock())
    try:
        created = _with_rbac_hint(lambda: cluster.create(body), namespace)
    except ConflictError:
        created = _take_expired(cluster, ref, body, release_name, clock)
    return ReleaseLease(cluster=cluster, stored=created, holder=holder, seconds=seconds,
                        clock=clock)


@contextmanager
def holding(*, cluster: Cluster, release_name: str, namespace: str,
            seconds: int = LEASE_SECONDS, clock: Clock | None = None,
            holder: str | None = None) -> Iterator[ReleaseLease | None]:
    """Hold the Lease for the block: renewed every third of its duration, deleted at the
    end whatever happens (an error, Ctrl-C). None when this context holds it already (the
    outer block keeps it), or when the namespace does not exist yet:
    then there is no release to collide with, and a second writer of revision 1 gets a
    409 on the record."""
    if (namespace, release_name) in _HELD_RELEASES.get():
        # Already ours (an install that rolls back or removes itself on failure).
        yield None
        return
    try:
        lease = acquire(cluster=cluster, release_name=release_name, namespace=namespace,
                        holder=holder, seconds=seconds, clock=clock)
    except ClusterError as e:
        if e.status != 404:
            raise
        yield None
        return
    token = _HELD.set(_HELD.get() | {lease.holder})
    releases = _HELD_RELEASES.set(_HELD_RELEASES.get() | {(namespace, release_name)})
    stop = threading.Event()
    renewer = threading.Thread(target=_keep_renewing, args=(lease, stop),
                               name=f"lease-{release_name}", daemon=True)
    renewer.start()
    try:
        yield lease
    finally:
        _HELD.reset(token)
        _HELD_RELEASES.reset(releases)
        stop.set()
        renewer.join()
        # Unreachable now? The Lease expires on its own, and the next run takes it.
        with suppress(ClusterError):
            lease.release()


def _keep_renewing(lease: ReleaseLease, stop: threading.Event) -> None:
    while not stop.wait(lease.seconds / 3):
        try:
            lease.renew()
        except ConflictError as e:
            lease.lost = str(e)  # taken over after it expired: never write it again
            return
        except ClusterError:
            continue  # a blip; the next renewal may get through before the expiry


def _take_expired(cluster: Cluster, ref: ObjectRef, body: dict[str, Any],
                  release_name: str, clock: Clock) -> dict[str, Any]:
    current = cluster.get(ref)
    if current is None:  # released between our create and this read: try once more
        try:
            return cluster.create(body)
        except ConflictError:
            current = cluster.get(ref)
            if current is None:
                raise
    state = LeaseState.of(current)
    if state.live(clock()):
        raise ReleaseBusyError(busy_message(release_name, ref.namespace or "", state))
    body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    try:
        return cluster.replace(body)
    except ConflictError:
        # Another process took the expired Lease between our read and write.
        taken = cluster.get(ref)
        raise ReleaseBusyError(busy_message(
            release_name, ref.namespace or "",
            LeaseState.of(taken) if taken else state)) from None


def _with_rbac_hint(create: Callable[[], dict[str, Any]], namespace: str) -> dict[str, Any]:
    try:
        return create()
    except ClusterError as e:
        if e.status != 403:
            raise
        raise ClusterError(
            f"{str(e).split(': ', 1)[-1]}; lmfchart holds a Lease while it changes a release, "
            f"so its credential needs get, create, update and delete on "
            f"leases.coordination.k8s.io in namespace {namespace}",
            kind=e.kind, name=e.name, status=e.status, reason=e.reason) from e


def _lease_body(ref: ObjectRef, *, holder: str, seconds: int, acquired: str | None,
                now: datetime) -> dict[str, Any]:
    stamp = rfc3339(now)
    return {
        "apiVersion": LEASE_API_VERSION, "kind": "Lease",
        "metadata": {"name": ref.name, "namespace": ref.namespace,
                     "labels": {"app.kubernetes.io/managed-by": "lmfchart"}},
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": seconds,
                 "acquireTime": acquired or stamp, "renewTime": stamp},
    }


def _parse_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)
