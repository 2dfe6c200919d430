"""`lmfchart install --wait` as a user runs it, against the real control plane.

No kubelet runs, so while lmfchart waits the test writes what one would: the Pod ready
(success), or an image that cannot be pulled with its Warning event (failure). The release
record is read back with the real helm binary.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import example_values

from .cluster import Cluster, make_deployment_ready, wait_for, write_image_pull_backoff
from .commands import helm_history, records, start_lmfchart

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

NAME = "lmf-llama-factory"
IMAGE_ERROR = 'Back-off pulling image "kubeagi/llama-factory:v0.6.1"'


def _start_install(cluster: Cluster, namespace: str, *flags: str) -> subprocess.Popen[str]:
    """`lmfchart install --wait` of the seed values in its own process."""
    return start_lmfchart(cluster, "install", "-n", namespace, "-f",
                          str(example_values("seed")), "--wait", *flags)


def _the_pod(core: Any, namespace: str) -> Any:
    def created() -> Any:
        pods = core.list_namespaced_pod(namespace).items
        return pods[0] if pods else None

    return wait_for(f"the pod of {NAME}", created)


def test_install_waits_for_the_rollout_then_records_it_deployed(
        cluster: Cluster, namespace: str, core: Any, api_client: Any, helm4: Path) -> None:
    from kubernetes import client

    started = _start_install(cluster, namespace, "--timeout", "2m")
    try:
        def deployment_created() -> bool:
            return bool(client.AppsV1Api(api_client).list_namespaced_deployment(
                namespace).items)

        wait_for("the Deployment", deployment_created)
        # Not deployed while the rollout is still going.
        assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "pending-install"}
        make_deployment_ready(core, client.AppsV1Api(api_client), NAME, namespace)
        out, err = started.communicate(timeout=120)
    finally:
        started.kill()

    assert started.returncode == 0, err
    lines = out.splitlines()
    assert "waiting up to 2m0s for 3 objects to be ready" in lines
    assert any(line.startswith(f"  Deployment/{NAME}: InProgress: ") for line in lines), out
    assert f"  Deployment/{NAME}: Current: 1/1 replicas available" in lines
    assert any(line.startswith("all 3 objects ready after ") for line in lines), out
    assert helm_history(helm4, cluster, namespace) == [(1, "deployed", "Install complete")]


def test_install_that_does_not_become_ready_says_why_and_records_failed(
        cluster: Cluster, namespace: str, core: Any, helm4: Path) -> None:
    started = _start_install(cluster, namespace, "--timeout", "8s")
    begun = time.monotonic()
    try:
        pod = _the_pod(core, namespace)
        # What a kubelet writes and records when the image cannot be pulled.
        write_image_pull_backoff(core, pod, namespace, IMAGE_ERROR)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        core.create_namespaced_event(namespace, {
            "metadata": {"name": f"{pod.metadata.name}.pull"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod.metadata.name,
                               "namespace": namespace, "uid": pod.metadata.uid},
            "reason": "Failed", "type": "Warning", "count": 3,
            "message": "Failed to pull image: toomanyrequests: rate limit",
            "firstTimestamp": now, "lastTimestamp": now, "source": {"component": "kubelet"}})
        assert time.monotonic() - begun < 8, "too slow to act before the timeout"
        out, err = started.communicate(timeout=120)
    finally:
        started.kill()

    assert started.returncode == 5, out + err
    pod_name = pod.metadata.name
    assert err.splitlines() == [
        f"error: release lmf in namespace {namespace}: revision 1 is not ready (recorded as "
        "failed): timed out after 8s; 1 of 3 objects not ready:",
        f"  Deployment/{NAME}: InProgress: 0/1 replicas available",
        f"    - pod {pod_name} container llama-factory: ImagePullBackOff: {IMAGE_ERROR}",
        f"    - Warning Failed on Pod/{pod_name}: Failed to pull image: toomanyrequests: "
        "rate limit (x3)",
    ]
    assert "Traceback" not in err
    [(revision, status, description)] = helm_history(helm4, cluster, namespace)
    assert (revision, status) == (1, "failed")
    assert description == (f'Release "lmf" failed: timed out after 8s: Deployment/{NAME}: '
                           f"0/1 replicas available (pod {pod_name} container llama-factory: "
                           f"ImagePullBackOff: {IMAGE_ERROR})")
