"""`--wait`: poll the release's objects until every one is ready, one has failed, or time
is up; then say, per object not ready, why."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from lmfchart.inputs.durations import format_duration as duration
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.diagnosis import WarningsOnce, diagnose
from lmfchart.usecases.readiness import State, readiness

DEFAULT_POLL_S = 2.0


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class ObjectStatus:
    """One object at one poll: its kstatus state, what that means, and why not ready."""

    ref: ObjectRef
    state: State
    message: str
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.ref.kind}/{self.ref.name}"


class Outcome(StrEnum):
    READY = "ready"
    FAILED = "failed"
    TIMED_OUT = "timed out"


@dataclass(frozen=True)
class WaitResult:
    outcome: Outcome
    objects: tuple[ObjectStatus, ...]
    waited_s: float
    timeout_s: float

    @property
    def ready(self) -> bool:
        return self.outcome is Outcome.READY

    def headline(self) -> str:
        """One line: how it ended, and what each object not ready waits for."""
        pending = [f"{item.label}: {item.message}"
                   + (f" ({item.reasons[0].splitlines()[0]})" if item.reasons else "")
                   for item in self._pending()]
        return self._ending() + (": " + "; ".join(pending) if pending else "")

    def explanation(self) -> str:
        """What happened, and for every object not ready its state and reasons."""
        if self.ready:
            return f"all {len(self.objects)} objects ready after {duration(self.waited_s)}"
        pending = self._pending()
        head = self._ending()
        lines = [f"{head}; {len(pending)} of {len(self.objects)} objects not ready:"]
        for item in pending:
            lines.append(f"  {item.label}: {item.state}: {item.message}")
            for reason in item.reasons:
                lines.append("    - " + reason.replace("\n", "\n      "))
        return "\n".join(lines)

    def _pending(self) -> list[ObjectStatus]:
        return [item for item in self.objects if item.state is not State.CURRENT]

    def _ending(self) -> str:
        if self.outcome is Outcome.FAILED:
            failed = ", ".join(item.label for item in self._pending()
                               if item.state is State.FAILED)
            return f"{failed} failed after {duration(self.waited_s)}"
        return f"timed out after {duration(self.timeout_s)}"


Progress = Callable[[Sequence[ObjectStatus]], None]
# What install calls once the objects are applied: wait for these, say how it went.
Waiter = Callable[[Sequence[ObjectRef]], WaitResult]


def wait_for_ready(*, cluster: Cluster, refs: Sequence[ObjectRef], timeout_s: float,
                   poll_s: float = DEFAULT_POLL_S, progress: Progress | None = None,
                   clock: Clock | None = None) -> WaitResult:
    """Poll REFS until all are Current (kstatus), one is Failed, or TIMEOUT_S has passed.

    PROGRESS gets every poll's statuses, with the reasons of the objects not ready yet.
    The final statuses of a failure or timeout also carry the crashed containers' logs.
    """
    clock = clock or SystemClock()
    started = clock.monotonic()
    while True:
        statuses = _poll(cluster, refs, with_logs=False)
        now = clock.monotonic()
        states = {item.state for item in statuses}
        outcome = (Outcome.FAILED if State.FAILED in states
                   else Outcome.READY if states <= {State.CURRENT}
                   else Outcome.TIMED_OUT if now - started >= timeout_s
                   else None)
        if progress is not None:
            progress(statuses)
        if outcome is not None:
            if outcome is not Outcome.READY:
                statuses = _poll(cluster, refs, with_logs=True)
            return WaitResult(outcome, tuple(statuses), now - started, timeout_s)
        clock.sleep(max(0.0, min(poll_s, started + timeout_s - now)))


def _poll(cluster: Cluster, refs: Sequence[ObjectRef], *,
          with_logs: bool) -> list[ObjectStatus]:
    return judge(cluster=cluster, live=[(ref, cluster.get(ref)) for ref in refs],
                 with_logs=with_logs)


def judge(*, cluster: Cluster, live: Sequence[tuple[ObjectRef, dict[str, Any] | None]],
          with_logs: bool, warnings: WarningsOnce | None = None) -> list[ObjectStatus]:
    """Each object's state from LIVE (as read), and for those not ready, why: the
    namespace's Warning events are read once (by WARNINGS, when the caller shares them),
    and pods (and logs) only for those."""
    judged = [(ref, obj, readiness(obj)) for ref, obj in live]
    warnings = warnings or WarningsOnce(cluster)
    statuses = []
    for ref, obj, state in judged:
        reasons: tuple[str, ...] = ()
        if state.state is not State.CURRENT and ref.namespace:
            reasons = diagnose(cluster=cluster, ref=ref, obj=obj,
                               clues=warnings.clues(ref.namespace), with_logs=with_logs)
        statuses.append(ObjectStatus(ref, state.state, state.message, reasons))
    return statuses

