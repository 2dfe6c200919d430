"""`wait_for_ready` with an in-memory cluster and a fake clock: when it stops, and what it
says about each object that is not ready. The e2e tests (tests/e2e/test_wait.py) run the
same waits against a real API server."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import pytest

from lmfchart.base.errors import UsageError
from lmfchart.inputs.durations import format_duration, parse_duration
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.diagnosis import label_selector
from lmfchart.usecases.readiness import State
from lmfchart.usecases.wait import ObjectStatus, Outcome, wait_for_ready
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster

NS = "ml"
LABELS = {"app.kubernetes.io/name": "web"}


def _deployment(*, ready: bool) -> dict[str, Any]:
    counts = {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS, "generation": 1, "uid": "d-1"},
            "spec": {"replicas": 1, "selector": {"matchLabels": LABELS}},
            "status": {"observedGeneration": 1,
                       **(counts if ready else {"replicas": 1, "updatedReplicas": 1,
                                                "unavailableReplicas": 1})}}


def _pod(name: str, *, conditions: Sequence[dict[str, str]] = (),
         containers: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "labels": LABELS, "uid": f"u-{name}"},
            "status": {"phase": "Pending", "conditions": list(conditions),
                       "containerStatuses": list(containers)}}


def _waiting(reason: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"name": "main", "ready": False, "restartCount": 0,
            "state": {"waiting": {"reason": reason, "message": message}}, **extra}


def _warning(about: dict[str, Any], reason: str, message: str, count: int = 1,
             when: str = "2026-01-01T00:00:10Z") -> dict[str, Any]:
    metadata = about["metadata"]
    return {"apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": reason,
            "message": message, "count": count, "lastTimestamp": when,
            "metadata": {"name": f"{metadata['name']}.{reason}-{when}", "namespace": NS},
            "involvedObject": {"kind": about["kind"], "name": metadata["name"],
                               "uid": metadata["uid"]}}


def _refs(*objs: dict[str, Any]) -> list[ObjectRef]:
    return [ObjectRef.of(obj) for obj in objs]


def _wait(cluster: FakeCluster, refs: list[ObjectRef], clock: FakeClock, timeout_s: float = 60,
          seen: list[Sequence[ObjectStatus]] | None = None) -> Any:
    return wait_for_ready(cluster=cluster, refs=refs, timeout_s=timeout_s, poll_s=2,
                          progress=None if seen is None else seen.append, clock=clock)


def test_ready_at_once_stops_without_sleeping_or_diagnosing() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": NS}}
    cluster.put(_deployment(ready=True))
    cluster.put(config)

    result = _wait(cluster, _refs(_deployment(ready=True), config), clock)

    assert result.outcome is Outcome.READY and result.ready
    assert clock.slept == []
    assert cluster.requests == [("get", "Deployment/web"), ("get", "ConfigMap/c")]
    assert result.explanation() == "all 2 objects ready after 0s"


def test_polls_until_the_rollout_completes_and_reports_each_poll() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    cluster.put(_deployment(ready=False))
    cluster.put(_pod("web-1", conditions=[{"type": "PodScheduled", "status": "True"}],
                     containers=[_waiting("ContainerCreating")]))
    clock.schedule.append((6, lambda: cluster.put(_deployment(ready=True))))
    seen: list[Sequence[ObjectStatus]] = []

    result = _wait(cluster, _refs(_deployment(ready=False)), clock, seen=seen)

    assert result.outcome is Outcome.READY
    assert clock.slept == [2, 2, 2]
    assert [[(item.state, item.message) for item in poll] for poll in seen] == [
        [(State.IN_PROGRESS, "0/1 replicas available")]] * 3 + [
        [(State.CURRENT, "1/1 replicas available")]]
    assert seen[0][0].reasons == ("pod web-1 container main: ContainerCreating",)


def test_timeout_names_each_object_and_why_image_pull() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    deployment = _deployment(ready=False)
    pod = _pod("web-1", containers=[_waiting(
        "ImagePullBackOff", 'Back-off pulling image "registry.invalid/app:1"')])
    cluster.put(deployment)
    cluster.put(pod)
    cluster.put(_warning(pod, "Failed", 'Failed to pull image "registry.invalid/app:1": not '
                         "found", count=4))
    cluster.put({**_warning(pod, "Scheduled", "assigned"), "type": "Normal"})

    result = _wait(cluster, _refs(deployment), clock, timeout_s=300)

    assert result.outcome is Outcome.TIMED_OUT
    assert sum(clock.slept) == 300
    assert result.explanation() == "\n".join([
        "timed out after 5m0s; 1 of 1 objects not ready:",
        "  Deployment/web: InProgress: 0/1 replicas available",
        '    - pod web-1 container main: ImagePullBackOff: Back-off pulling image '
        '"registry.invalid/app:1"',
        '    - Warning Failed on Pod/web-1: Failed to pull image "registry.invalid/app:1": '
        "not found (x4)",
    ])
    # An image that cannot be pulled never ran: no logs are asked for.
    assert "log" not in [verb for verb, _ in cluster.requests]


def test_crash_loop_shows_the_last_log_lines_of_the_crashed_run() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    deployment = _deployment(ready=False)
    crashed = {"terminated": {"reason": "Error", "exitCode": 1}}
    cluster.put(deployment)
    cluster.put(_pod("web-1", containers=[_waiting(
        "CrashLoopBackOff", "back-off 40s restarting failed container=main",
        lastState=crashed, restartCount=3)]))
    cluster.logs[("web-1", "main", True)] = "loading model\nCUDA error: out of memory\n"

    result = _wait(cluster, _refs(deployment), clock, timeout_s=10)

    assert result.objects[0].reasons == (
        "pod web-1 container main: CrashLoopBackOff: back-off 40s restarting failed "
        "container=main (last run: Error, exit code 1)",
        "pod web-1 container main: last log lines before the crash:\n"
        "  | loading model\n  | CUDA error: out of memory",
    )
    # Logs are read once, for the final report, not on every poll.
    assert [(verb, what) for verb, what in cluster.requests if verb == "log"] == [
        ("log", "Pod/web-1/main (previous)")]
    assert "  | CUDA error: out of memory" in result.explanation()


def test_logs_that_cannot_be_read_are_said_so_and_the_wait_still_reports() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    cluster.put(_deployment(ready=False))
    cluster.put(_pod("web-1", containers=[_waiting(
        "CrashLoopBackOff", "", lastState={"terminated": {"reason": "OOMKilled",
                                                          "exitCode": 137}})]))

    result = _wait(cluster, _refs(_deployment(ready=False)), clock, timeout_s=2)

    assert result.objects[0].reasons[-1] == (
        "pod web-1 container main: last log lines before the crash unavailable: "
        'Pod/web-1: previous terminated container "main" in pod "web-1" not found')


def test_unschedulable_pod_gives_the_scheduler_message() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    message = "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."
    cluster.put(_deployment(ready=False))
    cluster.put(_pod("web-1", conditions=[{"type": "PodScheduled", "status": "False",
                                           "reason": "Unschedulable", "message": message}]))

    result = _wait(cluster, _refs(_deployment(ready=False)), clock, timeout_s=4)

    assert result.objects[0].reasons == (f"pod web-1: Unschedulable: {message}",)


def test_an_evicted_pod_says_why_it_was_evicted() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    cluster.put(_deployment(ready=False))
    evicted = _pod("web-1")
    evicted["status"] = {"phase": "Failed", "reason": "Evicted",
                         "message": "The node was low on resource: memory."}
    cluster.put(evicted)

    result = _wait(cluster, _refs(_deployment(ready=False)), clock, timeout_s=2)

    assert result.objects[0].reasons == (
        "pod web-1: Failed: Evicted: The node was low on resource: memory.",)


def test_a_failed_job_stops_the_wait_before_the_timeout() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "fetch", "namespace": NS, "uid": "j-1"},
           "spec": {"completions": 1, "selector": {"matchLabels": LABELS}},
           "status": {"startTime": "2026-01-01T00:00:00Z", "active": 1}}
    failed = copy.deepcopy(job)
    failed["status"] = {"startTime": "2026-01-01T00:00:00Z", "failed": 2, "conditions": [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit"}]}
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "data", "namespace": NS, "uid": "c-1"},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast",
                      "resources": {"requests": {"storage": "50Gi"}}},
             "status": {"phase": "Pending"}}
    cluster.put(job)
    cluster.put(claim)
    cluster.put(_warning(claim, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" '
                         "not found"))
    pod = _pod("fetch-x", containers=[{"name": "main", "state": {"terminated": {
        "reason": "Error", "exitCode": 2, "message": "no such model"}}}])
    cluster.put(pod)
    cluster.logs[("fetch-x", "main", False)] = "downloading\n404 Not Found\n"
    clock.schedule.append((4, lambda: cluster.put(failed)))

    result = _wait(cluster, _refs(job, claim), clock, timeout_s=600)

    assert result.outcome is Outcome.FAILED and sum(clock.slept) == 4
    assert result.explanation() == "\n".join([
        "Job/fetch failed after 4s; 2 of 2 objects not ready:",
        "  Job/fetch: Failed: BackoffLimitExceeded: Job has reached the specified backoff "
        "limit",
        "    - pod fetch-x container main: terminated: Error, exit code 2: no such model",
        "    - pod fetch-x container main: last log lines:",
        "        | downloading",
        "        | 404 Not Found",
        "  PersistentVolumeClaim/data: InProgress: Pending, not Bound",
        "    - Pending: 50Gi ReadWriteOnce with storage class 'fast'; no volume is bound to "
        "it yet",
        '    - Warning ProvisioningFailed on PersistentVolumeClaim/data: '
        'storageclass.storage.k8s.io "fast" not found',
    ])


def test_missing_objects_are_waited_for() -> None:
    cluster, clock = FakeCluster(), FakeClock()
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "late", "namespace": NS}}
    clock.schedule.append((2, lambda: cluster.put(config)))

    result = _wait(cluster, _refs(config), clock)

    assert result.outcome is Outcome.READY and clock.slept == [2]


def test_label_selector_query_syntax() -> None:
    assert label_selector({"matchLabels": {"b": "2", "a": "1"}, "matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "env", "operator": "NotIn", "values": ["dev"]},
        {"key": "gpu", "operator": "Exists"},
        {"key": "spot", "operator": "DoesNotExist"}]}) == (
        "a=1,b=2,tier in (web,api),env notin (dev),gpu,!spot")


@pytest.mark.parametrize(("text", "seconds"), [
    ("300s", 300), ("5m", 300), ("1h30m", 5400), ("1.5h", 5400), ("0", 0),
    ("90s", 90), ("500ms", 0.5), ("1m30.5s", 90.5),
])
def test_timeouts_in_go_duration_syntax(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5", "five minutes", "", "5 m", "-5m", "1d"])
def test_bad_timeouts_are_usage_errors_naming_the_flag(text: str) -> None:
    with pytest.raises(UsageError, match="--timeout"):
        parse_duration(text)


def test_durations_print_like_go() -> None:
    assert [format_duration(s) for s in (0, 59.6, 300, 3723)] == ["0s", "1m0s", "5m0s",
                                                                  "1h2m3s"]
