"""Train and export runs with the in-memory cluster: which objects are runs, their state,
progress and failure reasons in `status`, and `logs` (the same against a real API server:
tests/e2e/test_runs.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from lmfchart import cli
from lmfchart.base.errors import NotReadyError
from lmfchart.release.record import ReleaseRecord
from lmfchart.usecases.liveruns import RunState, list_runs, main_container, run_pods
from lmfchart.usecases.logs import wait_for_log
from lmfchart.usecases.releases import create_record
from lmfchart.usecases.runreport import report_run
from tests.support.charts import lmf_objects
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster
from tests.support.runobjects import (
    GPU_MESSAGE,
    PULL_MESSAGE,
    image_pull_backoff,
    job_failed,
    oom_killed,
    pod_of,
    pytorch_job,
    running,
    train_job,
    unschedulable,
)

NS = "llm"
LOGS = Path(__file__).parent / "data" / "trainlogs"
runner = CliRunner()


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster((NS,))
    monkeypatch.setattr(cli, "_connect", lambda kubeconfig, context: fake)
    return fake


def _put(cluster: FakeCluster, obj: dict[str, Any], *, created: str | None = None,
         status: dict[str, Any] | None = None) -> dict[str, Any]:
    stored = cluster.put(obj)
    if created:
        stored["metadata"]["creationTimestamp"] = created
    if status is not None:
        stored["status"] = status
    cluster.objects[(obj["apiVersion"], obj["kind"], NS, obj["metadata"]["name"])] = stored
    return stored


def _log(cluster: FakeCluster, pod: str, text: str, container: str = "train") -> None:
    cluster.logs[(pod, container, False)] = text


def test_runs_are_the_jobs_whose_pods_carry_a_run_label(cluster: FakeCluster) -> None:
    _put(cluster, train_job("lmf-llama-factory-train-demo-aaaa1111", NS),
         created="2026-01-01T00:00:00Z")
    _put(cluster, train_job("lmf-llama-factory-train-demo-bbbb2222", NS),
         created="2026-01-02T00:00:00Z")
    _put(cluster, train_job("lmf-llama-factory-export-demo-cccc3333", NS,
                            component="export"), created="2026-01-01T00:00:01Z")
    _put(cluster, pytorch_job("lmf-llama-factory-train-big-dddd4444", NS, run="big"),
         created="2026-01-01T00:00:02Z")
    _put(cluster, train_job("other-llama-factory-train-demo-eeee5555", NS, release="other"))
    plain = train_job("lmf-migrate", NS)
    del plain["spec"]["template"]["metadata"]["labels"]["llama-factory/run"]
    _put(cluster, plain)
    runs = list_runs(cluster=cluster, release_name="lmf", namespace=NS)
    assert [(r.component, r.name, r.job_name, r.kind_label) for r in runs] == [
        ("train", "demo", "lmf-llama-factory-train-demo-bbbb2222", "Job"),
        ("train", "big", "lmf-llama-factory-train-big-dddd4444", "PyTorchJob x2"),
        ("export", "demo", "lmf-llama-factory-export-demo-cccc3333", "Job"),
        ("train", "demo", "lmf-llama-factory-train-demo-aaaa1111", "Job"),
    ]


CHART_RUNS = {
    "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
    "train": {
        "one": {"model": "Qwen/Qwen3-0.6B", "datasets": ["identity"]},
        "multi": {"model": "Qwen/Qwen3-0.6B", "datasets": ["identity"], "nodes": 2},
        "kf": {"model": "Qwen/Qwen3-0.6B", "datasets": ["identity"], "nodes": 3,
               "engine": "pytorchjob"},
    },
    "export": {"merged": {"model": "Qwen/Qwen3-0.6B", "adapter": "train/one"}},
    "api": {"enabled": True, "model": "/app/output/models/merged"},
}


def test_runs_are_found_in_what_the_chart_renders(cluster: FakeCluster,
                                                  tmp_path: Path) -> None:
    values = tmp_path / "runs.yaml"
    values.write_text(yaml.safe_dump(CHART_RUNS))
    rendered = {obj["metadata"]["name"]: _put(cluster, obj)
                for obj in lmf_objects("lmf", NS, files=[str(values)])}
    workloads = {(obj["kind"], obj["metadata"]["labels"]["llama-factory/run"]): name
                 for name, obj in rendered.items() if obj["kind"] in ("Job", "PyTorchJob")}
    runs = {run.name: run for run in list_runs(cluster=cluster, release_name="lmf",
                                               namespace=NS)}
    assert {(r.component, r.name, r.obj["kind"], r.job_name, r.kind_label)
            for r in runs.values()} == {
        ("train", "one", "Job", workloads[("Job", "one")], "Job"),
        ("train", "multi", "Job", workloads[("Job", "multi")], "Indexed Job x2"),
        ("train", "kf", "PyTorchJob", workloads[("PyTorchJob", "kf")], "PyTorchJob x3"),
        ("export", "merged", "Job", workloads[("Job", "merged")], "Job"),
    }
    # Pods made from each workload's own pod template are its run's, in its main container.
    for run in runs.values():
        pod = _put(cluster, pod_of(run.obj, f"{run.job_name}-pod", rank=0), status=running())
        [found] = run_pods(cluster=cluster, run=run)
        assert found["metadata"]["name"] == pod["metadata"]["name"]
        assert main_container(found) == ("pytorch" if run.is_pytorchjob else "llama-factory")


def test_a_running_run_shows_the_progress_of_its_newest_pod(cluster: FakeCluster) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS), status={"active": 1})
    _put(cluster, pod_of(job, "old"), created="2026-01-01T00:00:00Z", status=oom_killed())
    _put(cluster, pod_of(job, "new"), created="2026-01-01T00:01:00Z", status=running())
    # A pod of the same run's earlier Job: another owner, never this run's.
    earlier = _put(cluster, train_job("lmf-train-demo-0", NS))
    _put(cluster, pod_of(earlier, "stale"), created="2026-01-02T00:00:00Z", status=running())
    _log(cluster, "new", (LOGS / "train-running.log").read_text())
    [run] = [r for r in list_runs(cluster=cluster, release_name="lmf", namespace=NS)
             if r.job_name == "lmf-train-demo-1"]
    cluster.requests.clear()
    report = report_run(cluster=cluster, run=run)
    assert (report.state, report.pod, report.completions) == (
        RunState.RUNNING, "new", "0/1 succeeded, 1 active, 0 failed")
    assert (report.progress.step, report.progress.total_steps, report.progress.loss) == (
        7, 20, 5.451)
    assert (report.reasons, report.last_lines) == ((), ())
    assert cluster.requests == [("list", "Pod"), ("log", "Pod/new/train")]


def test_a_failed_run_says_why_with_its_last_log_lines(cluster: FakeCluster) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS), status=job_failed())
    _put(cluster, pod_of(job, "p"), status=oom_killed())
    text = (LOGS / "train-running.log").read_text() + "\n" + "\n".join(
        f"line {n}" for n in range(12))
    _log(cluster, "p", text)
    [run] = list_runs(cluster=cluster, release_name="lmf", namespace=NS)
    report = report_run(cluster=cluster, run=run)
    assert report.state is RunState.FAILED
    assert report.reasons == (
        "BackoffLimitExceeded: Job has reached the specified backoff limit",
        "pod p container train: terminated: OOMKilled, exit code 137")
    assert report.last_lines == tuple(f"line {n}" for n in range(2, 12))
    assert report.progress.step == 7


@pytest.mark.parametrize(("status", "reason"), [
    (unschedulable(), f"pod p: Unschedulable: {GPU_MESSAGE}"),
    (image_pull_backoff(), f"pod p container train: ImagePullBackOff: {PULL_MESSAGE}"),
])
def test_a_pending_run_says_why_without_reading_a_log(cluster: FakeCluster,
                                                       status: dict[str, Any],
                                                       reason: str) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS), status={"active": 1})
    _put(cluster, pod_of(job, "p"), status=status)
    [run] = list_runs(cluster=cluster, release_name="lmf", namespace=NS)
    report = report_run(cluster=cluster, run=run)
    assert (report.state, report.reasons) == (RunState.PENDING, (reason,))
    assert not report.progress.known
    assert not [r for r in cluster.requests if r[0] == "log"]


def test_succeeded_and_pytorchjob_states(cluster: FakeCluster) -> None:
    _put(cluster, train_job("done", NS, run="a"), status={
        "succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]})
    job = _put(cluster, pytorch_job("big", NS, run="b", nodes=3), status={
        "conditions": [{"type": "Created", "status": "True"},
                       {"type": "Running", "status": "False"},
                       {"type": "Failed", "status": "True", "reason": "PyTorchJobFailed",
                        "message": "PyTorchJob big is failed because 1 Worker replica(s) "
                        "failed."}],
        "replicaStatuses": {"Master": {"active": 1}, "Worker": {"failed": 1, "active": 1}}})
    _put(cluster, pod_of(job, "big-master-0", labels={
        "training.kubeflow.org/replica-type": "master",
        "training.kubeflow.org/replica-index": "0"}), status=running("pytorch"))
    _put(cluster, pod_of(job, "big-worker-1", labels={
        "training.kubeflow.org/replica-type": "worker",
        "training.kubeflow.org/replica-index": "1"}), status=oom_killed("pytorch"))
    _log(cluster, "big-worker-1", "RuntimeError: CUDA out of memory\n", "pytorch")
    reports = {r.name: r for r in (report_run(cluster=cluster, run=run) for run in
                                   list_runs(cluster=cluster, release_name="lmf",
                                             namespace=NS))}
    assert (reports["a"].state, reports["a"].completions) == (
        RunState.SUCCEEDED, "1/1 succeeded, 0 active, 0 failed")
    big = reports["b"]
    assert (big.state, big.kind, big.completions, big.pod) == (
        RunState.FAILED, "PyTorchJob x3", "0/3 succeeded, 2 active, 1 failed", "big-worker-1")
    assert big.reasons[0] == ("PyTorchJobFailed: PyTorchJob big is failed because 1 Worker "
                              "replica(s) failed.")
    assert "pod big-worker-1 container pytorch: terminated: OOMKilled, exit code 137" in (
        big.reasons)
    assert big.last_lines == ("RuntimeError: CUDA out of memory",)


def _record(manifest_objects: list[dict[str, Any]]) -> ReleaseRecord:
    manifest = "".join(f"---\n# Source: llama-factory/templates/train.yaml\n"
                       f"{yaml.safe_dump(obj)}" for obj in manifest_objects)
    return ReleaseRecord(
        name="lmf", namespace=NS, version=1, status="deployed", config={},
        manifest=manifest,
        chart={"metadata": {"name": "llama-factory", "version": "0.1.0"}},
        first_deployed="2026-01-01T00:00:00Z", last_deployed="2026-01-01T00:00:00Z",
        deleted=None, description="Install complete", notes="")


def test_status_shows_a_section_per_run(cluster: FakeCluster) -> None:
    running_job = train_job("lmf-train-demo-1", NS)
    failed_job = train_job("lmf-export-demo-1", NS, component="export")
    create_record(cluster=cluster, record=_record([running_job, failed_job]))
    job = _put(cluster, running_job, status={"active": 1, "startTime": "2026-01-01T00:00:01Z"})
    _put(cluster, pod_of(job, "t"), status=running())
    _log(cluster, "t", (LOGS / "train-running.log").read_text())
    broken = _put(cluster, failed_job, status=job_failed())
    _put(cluster, pod_of(broken, "e"), status=oom_killed())
    _log(cluster, "e", (LOGS / "export.log").read_text())
    shown = runner.invoke(cli.app, ["status", "lmf", "-n", NS])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    at = lines.index("RUNS:")
    assert lines[at + 1] == ("  train/demo: running (Job lmf-train-demo-1: 0/1 succeeded, "
                             "1 active, 0 failed)")
    assert "step 7/20 (35%), loss 5.451, lr 4.5e-05, epoch 1, 00:02 left" in lines[at + 2]
    assert lines[at + 3].startswith("  export/demo: failed (Job lmf-export-demo-1")
    assert "    - pod e container train: terminated: OOMKilled, exit code 137" in lines
    assert "    last log lines of pod e:" in lines
    assert ("      | [INFO|2026-11-30 11:00:02] llamafactory.model.adapter:143 >> Merged 1 "
            "adapter(s).") in lines
    as_json = json.loads(runner.invoke(cli.app, ["status", "lmf", "-n", NS, "-o",
                                                 "json"]).stdout)
    train, export = as_json["runs"]
    assert (train["name"], train["state"], train["kind"], train["pod"]) == (
        "demo", "running", "Job", "t")
    assert (train["progress"]["step"], train["progress"]["total_steps"],
            train["progress"]["loss"]) == (7, 20, 5.451)
    assert export["state"] == "failed" and export["progress"]["milestones"][0] == (
        "Merged 1 adapter(s).")
    assert export["last_lines"][-1].endswith("model.safetensors")


def _logs(*args: str) -> Any:
    return runner.invoke(cli.app, ["logs", "lmf", *args, "-n", NS])


def test_logs_prints_the_rank_0_pod_and_follows(cluster: FakeCluster) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS, nodes=2))
    _put(cluster, pod_of(job, "demo-0", rank=0), status=running())
    _put(cluster, pod_of(job, "demo-1", rank=1), status=running())
    _log(cluster, "demo-0", "rank 0 a\nrank 0 b\nrank 0 c\n")
    _log(cluster, "demo-1", "rank 1 a\n")
    shown = _logs("demo")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == "rank 0 a\nrank 0 b\nrank 0 c\n"
    assert "pod demo-0 (rank 0) container train" in shown.stderr
    assert _logs("demo", "--tail", "2").stdout == "rank 0 b\nrank 0 c\n"
    followed = _logs("demo", "-f", "--rank", "1")
    assert (followed.exit_code, followed.stdout) == (0, "rank 1 a\n")
    assert ("follow", "Pod/demo-1/train") in cluster.requests


def test_logs_errors(cluster: FakeCluster) -> None:
    _put(cluster, train_job("lmf-train-demo-1", NS))
    _put(cluster, train_job("lmf-export-merged-1", NS, run="merged", component="export"))
    missing = _logs("nope")
    assert missing.exit_code == 5
    assert ("error: release lmf in namespace llm has no run 'nope'; its runs: demo (train), "
            "merged (export)") in missing.stderr
    beyond = _logs("demo", "--rank", "1")
    assert beyond.exit_code == 2
    assert "run demo (Job) has ranks 0 to 0, not 1" in beyond.stderr
    assert _logs("demo", "--rank", "-1").exit_code == 2
    empty = runner.invoke(cli.app, ["logs", "other", "demo", "-n", NS])
    assert empty.exit_code == 5
    assert "it has no train or export runs" in empty.stderr


def test_logs_waits_for_the_pod_to_start_and_says_why(cluster: FakeCluster) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS))
    clock = FakeClock()
    told: list[str] = []
    key = ("v1", "Pod", NS, "p")
    clock.schedule = [
        (4, lambda: _put(cluster, pod_of(job, "p"), status=unschedulable())),
        (8, lambda: cluster.objects[key].update(status=image_pull_backoff())),
        (12, lambda: cluster.objects[key].update(status=running())),
    ]
    source = wait_for_log(cluster=cluster, release_name="lmf", namespace=NS, run_name="demo",
                          rank=0, timeout_s=60, progress=told.append, clock=clock, poll_s=2)
    assert (source.pod, source.container, source.rank) == ("p", "train", 0)
    assert told == [
        "waiting for Job/lmf-train-demo-1 to create the pod of rank 0",
        f"pod p: Unschedulable: {GPU_MESSAGE}",
        f"pod p container train: ImagePullBackOff: {PULL_MESSAGE}",
    ]


def test_logs_gives_up_with_the_reason(cluster: FakeCluster) -> None:
    job = _put(cluster, train_job("lmf-train-demo-1", NS))
    _put(cluster, pod_of(job, "p"), status=unschedulable())
    with pytest.raises(NotReadyError) as raised:
        wait_for_log(cluster=cluster, release_name="lmf", namespace=NS, run_name="demo",
                     rank=0, timeout_s=10, progress=lambda _: None, clock=FakeClock())
    assert raised.value.message == (f"run demo: the pod of rank 0 did not start within 10s: "
                                    f"pod p: Unschedulable: {GPU_MESSAGE}")
    cluster.objects[("batch/v1", "Job", NS, "lmf-train-demo-1")]["status"] = job_failed(
        "DeadlineExceeded", "Job was active longer than specified deadline")
    failed = runner.invoke(cli.app, ["logs", "lmf", "demo", "-n", NS, "--timeout", "1h"])
    assert failed.exit_code == 5
    assert ("error: run demo: DeadlineExceeded: Job was active longer than specified "
            "deadline; its pod of rank 0 never started: pod p: Unschedulable: ") in (
        failed.stderr)


def test_progress_reads_a_saved_log_or_trainer_log(tmp_path: Path) -> None:
    shown = runner.invoke(cli.app, ["progress", "--trainer-log",
                                    str(LOGS / "trainer_log.jsonl"), "-o", "json"])
    assert shown.exit_code == 0, shown.output
    assert (json.loads(shown.stdout)["step"], json.loads(shown.stdout)["loss"]) == (10, 5.1023)
    text = runner.invoke(cli.app, ["progress", "--log", str(LOGS / "train-finished.log")])
    assert "step 20/20 (100%), loss 5.102" in text.stdout
    assert runner.invoke(cli.app, ["progress"]).exit_code == 2
    blank = tmp_path / "blank.log"
    blank.write_text("nothing here\n")
    nothing = runner.invoke(cli.app, ["progress", "--log", str(blank)])
    assert nothing.exit_code == 1
    assert f"error: {blank}: no training progress in it" in nothing.stderr
    gone = runner.invoke(cli.app, ["progress", "--trainer-log", str(tmp_path / "missing")])
    assert gone.exit_code == 1
    assert f"{tmp_path / 'missing'}: cannot read it: No such file or directory" in gone.stderr
