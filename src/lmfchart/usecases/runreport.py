"""One run as `status` shows it: state, completions, progress from its newest log, and on
failure why, with the last log lines.

Costs one pod list per run, one log read (of at most TAIL_LINES lines) per running or
failed run, and one list of the namespace's Warning events when a run is pending (a Job
that cannot create its pods says why only in an event: FailedCreate): status stays fast
with many runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import ClusterError
from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.diagnosis import PODS_PER_OBJECT, WarningsOnce, pod_reasons
from lmfchart.usecases.liveruns import (
    Run,
    RunState,
    judge_run,
    main_container,
    pod_of_rank,
    rank_of,
    run_pods,
    started,
)
from lmfchart.usecases.trainlog import Progress, progress_from_log, readable_lines

TAIL_LINES = 200  # enough for the last bar, loss dict and metrics block
FAILED_LINES = 10


@dataclass(frozen=True)
class RunReport:
    name: str
    component: str
    object_kind: str  # Job or PyTorchJob
    object_name: str
    kind: str  # Job, Indexed Job x2, PyTorchJob x2
    state: RunState
    completions: str
    pod: str | None  # the pod whose log the progress comes from
    progress: Progress
    reasons: tuple[str, ...] = ()
    last_lines: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "component": self.component,
                "object": {"kind": self.object_kind, "name": self.object_name},
                "kind": self.kind, "state": str(self.state), "completions": self.completions,
                "pod": self.pod, "progress": self.progress.as_dict(),
                "reasons": list(self.reasons), "last_lines": list(self.last_lines)}


def report_runs(*, cluster: Cluster, runs: Sequence[Run],
                warnings: WarningsOnce) -> tuple[RunReport, ...]:
    return tuple(report_run(cluster=cluster, run=run, warnings=warnings) for run in runs)


def report_run(*, cluster: Cluster, run: Run, warnings: WarningsOnce | None = None
               ) -> RunReport:
    pods = run_pods(cluster=cluster, run=run)
    judged = judge_run(run, pods)
    reasons = [judged.reason] if judged.reason else []
    if judged.state in (RunState.PENDING, RunState.FAILED):
        troubled = [pod for pod in pods
                    if (pod.get("status") or {}).get("phase") != "Succeeded"]
        for each in troubled[:PODS_PER_OBJECT]:
            reasons.extend(pod_reasons(cluster=cluster, namespace=run.namespace, pod=each,
                                       with_logs=False))
    if judged.state is RunState.PENDING:
        # The newest only: a controller retrying says the same again, about another pod.
        reasons.extend((warnings or WarningsOnce(cluster)).about(run.obj)[:1])
    pod = _telling_pod(pods, judged.state)
    text = ""
    if pod is not None and judged.state in (RunState.RUNNING, RunState.FAILED) and started(pod):
        try:
            text = cluster.pod_log_tail(run.namespace, pod["metadata"]["name"],
                                        main_container(pod), lines=TAIL_LINES, previous=False)
        except ClusterError as error:
            reasons.append(f"log of pod {pod['metadata']['name']} unavailable: "
                           f"{error.message}")
    last = readable_lines(text)[-FAILED_LINES:] if judged.state is RunState.FAILED else []
    return RunReport(
        run.name, run.component, str(run.obj.get("kind")), run.job_name, run.kind_label,
        judged.state, judged.completions, pod["metadata"]["name"] if pod else None,
        progress_from_log(text), tuple(dict.fromkeys(reasons)), tuple(last))


def _telling_pod(pods: list[dict[str, Any]], state: RunState) -> dict[str, Any] | None:
    """The pod whose log says most: for a failed run a failed pod (rank 0's first), else
    the newest pod of rank 0, where the trainer prints its progress."""
    if state is RunState.FAILED:
        failed = [pod for pod in pods if (pod.get("status") or {}).get("phase") == "Failed"]
        failed.sort(key=rank_of)  # stable: newest first within a rank
        if failed:
            return failed[0]
    return pod_of_rank(pods, 0) or (pods[0] if pods else None)
