"""`uninstall --wait`: poll the deleted objects until the server no longer has any of them
(404), or time is up; then say, per object still there, what holds it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lmfchart.inputs.durations import format_duration as duration
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.readiness import State
from lmfchart.usecases.wait import DEFAULT_POLL_S, Clock, ObjectStatus, Progress, SystemClock


@dataclass(frozen=True)
class DeletionResult:
    objects: tuple[ObjectStatus, ...]  # Current once gone; InProgress with what holds it
    waited_s: float
    timeout_s: float

    @property
    def gone(self) -> bool:
        return all(item.state is State.CURRENT for item in self.objects)

    def explanation(self) -> str:
        """How it ended, and for every object still there what keeps it."""
        if self.gone:
            return f"all {len(self.objects)} objects gone after {duration(self.waited_s)}"
        left = [item for item in self.objects if item.state is not State.CURRENT]
        lines = [f"timed out after {duration(self.timeout_s)}; {len(left)} of "
                 f"{len(self.objects)} deleted objects are still there:"]
        lines += [f"  {item.label}: {item.message}" for item in left]
        return "\n".join(lines)


# What uninstall calls once the objects are deleted: wait for these to go, say how it went.
DeletionWaiter = Callable[[Sequence[ObjectRef]], DeletionResult]


def wait_until_gone(*, cluster: Cluster, refs: Sequence[ObjectRef], timeout_s: float,
                    poll_s: float = DEFAULT_POLL_S, progress: Progress | None = None,
                    clock: Clock | None = None) -> DeletionResult:
    """Poll REFS (one GET per object not yet gone) until none is left or TIMEOUT_S passed.

    PROGRESS gets every poll's statuses: gone ones Current, the others InProgress with
    what still holds them (finalizers, since when deletion was asked).
    """
    clock = clock or SystemClock()
    started = clock.monotonic()
    statuses = {ref: ObjectStatus(ref, State.IN_PROGRESS, "deleting") for ref in refs}
    while True:
        for ref, item in statuses.items():
            if item.state is not State.CURRENT:
                statuses[ref] = _status(ref, cluster.get(ref))
        now = clock.monotonic()
        if progress is not None:
            progress(list(statuses.values()))
        result = DeletionResult(tuple(statuses.values()), now - started, timeout_s)
        if result.gone or now - started >= timeout_s:
            return result
        clock.sleep(max(0.0, min(poll_s, started + timeout_s - now)))


def _status(ref: ObjectRef, live: dict[str, Any] | None) -> ObjectStatus:
    if live is None:
        return ObjectStatus(ref, State.CURRENT, "gone")
    metadata = live.get("metadata") or {}
    finalizers = metadata.get("finalizers") or []
    since = metadata.get("deletionTimestamp")
    held = (f"finalizers still set: {', '.join(finalizers)}" if finalizers
            else "no finalizers; the server has not removed it yet")
    asked = (f"deletion requested at {since}" if since
             else "no deletionTimestamp: the delete has not reached it")
    return ObjectStatus(ref, State.IN_PROGRESS, f"{held} ({asked})")
