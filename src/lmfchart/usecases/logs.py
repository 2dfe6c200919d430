"""`lmfchart logs`: the log of one pod of a run, once it has started.

The run is found by its pods' `llama-factory/run` label (its newest Job or PyTorchJob);
the pod by rank (0 by default: where the trainer prints progress). While the pod has not
started, each change of why (not created yet, Unschedulable with the scheduler's message,
ImagePullBackOff) is told to PROGRESS; at the deadline that reason is the error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import NotReadyError, ReleaseStateError, UsageError
from lmfchart.inputs.durations import format_duration
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.diagnosis import WarningsOnce, pod_reasons
from lmfchart.usecases.liveruns import (
    Run,
    RunState,
    judge_run,
    list_runs,
    main_container,
    pod_of_rank,
    run_pods,
    started,
)
from lmfchart.usecases.wait import DEFAULT_POLL_S, Clock, SystemClock


@dataclass(frozen=True)
class LogSource:
    """Which container's log: of the pod running RANK of RUN."""

    run: Run
    rank: int
    pod: str
    container: str

    @property
    def namespace(self) -> str:
        return self.run.namespace


def find_run(*, cluster: Cluster, release_name: str, namespace: str, run_name: str) -> Run:
    """The newest Job or PyTorchJob of RUN_NAME; an error listing the runs that exist."""
    runs = list_runs(cluster=cluster, release_name=release_name, namespace=namespace)
    for run in runs:
        if run.name == run_name:
            return run
    known = ", ".join(dict.fromkeys(f"{run.name} ({run.component})" for run in runs))
    raise ReleaseStateError(
        f"release {release_name} in namespace {namespace} has no run {run_name!r}; "
        + (f"its runs: {known}" if known else "it has no train or export runs"))


def wait_for_log(*, cluster: Cluster, release_name: str, namespace: str, run_name: str,
                 rank: int, timeout_s: float, progress: Callable[[str], None],
                 clock: Clock | None = None, poll_s: float = DEFAULT_POLL_S) -> LogSource:
    """The started pod of RANK; waits up to TIMEOUT_S for it to start."""
    clock = clock or SystemClock()
    run = find_run(cluster=cluster, release_name=release_name, namespace=namespace,
                   run_name=run_name)
    if rank >= run.nodes:
        raise UsageError(f"run {run_name} ({run.kind_label}) has ranks 0 to {run.nodes - 1}, "
                         f"not {rank}")
    deadline = clock.monotonic() + timeout_s
    told = None
    while True:
        pods = run_pods(cluster=cluster, run=run)
        pod = pod_of_rank(pods, rank)
        if pod is not None and started(pod):
            return LogSource(run, rank, pod["metadata"]["name"], main_container(pod))
        why = _not_started(cluster, run, pod, rank)
        judged = judge_run(run, pods)
        if judged.state is RunState.FAILED:
            raise NotReadyError(f"run {run_name}: {judged.reason}; its pod of rank {rank} "
                                f"never started: {why}")
        if clock.monotonic() >= deadline:
            raise NotReadyError(f"run {run_name}: the pod of rank {rank} did not start within "
                                f"{format_duration(timeout_s)}: {why}")
        if why != told:
            progress(why)
            told = why
        clock.sleep(poll_s)
        run = _refreshed(cluster, run)


def read_log(*, cluster: Cluster, source: LogSource, tail: int | None) -> str:
    """What the container wrote (its last TAIL lines when TAIL is given)."""
    return cluster.pod_log_tail(source.namespace, source.pod, source.container, lines=tail,
                                previous=False)


def follow_log(*, cluster: Cluster, source: LogSource, tail: int | None) -> Iterator[str]:
    """The container's lines as it writes them, until it stops."""
    return cluster.follow_pod_log(source.namespace, source.pod, source.container, lines=tail)


def _not_started(cluster: Cluster, run: Run, pod: dict[str, Any] | None, rank: int) -> str:
    if pod is None:
        # A controller that cannot create the pod (quota, admission) says so only in events.
        said = [f"waiting for {run.obj['kind']}/{run.job_name} to create the pod of rank "
                f"{rank}", *WarningsOnce(cluster).about(run.obj)[:1]]
        return ": ".join(said)
    name = pod["metadata"]["name"]
    reasons = pod_reasons(cluster=cluster, namespace=run.namespace, pod=pod, with_logs=False)
    phase = (pod.get("status") or {}).get("phase") or "Pending"
    return "; ".join(reasons) if reasons else f"pod {name}: {phase}"


def _refreshed(cluster: Cluster, run: Run) -> Run:
    """RUN's object as the server has it now (its status conditions move)."""
    live = cluster.get(ObjectRef.of(run.obj))
    return Run(run.name, run.component, live) if live is not None else run
