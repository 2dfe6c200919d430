"""Train runs against the real control plane: `status` per run and `lmfchart logs`.

The Job controller runs (kube-controller-manager) and creates the run's pods, with its own
completion-index annotation for an Indexed Job; no scheduler or kubelet runs, so the tests
write what they would (Unschedulable, OOMKilled) through the status subresource, and the
Job controller turns a failed pod into the Job's own Failed condition. Without a kubelet no
container log exists: the tests read the API server's answer for a pod on no node, and
for a pod bound to a node that has no kubelet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart.kube.cluster import KubeCluster
from tests.support.runobjects import GPU_MESSAGE, oom_killed, train_job, unschedulable

from .cluster import Cluster, wait_for
from .commands import helm_run, lmfchart

pytestmark = [pytest.mark.e2e]

JOB = "lmf-llama-factory-train-demo-0123abcd"


@pytest.fixture
def batch(api_client: Any) -> Any:
    from kubernetes import client

    return client.BatchV1Api(api_client)


def _pods(core: Any, namespace: str, count: int = 1) -> list[Any]:
    def created() -> list[Any] | None:
        pods = core.list_namespaced_pod(namespace,
                                        label_selector="llama-factory/run=demo").items
        return sorted(pods, key=lambda p: p.metadata.name) if len(pods) >= count else None

    found: list[Any] = wait_for(f"the Job controller to create {count} pod(s)", created)
    return found


def _write_status(core: Any, pod: Any, namespace: str, status: dict[str, Any]) -> None:
    core.patch_namespaced_pod_status(pod.metadata.name, namespace, {"status": status})


def _helm_chart(where: Path, job: dict[str, Any]) -> Path:
    chart = where / "runs"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: runs\nversion: 0.1.0\n")
    (chart / "templates" / "job.yaml").write_text(yaml.safe_dump(job))
    return chart


def test_status_shows_a_failed_run_with_the_job_controllers_reason(
        cluster: Cluster, namespace: str, *, core: Any, batch: Any, helm4: Path,
        tmp_path: Path) -> None:
    job = train_job(JOB, namespace)
    del job["metadata"]["namespace"]
    installed = helm_run(helm4, cluster, "install", "lmf", str(_helm_chart(tmp_path, job)),
                         "-n", namespace)
    assert installed.returncode == 0, installed.stderr
    [pod] = _pods(core, namespace)
    _write_status(core, pod, namespace, oom_killed())

    def failed() -> Any:
        current = batch.read_namespaced_job(JOB, namespace)
        return current if any(c.type == "Failed" and c.status == "True"
                              for c in current.status.conditions or []) else None

    condition = next(c for c in wait_for("the Job controller to fail the Job",
                                         failed).status.conditions if c.type == "Failed")
    shown = lmfchart(cluster, "status", "lmf", "-n", namespace, "-o", "json")
    assert shown.exit_code == 0, shown.output
    [run] = json.loads(shown.stdout)["runs"]
    assert (run["name"], run["component"], run["kind"], run["state"], run["pod"]) == (
        "demo", "train", "Job", "failed", pod.metadata.name)
    assert run["object"] == {"kind": "Job", "name": JOB}
    assert run["reasons"][:2] == [
        f"{condition.reason}: {condition.message}",
        f"pod {pod.metadata.name} container train: terminated: OOMKilled, exit code 137"]
    assert condition.reason == "BackoffLimitExceeded"
    # No node, so no log: the server answers with an empty one.
    assert (run["last_lines"], run["progress"]["step"]) == ([], None)
    text = lmfchart(cluster, "status", "lmf", "-n", namespace)
    assert f"  train/demo: failed (Job {JOB}: 0/1 succeeded, 0 active, 1 failed)" in (
        text.stdout)
    assert (f"    - pod {pod.metadata.name} container train: terminated: OOMKilled, exit "
            "code 137") in text.stdout


def test_logs_waits_for_an_unschedulable_pod_then_gives_its_reason(
        cluster: Cluster, namespace: str, core: Any, kube: KubeCluster) -> None:
    kube.apply(train_job(JOB, namespace))
    [pod] = _pods(core, namespace)
    _write_status(core, pod, namespace, unschedulable())
    waited = lmfchart(cluster, "logs", "lmf", "demo", "-n", namespace, "--timeout", "1s")
    assert waited.exit_code == 5, waited.output
    said = f"pod {pod.metadata.name}: Unschedulable: {GPU_MESSAGE}"
    assert f"waiting: {said}" in waited.stderr
    assert f"error: run demo: the pod of rank 0 did not start within 1s: {said}" in (
        waited.stderr)
    missing = lmfchart(cluster, "logs", "lmf", "tuning", "-n", namespace)
    assert missing.exit_code == 5
    assert (f"error: release lmf in namespace {namespace} has no run 'tuning'; its runs: "
            "demo (train)") in missing.stderr


def test_logs_of_each_rank_of_an_indexed_job(cluster: Cluster, namespace: str, core: Any,
                                             kube: KubeCluster) -> None:
    kube.apply(train_job(JOB, namespace, nodes=2))
    pods = _pods(core, namespace, count=2)
    by_index = {p.metadata.annotations["batch.kubernetes.io/job-completion-index"]: p
                for p in pods}
    for pod in pods:
        # Running, but on no node: the server has no kubelet to ask and answers empty.
        _write_status(core, pod, namespace, {"phase": "Running"})
    for rank in ("0", "1"):
        shown = lmfchart(cluster, "logs", "lmf", "demo", "-n", namespace, "--rank", rank)
        assert shown.exit_code == 0, shown.output
        assert f"pod {by_index[rank].metadata.name} (rank {rank}) container train" in (
            shown.stderr)
        assert shown.stdout == ""
    followed = lmfchart(cluster, "logs", "lmf", "demo", "-n", namespace, "-f")
    assert (followed.exit_code, followed.stdout) == (0, ""), followed.output
    beyond = lmfchart(cluster, "logs", "lmf", "demo", "-n", namespace, "--rank", "2")
    assert beyond.exit_code == 2
    assert "run demo (Indexed Job x2) has ranks 0 to 1, not 2" in beyond.stderr


def test_logs_of_a_pod_on_a_node_without_kubelet_is_the_servers_error(
        cluster: Cluster, namespace: str, core: Any, kube: KubeCluster) -> None:
    kube.apply(train_job(JOB, namespace))
    [pod] = _pods(core, namespace)
    core.create_namespaced_pod_binding(pod.metadata.name, namespace, {
        "apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod.metadata.name},
        "target": {"apiVersion": "v1", "kind": "Node", "name": "gpu-node-1"}},
        _preload_content=False)
    _write_status(core, pod, namespace, {"phase": "Running"})
    for follow in ((), ("-f",)):
        shown = lmfchart(cluster, "logs", "lmf", "demo", "-n", namespace, *follow)
        assert shown.exit_code == 5, shown.output
        assert (f"error: Pod/{pod.metadata.name} (log of container train): ") in shown.stderr
        # The server looks up the node to reach its kubelet, and finds none.
        assert '"gpu-node-1" not found (HTTP 404 NotFound)' in shown.stderr, shown.stderr


# A run of the real chart, as a user adds one: the chart fills in every other key.
CHART_RUN = {
    "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
    "train": {"tiny": {"model": "/root/.cache/huggingface/models/tiny",
                       "datasets": ["alpaca_en_demo"], "gpus": 1}},
}


def test_a_charts_run_whose_job_cannot_create_its_pod(
        cluster: Cluster, namespace: str, core: Any, batch: Any, tmp_path: Path) -> None:
    # The namespace may use no GPU: the Job controller's pod is refused at admission, so
    # the run has no pod and only the controller's event says why.
    core.create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "no-gpus"}, "spec": {"hard": {"requests.nvidia.com/gpu": "0"}}})
    wait_for("the quota controller to count the quota", lambda: (
        core.read_namespaced_resource_quota("no-gpus", namespace).status.hard))
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(CHART_RUN))
    installed = lmfchart(cluster, "install", "-n", namespace, "-f", str(values))
    assert installed.exit_code == 0, installed.output
    [job] = batch.list_namespaced_job(namespace, label_selector="llama-factory/run=tiny").items
    assert re.fullmatch(r"lmf-llama-factory-train-tiny-[0-9a-f]{8}", job.metadata.name)

    def refused() -> Any:
        events = core.list_namespaced_event(
            namespace, field_selector=f"involvedObject.uid={job.metadata.uid},type=Warning")
        return next((e for e in events.items if e.reason == "FailedCreate"), None)

    event = wait_for("the Job controller to report the refused pod", refused)
    assert "exceeded quota: no-gpus" in event.message
    # Each retry of the controller is refused for a pod of another generated name.
    refused_pod = re.search(r'pods "([^"]+)"', event.message)
    assert refused_pod and refused_pod[1].startswith(job.metadata.name)
    said = re.escape(f"Warning FailedCreate on Job/{job.metadata.name}: "
                     f"{event.message.strip()}").replace(re.escape(refused_pod[1]),
                                                         f"{job.metadata.name}-[a-z0-9]+")
    assert not core.list_namespaced_pod(namespace, label_selector="llama-factory/run").items

    shown = lmfchart(cluster, "status", "-n", namespace, "-o", "json")
    assert shown.exit_code == 0, shown.output
    [run] = json.loads(shown.stdout)["runs"]
    assert (run["name"], run["component"], run["kind"], run["state"], run["pod"]) == (
        "tiny", "train", "Job", "pending", None)
    assert run["object"] == {"kind": "Job", "name": job.metadata.name}
    assert run["completions"] == "0/1 succeeded, 0 active, 0 failed"
    [reason] = run["reasons"]
    assert re.fullmatch(said + r"( \(x\d+\))?", reason), reason
    text = lmfchart(cluster, "status", "-n", namespace)
    assert (f"  train/tiny: pending (Job {job.metadata.name}: 0/1 succeeded, 0 active, "
            "0 failed)") in text.stdout.splitlines()

    waited = lmfchart(cluster, "logs", "lmf", "tiny", "-n", namespace, "--timeout", "1s")
    assert waited.exit_code == 5, waited.output
    why = re.escape(f"waiting for Job/{job.metadata.name} to create the pod of rank 0: ") + said
    assert re.search(f"^waiting: {why}", waited.stderr, re.MULTILINE), waited.stderr
    assert re.search("^" + re.escape("error: run tiny: the pod of rank 0 did not start "
                                     "within 1s: ") + why, waited.stderr, re.MULTILINE)
