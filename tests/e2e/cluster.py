"""The test control plane as the end-to-end tests see it, and helpers that act as the
missing node components (no kubelet runs, so nothing else would ever mark a Pod ready).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

REPO = Path(__file__).resolve().parents[2]
TESTENV = REPO / "scripts" / "testenv"
# `scripts/testenv` exits with this when Go or the cryptography package is missing.
EXIT_MISSING_PREREQUISITE = 3

T = TypeVar("T")


@dataclass(frozen=True)
class Cluster:
    """A running control plane started (or reused) by `scripts/testenv up`."""

    state_dir: Path
    kubeconfig: Path
    server: str
    kubernetes_version: str
    kubectl_path: Path
    reused: bool

    @property
    def audit_log(self) -> Path:
        return self.state_dir / "logs" / "audit.log"

    @property
    def ca_cert(self) -> Path:
        return self.state_dir / "pki" / "ca.crt"

    def env(self) -> dict[str, str]:
        """os.environ pointed at this cluster, for `helm`, `kubectl`, `lmfchart` subprocesses."""
        return {**os.environ, "KUBECONFIG": str(self.kubeconfig)}

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None,
                timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run kubectl against this cluster; output captured as text."""
        return subprocess.run(
            [str(self.kubectl_path), *args],
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )


class AuditWindow:
    """The API requests one client made between `open` and `count`, from the audit log.

    `scripts/testenv` starts kube-apiserver with an audit policy that logs every request
    once, when its response is complete; the user agent tells clients apart
    (`lmfchart/0.1.0`, `Helm/4.1.4`, ...).
    """

    def __init__(self, log: Path) -> None:
        if not log.is_file():
            raise AssertionError(f"{log} is missing: the control plane was started without "
                                 "an audit log (restart it with this scripts/testenv)")
        self.log = log
        self.start = log.stat().st_size

    def requests(self, user_agent: str) -> list[tuple[str, str]]:
        """(verb, request URI) of every request whose user agent starts with `user_agent`."""
        events = [json.loads(line) for line in self._complete_lines() if line.strip()]
        return [(e["verb"], e["requestURI"]) for e in events
                if e.get("userAgent", "").startswith(user_agent)]

    def _complete_lines(self) -> list[str]:
        """The events written since the window opened, whole lines only.

        The API server writes an event while other clients run, and a file's size grows
        page by page during one write: the window may open in the middle of an event (one
        that completed before it) and end in the middle of another. Both halves are dropped.
        """
        with self.log.open("rb") as handle:
            if self.start > 0:
                handle.seek(self.start - 1)
                if handle.read(1) != b"\n":
                    handle.readline()  # the rest of an event from before the window
            data = handle.read()
        whole = data[:data.rfind(b"\n") + 1]
        return whole.decode().splitlines()


def run_testenv(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """Run `scripts/testenv ARGS` with this interpreter; output captured as text."""
    return subprocess.run(
        [sys.executable, str(TESTENV), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


def describe(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    info: dict[str, Any] = json.loads(result.stdout)
    return info


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60,
             interval: float = 0.25) -> T:
    """Call PROBE until it returns something other than None or False; fail after TIMEOUT."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def mark_pods_ready(core: Any, namespace: str, label_selector: str) -> int:
    """Report every matching Pod as running and ready, as a kubelet would; return how many.

    No kubelet (and no scheduler) runs in the test control plane, so Pods stay Pending. The
    status written here is what a kubelet would write once the containers started; the
    ReplicaSet and Deployment controllers then compute their own status from it.
    """
    pods = core.list_namespaced_pod(namespace, label_selector=label_selector).items
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    for pod in pods:
        conditions = [
            {"type": kind, "status": "True", "lastTransitionTime": now}
            for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
        ]
        containers = [
            {
                "name": container.name,
                "image": container.image,
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
            for container in pod.spec.containers
        ]
        core.patch_namespaced_pod_status(
            pod.metadata.name,
            namespace,
            {"status": {"phase": "Running", "conditions": conditions, "startTime": now,
                        "containerStatuses": containers, "podIP": "10.244.0.10",
                        "hostIP": "127.0.0.1"}},
        )
    return len(pods)


def write_image_pull_backoff(core: Any, pod: Any, namespace: str, message: str) -> None:
    """Report POD's container as unable to pull its image, as a kubelet would."""
    container = pod.spec.containers[0]
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": {
        "conditions": [{"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [{
            "name": container.name, "image": container.image, "imageID": "", "ready": False,
            "restartCount": 0,
            "state": {"waiting": {"reason": "ImagePullBackOff", "message": message}}}]}})


def rollout_complete(deployment: Any) -> bool:
    """kubectl's rule: observed, every replica updated and available."""
    spec, status = deployment.spec, deployment.status
    return bool(
        (status.observed_generation or 0) >= deployment.metadata.generation
        and (status.updated_replicas or 0) == spec.replicas
        and (status.replicas or 0) == spec.replicas
        and (status.available_replicas or 0) >= (status.updated_replicas or 0)
    )


def make_deployment_ready(core: Any, apps: Any, name: str, namespace: str,
                          timeout: float = 90) -> Any:
    """Drive Deployment NAME to a completed rollout without a kubelet; return it.

    Waits for the controller-manager to create the Pods, reports them ready as a kubelet
    would (see mark_pods_ready), and waits until the Deployment controller reports the
    rollout complete.
    """
    deployment = apps.read_namespaced_deployment(name, namespace)
    selector = ",".join(f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items())
    replicas = deployment.spec.replicas

    def pods_created() -> bool:
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        return len(pods) >= replicas

    wait_for(f"{replicas} pods of deployment {namespace}/{name}", pods_created, timeout)

    def rolled_out() -> Any:
        mark_pods_ready(core, namespace, selector)
        current = apps.read_namespaced_deployment(name, namespace)
        return current if rollout_complete(current) else None

    return wait_for(f"deployment {namespace}/{name} to roll out", rolled_out, timeout,
                    interval=0.5)


def service_account_kubeconfig(cluster: Cluster, namespace: str, path: Path) -> Path:
    """A kubeconfig at PATH for the new ServiceAccount `deployer` of NAMESPACE, with a token
    from the TokenRequest API; it may do nothing until `grant` gives it a Role."""
    cluster.kubectl("create", "serviceaccount", "deployer", "-n", namespace)
    token = cluster.kubectl("create", "token", "deployer", "-n", namespace).stdout.strip()
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["users"][0]["user"] = {"token": token}
    path.write_text(yaml.safe_dump(config))
    return path


def grant(cluster: Cluster, namespace: str, rules: list[dict[str, Any]]) -> None:
    """(Re)bind `deployer` of NAMESPACE to a Role with exactly RULES."""
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "deployer", "namespace": namespace}, "rules": rules}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "deployer", "namespace": namespace},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                           "name": "deployer"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer",
                             "namespace": namespace}]}
    cluster.kubectl("apply", "-f", "-",
                    stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                      "items": [role, binding]}))
