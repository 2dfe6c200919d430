"""Train and export workloads as the chart makes them (labels from the issue 8 design), and
the pod statuses a scheduler or kubelet would write, for the run tests (unit and e2e)."""

from __future__ import annotations

from typing import Any

GPU_MESSAGE = ("0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 "
               "nodes are available: 3 No preemption victims found for incoming pod.")
PULL_MESSAGE = 'Back-off pulling image "registry.invalid/llamafactory:0.9.5"'


def pod_labels(release: str, run: str, component: str = "train") -> dict[str, str]:
    return {"app.kubernetes.io/name": f"llama-factory-{component}",
            "app.kubernetes.io/instance": release,
            "app.kubernetes.io/component": component, "llama-factory/run": run}


def _pod_spec(container: str = "train") -> dict[str, Any]:
    return {"restartPolicy": "Never", "containers": [{
        "name": container, "image": "registry.invalid/llamafactory:0.9.5",
        "command": ["llamafactory-cli", "train", "/config/train.yaml"],
        "resources": {"limits": {"nvidia.com/gpu": "1"}}}]}


def train_job(name: str, namespace: str, *, release: str = "lmf", run: str = "demo",
              component: str = "train", nodes: int = 1) -> dict[str, Any]:
    """A batch/v1 Job of one run: Indexed with NODES completions when NODES > 1."""
    spec: dict[str, Any] = {"backoffLimit": 0, "template": {
        "metadata": {"labels": pod_labels(release, run, component)}, "spec": _pod_spec()}}
    if nodes > 1:
        spec.update(completionMode="Indexed", completions=nodes, parallelism=nodes)
    return {"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": name, "namespace": namespace, "labels": {
                "app.kubernetes.io/instance": release,
                "app.kubernetes.io/component": component}},
            "spec": spec}


def pytorch_job(name: str, namespace: str, *, release: str = "lmf", run: str = "demo",
                nodes: int = 2) -> dict[str, Any]:
    template = {"metadata": {"labels": pod_labels(release, run)},
                "spec": _pod_spec("pytorch")}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/instance": release}},
            "spec": {"pytorchReplicaSpecs": {
                "Master": {"replicas": 1, "template": template},
                "Worker": {"replicas": nodes - 1, "template": template}}}}


def pod_of(job: dict[str, Any], name: str, *, created: str = "2026-01-01T00:00:00Z",
           rank: int | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A pod JOB's controller would create (owned by the job's uid)."""
    if job["kind"] == "PyTorchJob":
        template = job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]
    else:
        template = job["spec"]["template"]
    annotations = ({"batch.kubernetes.io/job-completion-index": str(rank)}
                   if rank is not None else {})
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": job["metadata"]["namespace"],
                         "creationTimestamp": created,
                         "labels": {**template["metadata"]["labels"], **(labels or {})},
                         "annotations": annotations,
                         "ownerReferences": [{"apiVersion": job["apiVersion"],
                                              "kind": job["kind"],
                                              "name": job["metadata"]["name"],
                                              "uid": job["metadata"]["uid"],
                                              "controller": True}]},
            "spec": template["spec"], "status": {"phase": "Pending"}}


def running(container: str = "train") -> dict[str, Any]:
    return {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": container, "ready": True, "restartCount": 0,
                                   "image": "", "imageID": "",
                                   "state": {"running": {"startedAt": "2026-01-01T00:00:05Z"}}}]}


def oom_killed(container: str = "train") -> dict[str, Any]:
    return {"phase": "Failed", "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": container, "ready": False, "restartCount": 0,
                                   "image": "", "imageID": "",
                                   "state": {"terminated": {"reason": "OOMKilled",
                                                            "exitCode": 137}}}]}


def unschedulable() -> dict[str, Any]:
    return {"phase": "Pending", "conditions": [{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
        "message": GPU_MESSAGE}]}


def image_pull_backoff(container: str = "train") -> dict[str, Any]:
    return {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": container, "ready": False, "restartCount": 0,
                                   "image": "", "imageID": "",
                                   "state": {"waiting": {"reason": "ImagePullBackOff",
                                                         "message": PULL_MESSAGE}}}]}


def job_failed(reason: str = "BackoffLimitExceeded",
               message: str = "Job has reached the specified backoff limit") -> dict[str, Any]:
    return {"failed": 1, "conditions": [{"type": "Failed", "status": "True",
                                         "reason": reason, "message": message}]}
