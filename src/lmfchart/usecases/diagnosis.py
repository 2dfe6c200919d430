"""Why an object is not ready: what its pods, its claim and the recent Warning events say.

Helm's `--wait` only says that it timed out; these are the lines a user would otherwise
dig out of `kubectl describe` and `kubectl logs --previous`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import ClusterError
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.readiness import condition

# Kinds whose pods are found through spec.selector.
_WORKLOADS = frozenset({"Deployment", "Job", "StatefulSet", "DaemonSet", "ReplicaSet"})
LOG_LINES = 10
EVENTS_PER_OBJECT = 5
PODS_PER_OBJECT = 3


@dataclass(frozen=True)
class Clues:
    """What one round of diagnosis read once for a whole namespace."""

    warnings: tuple[dict[str, Any], ...]


def read_clues(*, cluster: Cluster, namespace: str) -> Clues:
    """The Warning events of NAMESPACE (one request)."""
    events = cluster.list_objects("v1", "Event", namespace, field_selector="type=Warning")
    return Clues(tuple(sorted(events, key=_event_time, reverse=True)))


class WarningsOnce:
    """The Warning events about an object, the namespace's read on first need only."""

    def __init__(self, cluster: Cluster) -> None:
        self._cluster = cluster
        self._clues: dict[str, Clues] = {}

    def clues(self, namespace: str) -> Clues:
        if namespace not in self._clues:
            self._clues[namespace] = read_clues(cluster=self._cluster, namespace=namespace)
        return self._clues[namespace]

    def about(self, obj: dict[str, Any]) -> list[str]:
        return warnings_about(self.clues(str(obj["metadata"]["namespace"])), [obj])


def diagnose(*, cluster: Cluster, ref: ObjectRef, obj: dict[str, Any] | None, clues: Clues,
             with_logs: bool) -> tuple[str, ...]:
    """The reasons OBJ (live, None when missing) is not ready, most telling first.

    With WITH_LOGS the last log lines of each crashed container are read too (one request
    per container): worth it for the final report, not on every poll.
    """
    if obj is None:
        return ()
    reasons: list[str] = []
    involved = [obj]
    if ref.kind in _WORKLOADS and ref.namespace:
        pods = [pod for pod in _pods(cluster, ref.namespace, obj) if not _ready(pod)]
        for pod in pods[:PODS_PER_OBJECT]:
            reasons.extend(pod_reasons(cluster=cluster, namespace=ref.namespace, pod=pod,
                                       with_logs=with_logs))
        involved.extend(pods)
    if ref.kind == "PersistentVolumeClaim":
        reasons.extend(_claim_reasons(obj))
    reasons.extend(warnings_about(clues, involved))
    return tuple(dict.fromkeys(reasons))  # one pod's reasons often repeat another's


def _pods(cluster: Cluster, namespace: str, obj: dict[str, Any]) -> list[dict[str, Any]]:
    selector = label_selector((obj.get("spec") or {}).get("selector") or {})
    if not selector:
        return []
    return cluster.list_objects("v1", "Pod", namespace, label_selector=selector)


def label_selector(selector: dict[str, Any]) -> str:
    """A LabelSelector object in the query syntax the API server reads."""
    terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels")
                                                         or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = ",".join(expression.get("values") or [])
        terms.append({"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                      "Exists": key, "DoesNotExist": f"!{key}"}[operator])
    return ",".join(terms)


def _ready(pod: dict[str, Any]) -> bool:
    found = condition(pod, "Ready")
    return found is not None and found.get("status") == "True"


def pod_reasons(*, cluster: Cluster, namespace: str, pod: dict[str, Any],
                with_logs: bool) -> list[str]:
    """Why POD is not running: not scheduled (with the scheduler's message), evicted, a
    container waiting (ImagePullBackOff, ...) or terminated with an error (OOMKilled, exit
    code); with WITH_LOGS the last log lines of a crashed container too."""
    name = pod["metadata"]["name"]
    status = pod.get("status") or {}
    reasons = []
    scheduled = condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        said = _joined(scheduled.get("reason") or "not scheduled", scheduled.get("message"))
        reasons.append(f"pod {name}: {said}")
    if status.get("phase") == "Failed" and status.get("reason"):
        # Evicted, DeadlineExceeded, ...: the pod itself, not one of its containers.
        reasons.append(f"pod {name}: Failed: {_joined(status['reason'], status.get('message'))}")
    containers = [*(status.get("initContainerStatuses") or []),
                  *(status.get("containerStatuses") or [])]
    for container in containers:
        trouble, crashed_before = _container_reason(container)
        if trouble is None:
            continue
        reasons.append(f"pod {name} container {container['name']}: {trouble}")
        if with_logs and crashed_before is not None:
            reasons.append(_log_tail(cluster, namespace, name, container["name"],
                                     previous=crashed_before))
    return reasons


def _container_reason(container: dict[str, Any]) -> tuple[str | None, bool | None]:
    """What is wrong with one container, and whether its logs tell why (of the previous
    run: True; of this one: False; no logs worth reading: None)."""
    state = container.get("state") or {}
    waiting, terminated = state.get("waiting"), state.get("terminated")
    last = (container.get("lastState") or {}).get("terminated")
    if waiting:
        reason = waiting.get("reason") or "waiting"
        said = _joined(reason, waiting.get("message"))
        if last:
            said += f" (last run: {_ended(last)})"
        return said, (True if reason == "CrashLoopBackOff" or last else None)
    if terminated and terminated.get("exitCode", 0) != 0:
        return f"terminated: {_ended(terminated)}", False
    return None, None


def _ended(terminated: dict[str, Any]) -> str:
    said = f"{terminated.get('reason') or 'exited'}, exit code {terminated.get('exitCode')}"
    return _joined(said, terminated.get("message"))


def _log_tail(cluster: Cluster, namespace: str, pod: str, container: str, *,
              previous: bool) -> str:
    heading = f"pod {pod} container {container}: last log lines" + (
        " before the crash" if previous else "")
    try:
        text = cluster.pod_log_tail(namespace, pod, container, lines=LOG_LINES,
                                    previous=previous)
    except ClusterError as error:
        return f"{heading} unavailable: {error}"
    lines = text.rstrip("\n").splitlines()[-LOG_LINES:]
    if not lines:
        return f"{heading}: (none)"
    return heading + ":\n" + "\n".join(f"  | {line}" for line in lines)


def _claim_reasons(claim: dict[str, Any]) -> list[str]:
    if ((claim.get("status") or {}).get("phase") or "Pending") != "Pending":
        return []
    spec = claim.get("spec") or {}
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "?")
    storage_class = spec.get("storageClassName")
    which = f"storage class {storage_class!r}" if storage_class else "no storage class"
    return [f"Pending: {storage} {'/'.join(spec.get('accessModes') or [])} with {which}; "
            f"no volume is bound to it yet"]


def warnings_about(clues: Clues, involved: list[dict[str, Any]]) -> list[str]:
    """The newest Warning events (at most EVENTS_PER_OBJECT) about any of INVOLVED."""
    uids = {(item.get("metadata") or {}).get("uid") for item in involved} - {None}
    names = {(item.get("kind"), item["metadata"]["name"]) for item in involved}
    said = []
    for event in clues.warnings:
        about = event.get("involvedObject") or {}
        if about.get("uid") in uids or (about.get("kind"), about.get("name")) in names:
            count = event.get("count") or 1
            said.append(f"Warning {event.get('reason')} on {about.get('kind')}/"
                        f"{about.get('name')}: {(event.get('message') or '').strip()}"
                        + (f" (x{count})" if count > 1 else ""))
        if len(said) == EVENTS_PER_OBJECT:
            break
    return said


def _event_time(event: dict[str, Any]) -> str:
    series = event.get("series") or {}
    return str(series.get("lastObservedTime") or event.get("lastTimestamp")
               or event.get("eventTime") or event.get("firstTimestamp")
               or (event.get("metadata") or {}).get("creationTimestamp") or "")


def _joined(reason: str, message: str | None) -> str:
    return f"{reason}: {message.strip()}" if message and message.strip() else reason
