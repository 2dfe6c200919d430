"""Whether one live object is ready, by kstatus's rules (the ones Helm 4's `--wait` uses).

Pure: it reads the object the server returned and nothing else. `Current` means ready,
`InProgress` means not yet (keep waiting), `Failed` means it will not become ready by
itself (stop waiting).

Jobs and Kubeflow PyTorchJobs are runs, not services: `Current` once they succeeded,
`InProgress` while they run, `Failed` when they failed. `install --wait` does not wait
for runs (`is_run`): a training run takes hours; `status` shows how each one is doing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class State(StrEnum):
    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"


@dataclass(frozen=True)
class Readiness:
    state: State
    message: str


def _current(message: str) -> Readiness:
    return Readiness(State.CURRENT, message)


def _in_progress(message: str) -> Readiness:
    return Readiness(State.IN_PROGRESS, message)


def _failed(message: str) -> Readiness:
    return Readiness(State.FAILED, message)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The status condition of type KIND, if the object has one."""
    for item in (obj.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            found: dict[str, Any] = item
            return found
    return None


def _is_true(obj: dict[str, Any], kind: str) -> bool:
    found = condition(obj, kind)
    return found is not None and found.get("status") == "True"


def _number(mapping: dict[str, Any], key: str, default: int = 0) -> int:
    value = mapping.get(key)
    return default if value is None else int(value)


def readiness(obj: dict[str, Any] | None) -> Readiness:
    """The object's state and a one-line message saying what it waits for (or did)."""
    if obj is None:
        return _in_progress("not found")
    generic = _generic(obj)
    if generic is not None:
        return generic
    rule = _RULES.get(obj.get("kind", ""), _conditions)
    return rule(obj)


def _generic(obj: dict[str, Any]) -> Readiness | None:
    """What kstatus checks on every object first: deletion and the observed generation."""
    metadata = obj.get("metadata") or {}
    if metadata.get("deletionTimestamp"):
        return _in_progress("being deleted")
    status = obj.get("status") or {}
    observed = status.get("observedGeneration")
    generation = metadata.get("generation")
    if observed is not None and generation is not None and int(observed) < int(generation):
        return _in_progress(f"generation {generation} not observed yet "
                            f"(the controller has seen {observed})")
    return None


def _conditions(obj: dict[str, Any]) -> Readiness:
    """Any other kind: the Stalled, Reconciling and Ready conditions, when it has them."""
    stalled = condition(obj, "Stalled")
    if stalled is not None and stalled.get("status") == "True":
        return _failed(_said(stalled, "stalled"))
    reconciling = condition(obj, "Reconciling")
    if reconciling is not None and reconciling.get("status") == "True":
        return _in_progress(_said(reconciling, "reconciling"))
    ready = condition(obj, "Ready")
    if ready is not None and ready.get("status") != "True":
        return _in_progress(_said(ready, "not Ready"))
    return _current("ready")


def _said(found: dict[str, Any], fallback: str) -> str:
    parts = [part for part in (found.get("reason"), found.get("message")) if part]
    return ": ".join(parts) or fallback


def _deployment(obj: dict[str, Any]) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return _failed(_said(progressing, "progress deadline exceeded"))
    wanted = _number(spec, "replicas", 1)
    updated = _number(status, "updatedReplicas")
    replicas = _number(status, "replicas")
    available = _number(status, "availableReplicas")
    ready = _number(status, "readyReplicas")
    if updated < wanted:
        return _in_progress(f"{updated}/{wanted} replicas updated")
    if replicas > updated:
        return _in_progress(f"{replicas - updated} old replicas pending termination")
    if available < updated:
        return _in_progress(f"{available}/{updated} replicas available")
    if ready < wanted:
        return _in_progress(f"{ready}/{wanted} replicas ready")
    return _current(f"{available}/{wanted} replicas available")


def _job(obj: dict[str, Any]) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    completions = _number(spec, "completions", 1)
    succeeded, failed = _number(status, "succeeded"), _number(status, "failed")
    if _is_true(obj, "Failed"):
        return _failed(_said(condition(obj, "Failed") or {}, f"failed: {failed} pods"))
    if _is_true(obj, "Complete"):
        return _current(f"complete: {succeeded}/{completions} succeeded")
    if not status.get("startTime"):
        return _in_progress("not started")
    return _in_progress(f"running: {succeeded}/{completions} succeeded, "
                        f"{_number(status, 'active')} active, {failed} failed")


def _training_job(obj: dict[str, Any]) -> Readiness:
    """A Kubeflow training job (PyTorchJob): its operator's conditions, latest state
    first as the operator orders them."""
    for kind, state in (("Failed", State.FAILED), ("Succeeded", State.CURRENT),
                        ("Suspended", State.IN_PROGRESS), ("Restarting", State.IN_PROGRESS),
                        ("Running", State.IN_PROGRESS)):
        if _is_true(obj, kind):
            return Readiness(state, _said(condition(obj, kind) or {}, kind.lower()))
    if _is_true(obj, "Created"):
        return _in_progress("created; its pods are not running yet")
    return _in_progress("not started: no training operator has taken it up yet")


def is_run(api_version: str, kind: str) -> bool:
    """Whether objects of this kind run to completion (a Job) rather than serve."""
    return (api_version, kind) in _RUNS


def _claim(obj: dict[str, Any]) -> Readiness:
    phase = (obj.get("status") or {}).get("phase") or "Pending"
    if phase == "Bound":
        return _current("Bound")
    if phase == "Lost":
        return _failed("Lost: its volume is gone")
    return _in_progress(f"{phase}, not Bound")


def _service(obj: dict[str, Any]) -> Readiness:
    if (obj.get("spec") or {}).get("type") != "LoadBalancer":
        return _current("ready")
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress")
    if not ingress:
        return _in_progress("waiting for the load balancer's address")
    first = ingress[0]
    return _current(f"load balancer at {first.get('ip') or first.get('hostname')}")


def _exists(_: dict[str, Any]) -> Readiness:
    return _current("exists")


def _pod(obj: dict[str, Any]) -> Readiness:
    phase = (obj.get("status") or {}).get("phase") or "Pending"
    if phase == "Succeeded":
        return _current("Succeeded")
    if phase == "Failed":
        return _failed("Failed")
    if _is_true(obj, "Ready"):
        return _current("Ready")
    return _in_progress(f"{phase}, not Ready")


_RUNS = {("batch/v1", "Job"), ("kubeflow.org/v1", "PyTorchJob")}

_RULES: dict[str, Callable[[dict[str, Any]], Readiness]] = {
    "Deployment": _deployment,
    "Job": _job,
    "PyTorchJob": _training_job,
    "PersistentVolumeClaim": _claim,
    "Service": _service,
    "Pod": _pod,
    # Ready once they exist: nothing reports progress on them (an Ingress's address
    # depends on a controller that many clusters do not run, as in kstatus).
    "Ingress": _exists,
    "ServiceAccount": _exists,
    "ConfigMap": _exists,
    "Secret": _exists,
    "Namespace": _exists,
}
