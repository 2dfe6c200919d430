"""kstatus's readiness rules on objects shaped as the Kubernetes controllers write them.

The e2e tests (tests/e2e/test_wait.py) check the same rules against a real controller.
"""

from __future__ import annotations

from typing import Any

import pytest

from lmfchart.usecases.readiness import State, is_run, readiness


def _judged(obj: dict[str, Any] | None) -> tuple[State, str]:
    found = readiness(obj)
    return found.state, found.message


def _deployment(*, generation: int = 1, wanted: int = 1, **status: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": wanted}, "status": status}


def _condition(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


@pytest.mark.parametrize(("obj", "state", "message"), [
    (_deployment(observedGeneration=1, replicas=1, updatedReplicas=1, readyReplicas=1,
                 availableReplicas=1),
     State.CURRENT, "1/1 replicas available"),
    (_deployment(generation=2, observedGeneration=1, replicas=1, updatedReplicas=1,
                 availableReplicas=1, readyReplicas=1),
     State.IN_PROGRESS, "generation 2 not observed yet (the controller has seen 1)"),
    (_deployment(wanted=2, observedGeneration=1, replicas=1, updatedReplicas=1),
     State.IN_PROGRESS, "1/2 replicas updated"),
    (_deployment(observedGeneration=1, replicas=2, updatedReplicas=1, availableReplicas=1),
     State.IN_PROGRESS, "1 old replicas pending termination"),
    (_deployment(observedGeneration=1, replicas=1, updatedReplicas=1, unavailableReplicas=1),
     State.IN_PROGRESS, "0/1 replicas available"),
    (_deployment(observedGeneration=1, replicas=1, updatedReplicas=1, unavailableReplicas=1,
                 conditions=[_condition("Progressing", "False", "ProgressDeadlineExceeded",
                                        'ReplicaSet "web-5d" has timed out progressing.')]),
     State.FAILED, 'ProgressDeadlineExceeded: ReplicaSet "web-5d" has timed out progressing.'),
    # spec.replicas absent means 1, as the API server defaults it.
    ({"kind": "Deployment", "metadata": {"name": "web", "generation": 1}, "spec": {},
      "status": {}},
     State.IN_PROGRESS, "0/1 replicas updated"),
])
def test_deployment_rollout(obj: dict[str, Any], state: State, message: str) -> None:
    assert _judged(obj) == (state, message)


def _job(**status: Any) -> dict[str, Any]:
    return {"kind": "Job", "metadata": {"name": "fetch"}, "spec": {"completions": 1},
            "status": status}


@pytest.mark.parametrize(("obj", "state", "message"), [
    (_job(), State.IN_PROGRESS, "not started"),
    (_job(startTime="2026-01-01T00:00:00Z", active=1),
     State.IN_PROGRESS, "running: 0/1 succeeded, 1 active, 0 failed"),
    (_job(startTime="2026-01-01T00:00:00Z", succeeded=1,
          conditions=[_condition("Complete", "True")]),
     State.CURRENT, "complete: 1/1 succeeded"),
    (_job(startTime="2026-01-01T00:00:00Z", failed=7,
          conditions=[_condition("Failed", "True", "BackoffLimitExceeded",
                                 "Job has reached the specified backoff limit")]),
     State.FAILED, "BackoffLimitExceeded: Job has reached the specified backoff limit"),
])
def test_job_completion(obj: dict[str, Any], state: State, message: str) -> None:
    assert _judged(obj) == (state, message)


@pytest.mark.parametrize(("obj", "state", "message"), [
    ({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
      "status": {"phase": "Pending"}}, State.IN_PROGRESS, "Pending, not Bound"),
    ({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"}, "status": {}},
     State.IN_PROGRESS, "Pending, not Bound"),
    ({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
      "status": {"phase": "Bound"}}, State.CURRENT, "Bound"),
    ({"kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
      "status": {"phase": "Lost"}}, State.FAILED, "Lost: its volume is gone"),
    ({"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "ClusterIP"}},
     State.CURRENT, "ready"),
    ({"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "LoadBalancer"},
      "status": {"loadBalancer": {}}},
     State.IN_PROGRESS, "waiting for the load balancer's address"),
    ({"kind": "Service", "metadata": {"name": "web"}, "spec": {"type": "LoadBalancer"},
      "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}},
     State.CURRENT, "load balancer at 203.0.113.7"),
    ({"kind": "Ingress", "metadata": {"name": "web"}, "status": {"loadBalancer": {}}},
     State.CURRENT, "exists"),
    ({"kind": "ConfigMap", "metadata": {"name": "c"}}, State.CURRENT, "exists"),
    ({"kind": "Secret", "metadata": {"name": "s"}}, State.CURRENT, "exists"),
    ({"kind": "ServiceAccount", "metadata": {"name": "a"}}, State.CURRENT, "exists"),
    (None, State.IN_PROGRESS, "not found"),
    ({"kind": "ConfigMap", "metadata": {"name": "c", "deletionTimestamp": "2026-01-01T00:00:00Z"}},
     State.IN_PROGRESS, "being deleted"),
])
def test_other_built_in_kinds(obj: dict[str, Any] | None, state: State, message: str) -> None:
    assert _judged(obj) == (state, message)


def _custom(generation: int = 1, **status: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Model",
            "metadata": {"name": "m", "generation": generation}, "status": status}


@pytest.mark.parametrize(("obj", "state", "message"), [
    (_custom(), State.CURRENT, "ready"),
    (_custom(generation=3, observedGeneration=2), State.IN_PROGRESS,
     "generation 3 not observed yet (the controller has seen 2)"),
    (_custom(observedGeneration=1,
             conditions=[_condition("Reconciling", "True", "Downloading", "weights 40%")]),
     State.IN_PROGRESS, "Downloading: weights 40%"),
    (_custom(observedGeneration=1,
             conditions=[_condition("Stalled", "True", "NoQuota", "quota exceeded")]),
     State.FAILED, "NoQuota: quota exceeded"),
    (_custom(observedGeneration=1, conditions=[_condition("Ready", "False")]),
     State.IN_PROGRESS, "not Ready"),
    (_custom(observedGeneration=1, conditions=[_condition("Ready", "True")]),
     State.CURRENT, "ready"),
])
def test_generic_objects_by_their_conditions(obj: dict[str, Any], state: State,
                                             message: str) -> None:
    assert _judged(obj) == (state, message)


def _pytorchjob(*conditions: dict[str, str]) -> dict[str, Any]:
    status = {"conditions": list(conditions)} if conditions else {}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
            "metadata": {"name": "run", "generation": 1}, "status": status}


# Conditions as the training operator writes them: it keeps the earlier ones, set False.
@pytest.mark.parametrize(("obj", "state", "message"), [
    (_pytorchjob(), State.IN_PROGRESS,
     "not started: no training operator has taken it up yet"),
    (_pytorchjob(_condition("Created", "True", "PyTorchJobCreated", "PyTorchJob run is "
                            "created.")),
     State.IN_PROGRESS, "created; its pods are not running yet"),
    (_pytorchjob(_condition("Created", "True", "PyTorchJobCreated"),
                 _condition("Running", "True", "PyTorchJobRunning",
                            "PyTorchJob ns/run is running.")),
     State.IN_PROGRESS, "PyTorchJobRunning: PyTorchJob ns/run is running."),
    (_pytorchjob(_condition("Created", "True", "PyTorchJobCreated"),
                 _condition("Running", "False", "PyTorchJobRunning"),
                 _condition("Succeeded", "True", "PyTorchJobSucceeded",
                            "PyTorchJob ns/run successfully completed.")),
     State.CURRENT, "PyTorchJobSucceeded: PyTorchJob ns/run successfully completed."),
    (_pytorchjob(_condition("Created", "True", "PyTorchJobCreated"),
                 _condition("Running", "False", "PyTorchJobRunning"),
                 _condition("Failed", "True", "PyTorchJobFailed",
                            "PyTorchJob ns/run is failed because 1 Master replica(s) "
                            "failed.")),
     State.FAILED,
     "PyTorchJobFailed: PyTorchJob ns/run is failed because 1 Master replica(s) failed."),
])
def test_pytorchjob_by_the_training_operators_conditions(
        obj: dict[str, Any], state: State, message: str) -> None:
    assert _judged(obj) == (state, message)


def test_runs_are_jobs_and_pytorchjobs_only() -> None:
    assert is_run("batch/v1", "Job") and is_run("kubeflow.org/v1", "PyTorchJob")
    assert not any(is_run(api_version, kind) for api_version, kind in [
        ("apps/v1", "Deployment"), ("v1", "Pod"), ("batch/v1", "CronJob"),
        ("example.com/v1", "Job")])
