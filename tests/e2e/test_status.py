"""`lmfchart status` against the real control plane: each object's readiness and, while it
is not ready, why (the same rules and reasons `install --wait` shows).

No kubelet runs, so the test writes what one would: an image that cannot be pulled, then
the Pod ready.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import example_values

from .cluster import Cluster, make_deployment_ready, wait_for, write_image_pull_backoff
from .commands import lmfchart

pytestmark = [pytest.mark.e2e]

NAME = "lmf-llama-factory"
IMAGE_ERROR = 'Back-off pulling image "kubeagi/llama-factory:v0.6.1"'


def _deployment_state(cluster: Cluster, namespace: str) -> dict[str, Any]:
    shown = lmfchart(cluster, "status", "-n", namespace, "-o", "json")
    assert shown.exit_code == 0, shown.output
    [found] = [o for o in json.loads(shown.stdout)["objects"] if o["kind"] == "Deployment"]
    state: dict[str, Any] = found
    return state


def test_status_shows_each_objects_readiness_and_why_not_ready(
        cluster: Cluster, namespace: str, api_client: Any) -> None:
    from kubernetes import client

    core, apps = client.CoreV1Api(api_client), client.AppsV1Api(api_client)
    done = lmfchart(cluster, "install", "-n", namespace, "-f", str(example_values("seed")))
    assert done.exit_code == 0, done.output
    pod = wait_for("the Deployment's pod", lambda: next(
        iter(core.list_namespaced_pod(namespace).items), None))
    write_image_pull_backoff(core, pod, namespace, IMAGE_ERROR)
    pulling = (f"pod {pod.metadata.name} container llama-factory: ImagePullBackOff: "
               f"{IMAGE_ERROR}")

    def pull_error_shown() -> dict[str, Any] | None:
        # The Deployment controller writes its replica counts shortly after the install:
        # wait for the settled ones (the pod exists, is updated, and is not available).
        state = _deployment_state(cluster, namespace)
        settled = state["message"] == "0/1 replicas available"
        return state if state["reasons"] and settled else None

    not_ready = wait_for("status to name the pull error", pull_error_shown)
    assert (not_ready["state"], not_ready["reasons"]) == ("InProgress", [pulling])
    shown = lmfchart(cluster, "status", "-n", namespace)
    assert f"  Deployment/{NAME}: InProgress: {not_ready['message']}" in shown.stdout
    assert f"    - {pulling}" in shown.stdout
    assert f"  Service/{NAME}: Current: ready" in shown.stdout

    make_deployment_ready(core, apps, NAME, namespace)

    def ready_shown() -> dict[str, Any] | None:
        # The controllers may still be writing the rollout's last counts.
        state = _deployment_state(cluster, namespace)
        return state if state["state"] == "Current" else None

    ready = wait_for("status to show the Deployment ready", ready_shown)
    assert (ready["state"], ready["message"], ready["reasons"]) == (
        "Current", "1/1 replicas available", [])
    shown = lmfchart(cluster, "status", "-n", namespace)
    assert f"  Deployment/{NAME}: Current: 1/1 replicas available" in shown.stdout
    assert "    - " not in shown.stdout
