"""Training and export runs on the cluster: which Job (or PyTorchJob) is a run, its pods by
rank, and its state.

A run's pods carry `app.kubernetes.io/instance: <release>`, `app.kubernetes.io/component:
train|export` and `llama-factory/run: <name>` in their template; that is how a run is
recognised, whatever its object's own labels say. Pods are matched to their Job by
ownerReference uid, so a re-run's new Job never shows its predecessor's pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from lmfchart.base.errors import ClusterError
from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.readiness import condition

RUN_LABEL = "llama-factory/run"
COMPONENT_LABEL = "app.kubernetes.io/component"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENTS = frozenset({"train", "export"})
JOB = ("batch/v1", "Job")
PYTORCHJOB = ("kubeflow.org/v1", "PyTorchJob")
# Where each engine writes a pod's rank (the Job controller; Kubeflow's training operator).
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
REPLICA_TYPE = "training.kubeflow.org/replica-type"
REPLICA_INDEX = "training.kubeflow.org/replica-index"


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Run:
    """One run's workload object as the server returned it."""

    name: str
    component: str
    obj: dict[str, Any]

    @property
    def job_name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return str(self.obj["metadata"]["namespace"])

    @property
    def is_pytorchjob(self) -> bool:
        return self.obj.get("kind") == PYTORCHJOB[1]

    @property
    def nodes(self) -> int:
        spec = self.obj.get("spec") or {}
        if self.is_pytorchjob:
            replicas = spec.get("pytorchReplicaSpecs") or {}
            return sum(int((r or {}).get("replicas", 1)) for r in replicas.values()) or 1
        if spec.get("completionMode") == "Indexed":
            return int(spec.get("completions") or 1)
        return 1

    @property
    def kind_label(self) -> str:
        """`Job`, `Indexed Job x2` or `PyTorchJob x2`."""
        if self.is_pytorchjob:
            return f"PyTorchJob x{self.nodes}"
        if (self.obj.get("spec") or {}).get("completionMode") == "Indexed":
            return f"Indexed Job x{self.nodes}"
        return "Job"


def run_of(obj: dict[str, Any]) -> Run | None:
    """The run OBJ (a live Job or PyTorchJob) is, or None for any other object."""
    labels = _template_labels(obj)
    name, component = labels.get(RUN_LABEL), labels.get(COMPONENT_LABEL)
    if not name or component not in COMPONENTS:
        return None
    return Run(str(name), str(component), obj)


def list_runs(*, cluster: Cluster, release_name: str, namespace: str) -> list[Run]:
    """Every run of the release in NAMESPACE, newest first (two list requests: Jobs, and
    PyTorchJobs where the cluster serves them)."""
    selector = f"{INSTANCE_LABEL}={release_name}"
    found = cluster.list_objects(*JOB, namespace, label_selector=selector)
    try:
        found += cluster.list_objects(*PYTORCHJOB, namespace, label_selector=selector)
    except ClusterError as error:
        # No Kubeflow training operator here, or no right to read its jobs: no such runs.
        if error.reason != "NoKind" and error.status not in (403, 404):
            raise
    runs = [run for run in map(run_of, found) if run is not None]
    return sorted(runs, key=lambda run: _newest_key(run.obj), reverse=True)


def run_pods(*, cluster: Cluster, run: Run) -> list[dict[str, Any]]:
    """The pods of RUN's object (not of an earlier Job of the same run), newest first."""
    labels = _template_labels(run.obj)
    selector = ",".join(f"{key}={labels[key]}" for key in (INSTANCE_LABEL, COMPONENT_LABEL,
                                                             RUN_LABEL) if key in labels)
    uid = run.obj["metadata"].get("uid")
    pods = [pod for pod in cluster.list_objects("v1", "Pod", run.namespace,
                                                label_selector=selector)
            if any(owner.get("uid") == uid
                   for owner in pod["metadata"].get("ownerReferences") or [])]
    return sorted(pods, key=_newest_key, reverse=True)


def rank_of(pod: dict[str, Any]) -> int:
    """The node rank the pod runs: its completion index (Indexed Job), 0 for the master and
    1 + its index for a worker (PyTorchJob), 0 for a plain Job's pod."""
    metadata = pod.get("metadata") or {}
    labels, annotations = metadata.get("labels") or {}, metadata.get("annotations") or {}
    index = annotations.get(COMPLETION_INDEX, labels.get(COMPLETION_INDEX))
    if index is not None:
        return int(index)
    if str(labels.get(REPLICA_TYPE, "")).lower() == "worker":
        return 1 + int(labels.get(REPLICA_INDEX, 0))
    return 0


def pod_of_rank(pods: list[dict[str, Any]], rank: int) -> dict[str, Any] | None:
    """The newest of PODS (newest first) that runs RANK."""
    return next((pod for pod in pods if rank_of(pod) == rank), None)


def main_container(pod: dict[str, Any]) -> str:
    """The container that runs llamafactory-cli (`pytorch` in a PyTorchJob's pods)."""
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    return "pytorch" if "pytorch" in names else names[0]


def started(pod: dict[str, Any]) -> bool:
    """Whether the pod's containers ran (so it has a log to read)."""
    status = pod.get("status") or {}
    if status.get("phase") in ("Running", "Succeeded", "Failed"):
        return True
    return any("running" in (c.get("state") or {}) or "terminated" in (c.get("state") or {})
               for c in status.get("containerStatuses") or [])


@dataclass(frozen=True)
class Judged:
    state: RunState
    completions: str
    reason: str | None  # the workload's own failure reason (BackoffLimitExceeded: ...)


def judge_run(run: Run, pods: list[dict[str, Any]]) -> Judged:
    """RUN's state from its object's status conditions and its pods' phases."""
    if run.is_pytorchjob:
        return _judge_pytorchjob(run, pods)
    spec, status = run.obj.get("spec") or {}, run.obj.get("status") or {}
    completions = (f"{status.get('succeeded') or 0}/{spec.get('completions') or 1} "
                   f"succeeded, {status.get('active') or 0} active, "
                   f"{status.get('failed') or 0} failed")
    for kind in ("Failed", "FailureTarget"):
        found = condition(run.obj, kind)
        if found is not None and found.get("status") == "True":
            return Judged(RunState.FAILED, completions, _reason(found))
    for kind in ("Complete", "SuccessCriteriaMet"):
        found = condition(run.obj, kind)
        if found is not None and found.get("status") == "True":
            return Judged(RunState.SUCCEEDED, completions, None)
    return Judged(_running_or_pending(pods), completions, None)


def _judge_pytorchjob(run: Run, pods: list[dict[str, Any]]) -> Judged:
    replicas = ((run.obj.get("status") or {}).get("replicaStatuses") or {}).values()
    succeeded = sum(int((r or {}).get("succeeded") or 0) for r in replicas)
    active = sum(int((r or {}).get("active") or 0) for r in replicas)
    failed = sum(int((r or {}).get("failed") or 0) for r in replicas)
    completions = (f"{succeeded}/{run.nodes} succeeded, {active} active, {failed} failed")
    true = [c for c in (run.obj.get("status") or {}).get("conditions") or []
            if c.get("status") == "True"]
    latest = true[-1] if true else {}
    if latest.get("type") == "Failed":
        return Judged(RunState.FAILED, completions, _reason(latest))
    if latest.get("type") == "Succeeded":
        return Judged(RunState.SUCCEEDED, completions, None)
    return Judged(_running_or_pending(pods), completions, None)


def _running_or_pending(pods: list[dict[str, Any]]) -> RunState:
    running = any((pod.get("status") or {}).get("phase") == "Running" for pod in pods)
    return RunState.RUNNING if running else RunState.PENDING


def _reason(found: dict[str, Any]) -> str:
    reason, message = found.get("reason") or found.get("type"), found.get("message")
    return f"{reason}: {message}" if message else str(reason)


def _template_labels(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == PYTORCHJOB[1]:
        replicas = spec.get("pytorchReplicaSpecs") or {}
        first = replicas.get("Master") or next(iter(replicas.values()), None) or {}
        spec = first
    elif obj.get("kind") != JOB[1]:
        return {}
    labels: dict[str, Any] = ((spec.get("template") or {}).get("metadata") or {}).get(
        "labels") or {}
    return labels


def _newest_key(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return (str(metadata.get("creationTimestamp") or ""), str(metadata.get("name") or ""))
