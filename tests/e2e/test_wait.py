"""`wait_for_ready` against the real API server and controller-manager.

No kubelet or scheduler runs in the test control plane, so the tests write what they would:
a Pod's status (ready, or an image that cannot be pulled), the scheduler's Unschedulable
condition, a Warning event. The controllers turn those into the Deployment's status, and
the wait must read them back as a user would see them.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Sequence
from typing import Any

import pytest

from lmfchart.base.errors import ClusterError
from lmfchart.kube.cluster import KubeCluster
from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.readiness import State
from lmfchart.usecases.wait import ObjectStatus, Outcome, WaitResult, wait_for_ready
from tests.support.runobjects import GPU_MESSAGE

from .cluster import make_deployment_ready, wait_for

pytestmark = pytest.mark.e2e

@pytest.fixture
def apps(api_client: Any) -> Any:
    from kubernetes import client

    return client.AppsV1Api(api_client)


def _deployment(name: str, namespace: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                     {"name": "llama-factory", "image": "registry.invalid/llamafactory:0.9",
                      "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}}},
    }


def _applied(kube: KubeCluster, *objs: dict[str, Any]) -> list[ObjectRef]:
    return [ObjectRef.of(kube.apply(obj)) for obj in objs]


def _the_pod(core: Any, namespace: str, name: str) -> Any:
    def created() -> Any:
        pods = core.list_namespaced_pod(namespace,
                                        label_selector=f"app.kubernetes.io/name={name}").items
        return pods[0] if pods else None

    return wait_for(f"the pod of deployment {name}", created)


def _wait(kube: KubeCluster, refs: list[ObjectRef], timeout_s: float,
          seen: list[Sequence[ObjectStatus]] | None = None) -> WaitResult:
    return wait_for_ready(cluster=kube, refs=refs, timeout_s=timeout_s, poll_s=0.5,
                          progress=None if seen is None else seen.append)


def test_waits_until_the_rollout_completes(kube: KubeCluster, core: Any, apps: Any,
                                           namespace: str) -> None:
    config = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "settings", "namespace": namespace}, "data": {"a": "1"}}
    service = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"name": "web", "namespace": namespace},
               "spec": {"selector": {"app.kubernetes.io/name": "web"},
                        "ports": [{"port": 7860}]}}
    refs = _applied(kube, config, service, _deployment("web", namespace))
    seen: list[Sequence[ObjectStatus]] = []
    results: list[WaitResult] = []
    waiting = threading.Thread(target=lambda: results.append(_wait(kube, refs, 90, seen)))
    waiting.start()
    try:
        # Let the wait see the rollout in progress first (a busy machine may start the
        # thread late), then play the kubelet.
        wait_for("the first poll", lambda: seen or None)
        make_deployment_ready(core, apps, "web", namespace)
    finally:
        waiting.join(120)

    [result] = results
    assert result.outcome is Outcome.READY, result.explanation()
    assert [(item.label, item.state) for item in result.objects] == [
        ("ConfigMap/settings", State.CURRENT), ("Service/web", State.CURRENT),
        ("Deployment/web", State.CURRENT)]
    assert result.objects[2].message == "1/1 replicas available"
    # It saw the rollout in progress before it saw it complete.
    assert seen[0][2].state is State.IN_PROGRESS


def test_an_image_that_cannot_be_pulled_is_named_with_its_warning(
        kube: KubeCluster, core: Any, namespace: str) -> None:
    refs = _applied(kube, _deployment("web", namespace))
    pod = _the_pod(core, namespace, "web")
    image = "registry.invalid/llamafactory:0.9"
    # What a kubelet writes when the registry does not answer, and the event it records.
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [{
            "name": "llama-factory", "image": image, "imageID": "", "ready": False,
            "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff",
                                  "message": f'Back-off pulling image "{image}"'}}}]}})
    _record_warning(core, namespace, pod, "Failed",
                    f'Failed to pull image "{image}": dial tcp: lookup registry.invalid: '
                    "no such host")

    started = time.monotonic()
    result = _wait(kube, refs, timeout_s=2)

    assert 2 <= time.monotonic() - started < 30
    assert result.outcome is Outcome.TIMED_OUT
    pod_name = pod.metadata.name
    explanation = result.explanation()
    assert explanation.splitlines()[:2] == [
        "timed out after 2s; 1 of 1 objects not ready:",
        "  Deployment/web: InProgress: 0/1 replicas available"]
    assert (f'    - pod {pod_name} container llama-factory: ImagePullBackOff: Back-off '
            f'pulling image "{image}"') in explanation.splitlines()
    assert (f'    - Warning Failed on Pod/{pod_name}: Failed to pull image "{image}": dial '
            "tcp: lookup registry.invalid: no such host") in explanation.splitlines()


def test_an_unschedulable_pod_gives_the_scheduler_message(kube: KubeCluster, core: Any,
                                                          namespace: str) -> None:
    refs = _applied(kube, _deployment("web", namespace))
    pod = _the_pod(core, namespace, "web")
    # What the scheduler writes when no node has a free GPU.
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {
        "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                        "message": GPU_MESSAGE}]}})
    _record_warning(core, namespace, pod, "FailedScheduling", GPU_MESSAGE)

    result = _wait(kube, refs, timeout_s=1)

    [deployment] = result.objects
    assert deployment.reasons == (
        f"pod {pod.metadata.name}: Unschedulable: {GPU_MESSAGE}",
        f"Warning FailedScheduling on Pod/{pod.metadata.name}: {GPU_MESSAGE}")
    assert "Insufficient nvidia.com/gpu" in result.explanation()


def test_a_failed_job_stops_the_wait_and_says_how_its_pod_ended(kube: KubeCluster, core: Any,
                                                                  namespace: str) -> None:
    labels = {"app.kubernetes.io/name": "fetch"}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "fetch", "namespace": namespace},
           "spec": {"backoffLimit": 0, "template": {"metadata": {"labels": labels}, "spec": {
               "restartPolicy": "Never",
               "containers": [{"name": "download", "image": "registry.invalid/fetch:1"}]}}}}
    refs = _applied(kube, job)
    pod = _the_pod(core, namespace, "fetch")
    # What a kubelet writes when the container exits with an error.
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {
        "phase": "Failed",
        "conditions": [{"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [{
            "name": "download", "image": "registry.invalid/fetch:1", "imageID": "",
            "ready": False, "restartCount": 0,
            "state": {"terminated": {"reason": "Error", "exitCode": 3,
                                     "message": "model not found"}}}]}})

    started = time.monotonic()
    result = _wait(kube, refs, timeout_s=120)

    # The job controller marks it Failed, and the wait stops then, not at the timeout.
    assert result.outcome is Outcome.FAILED and time.monotonic() - started < 60
    [status] = result.objects
    assert status.state is State.FAILED
    assert status.message.startswith("BackoffLimitExceeded: ")
    assert result.explanation().startswith("Job/fetch failed after ")
    assert (f"pod {pod.metadata.name} container download: terminated: Error, exit code 3: "
            "model not found") in status.reasons


def test_a_pending_claim_and_a_missing_object_are_named(kube: KubeCluster, core: Any,
                                                        namespace: str) -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
             "metadata": {"name": "data", "namespace": namespace},
             "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "no-such-class",
                      "resources": {"requests": {"storage": "1Gi"}}}}
    refs = [*_applied(kube, claim), ObjectRef("v1", "ConfigMap", namespace, "never-made")]
    # The persistent volume controller's own complaint; the wait must pass it on.
    wait_for("the claim's ProvisioningFailed event", lambda: core.list_namespaced_event(
        namespace, field_selector="involvedObject.name=data,type=Warning").items)

    result = _wait(kube, refs, timeout_s=1)

    lines = result.explanation().splitlines()
    warning = ('    - Warning ProvisioningFailed on PersistentVolumeClaim/data: '
               'storageclass.storage.k8s.io "no-such-class" not found')
    # The controller retries, so the event's count may have grown: " (x2)" and so on.
    assert re.fullmatch(re.escape(warning) + r"( \(x\d+\))?", lines[3]), lines[3]
    assert lines[:3] + lines[4:] == [
        "timed out after 1s; 2 of 2 objects not ready:",
        "  PersistentVolumeClaim/data: InProgress: Pending, not Bound",
        "    - Pending: 1Gi ReadWriteOnce with storage class 'no-such-class'; no volume is "
        "bound to it yet",
        "  ConfigMap/never-made: InProgress: not found",
    ]


def test_list_objects_by_selector_one_request_each(
        kube: KubeCluster, core: Any, namespace: str, requests_sent: list[str]) -> None:
    for name, tier in (("a", "web"), ("b", "db")):
        core.create_namespaced_config_map(namespace, {"metadata": {
            "name": name, "labels": {"tier": tier}}})
    kube.list_objects("v1", "ConfigMap", namespace)  # discovery, then cached
    requests_sent.clear()

    by_label = kube.list_objects("v1", "ConfigMap", namespace, label_selector="tier=web")
    by_field = kube.list_objects("v1", "ConfigMap", namespace, field_selector="metadata.name=b")

    assert [(item["kind"], item["metadata"]["name"]) for item in by_label] == [
        ("ConfigMap", "a")]
    assert [item["metadata"]["name"] for item in by_field] == ["b"]
    assert requests_sent == [
        f"GET api/v1/namespaces/{namespace}/configmaps?labelSelector=tier%3Dweb",
        f"GET api/v1/namespaces/{namespace}/configmaps?fieldSelector=metadata.name%3Db"]


def test_log_tail_of_a_pod_on_no_node_is_empty_and_of_none_an_error(
        kube: KubeCluster, core: Any, namespace: str) -> None:
    _applied(kube, _deployment("web", namespace))
    pod = _the_pod(core, namespace, "web")

    # The API server answers 204 (no content) until a node runs the pod.
    assert kube.pod_log_tail(namespace, pod.metadata.name, "llama-factory", lines=10,
                             previous=True) == ""
    with pytest.raises(ClusterError) as raised:
        kube.pod_log_tail(namespace, "no-such-pod", "llama-factory", lines=10, previous=False)

    assert (raised.value.kind, raised.value.status) == ("Pod", 404)
    assert str(raised.value).startswith(
        "Pod/no-such-pod (log of container llama-factory): ")
    assert 'pods "no-such-pod" not found' in str(raised.value)


def _record_warning(core: Any, namespace: str, pod: Any, reason: str, message: str) -> None:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    core.create_namespaced_event(namespace, {
        "metadata": {"name": f"{pod.metadata.name}.{reason.lower()}"},
        "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name,
                           "namespace": namespace, "uid": pod.metadata.uid},
        "reason": reason, "message": message, "type": "Warning", "count": 1,
        "firstTimestamp": now, "lastTimestamp": now,
        "source": {"component": "kubelet"},
    })
