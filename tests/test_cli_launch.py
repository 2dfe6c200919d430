"""`lmfchart train` and `lmfchart export` with the in-memory cluster plugged in where the
CLI would connect: which values the release gets (its own, then -f/--set, then the
flags), the run's name, what the output says, errors naming the flag, and `--print`
without any cluster. The same commands against a real API server: tests/e2e/test_launch.py.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from lmfchart import cli
from lmfchart.base.errors import EXIT_CLUSTER, EXIT_INVALID, EXIT_USAGE, NotReadyError
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.record import ReleaseRecord, record_from_secret
from lmfchart.usecases.launch import launch
from lmfchart.usecases.runs import RunRequest, named
from lmfchart.usecases.wait import wait_for_ready
from tests.support.fakeclock import FakeClock
from tests.support.fakecluster import FakeCluster

runner = CliRunner()
NS = "llm"
MODEL = "/root/.cache/huggingface/models/Qwen3-0.6B"
# Results go to a persistent output volume: on the default emptyDir they would be lost.
OUTPUT = ("--set", "storage.output.type=pvc")
TRAIN = ("train", "-n", NS, "--model", MODEL, "--method", "lora", "--dataset",
         "alpaca_en_demo", *OUTPUT)


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster((NS,))
    monkeypatch.setattr(cli, "_connect", lambda kubeconfig, context: fake)
    return fake


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    def connect(kubeconfig: str | None, context: str | None) -> None:
        raise AssertionError("--print must not connect to a cluster")

    monkeypatch.setattr(cli, "_connect", connect)


def run(*args: str) -> Any:
    result = runner.invoke(cli.app, list(args))
    assert "Traceback" not in result.output, result.output
    return result


def latest(cluster: FakeCluster) -> ReleaseRecord:
    return max(map(record_from_secret, cluster.secrets.values()), key=lambda r: r.version)


def objects_of(cluster: FakeCluster, kind: str, run_name: str,
               component: str = "train") -> list[dict[str, Any]]:
    return [obj for (_, k, _, _), obj in cluster.objects.items()
            if k == kind and obj["metadata"]["labels"].get("llama-factory/run") == run_name
            and obj["metadata"]["labels"]["app.kubernetes.io/component"] == component]


def job_of(cluster: FakeCluster, run_name: str, component: str = "train") -> dict[str, Any]:
    [job] = objects_of(cluster, "Job", run_name, component)
    return job


def config_of(cluster: FakeCluster, run_name: str, kind: str = "train") -> dict[str, Any]:
    [config_map] = objects_of(cluster, "ConfigMap", run_name, kind)
    loaded: dict[str, Any] = yaml.safe_load(config_map["data"][f"{kind}.yaml"])
    return loaded


def test_train_installs_a_new_release_with_the_run_and_says_how_to_follow_it(
    cluster: FakeCluster,
) -> None:
    result = run(*TRAIN, "--epochs", "2")

    assert result.exit_code == 0, result.output
    job = job_of(cluster, "qwen3-0-6b-lora")
    assert result.stdout.splitlines()[0] == (
        "train name: qwen3-0-6b-lora (made from --model and --method; give NAME to choose "
        "another)")
    assert f"release lmf in namespace {NS} installed: revision 1 deployed" in result.stdout
    assert f"train run qwen3-0-6b-lora: created Job/{job['metadata']['name']}" in result.stdout
    assert f"follow it: lmfchart logs lmf qwen3-0-6b-lora -n {NS}" in result.stdout
    assert f"lmfchart status lmf -n {NS}" in result.stdout
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["llamafactory-cli", "train", "/config/train.yaml"]
    config = config_of(cluster, "qwen3-0-6b-lora")
    assert (config["model_name_or_path"], config["num_train_epochs"]) == (MODEL, 2)
    assert latest(cluster).config == {"storage": {"output": {"type": "pvc"}}, "train": {
        "qwen3-0-6b-lora": {"model": MODEL, "method": "lora", "datasets": ["alpaca_en_demo"],
                            "epochs": 2.0}}}


def test_a_second_run_keeps_the_release_values_and_the_first_run(cluster: FakeCluster) -> None:
    installed = run("install", "-n", NS, "--set", "image.tag=1.0")
    assert installed.exit_code == 0, installed.output
    assert run(*TRAIN).exit_code == 0
    first = job_of(cluster, "qwen3-0-6b-lora")

    result = run(*TRAIN, "second", "--gpus", "2", "--dataset", "identity,alpaca_zh_demo")

    assert result.exit_code == 0, result.output
    assert f"release lmf in namespace {NS} upgraded: revision 3 deployed" in result.stdout
    assert job_of(cluster, "qwen3-0-6b-lora") == first  # untouched: same name and uid
    assert config_of(cluster, "second")["dataset"] == "alpaca_en_demo,identity,alpaca_zh_demo"
    config = latest(cluster).config
    assert config["image"] == {"tag": "1.0"}
    assert set(config["train"]) == {"qwen3-0-6b-lora", "second"}
    deployment = cluster.objects[("apps/v1", "Deployment", NS, "lmf-llama-factory")]
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.0")


def test_the_flags_win_over_set_which_wins_over_the_release(cluster: FakeCluster) -> None:
    assert run(*TRAIN, "r", "--set", "train.r.lora.rank=4").exit_code == 0

    result = run(*TRAIN, "r", "--epochs", "5", "--set", "train.r.epochs=9",
                 "--set", "train.r.lora.alpha=32")

    assert result.exit_code == 0, result.output
    config = config_of(cluster, "r")
    # The relaunch gives the whole run: rank 4 came only with the first launch's --set.
    assert (config["num_train_epochs"], config["lora_alpha"], config["lora_rank"]) == (5, 32, 8)


def test_a_changed_run_replaces_its_job_and_an_unchanged_one_keeps_it(
    cluster: FakeCluster,
) -> None:
    assert run(*TRAIN, "r", "--max-steps", "10").exit_code == 0
    old = job_of(cluster, "r")["metadata"]["name"]

    changed = run(*TRAIN, "r")

    assert changed.exit_code == 0, changed.output
    new = job_of(cluster, "r")["metadata"]["name"]
    assert new != old
    assert (f"train run r: Job/{new} replaced Job/{old} (the run's config changed)"
            in changed.stdout)
    assert "max_steps" not in config_of(cluster, "r")  # nothing of the first launch lingers

    again = run(*TRAIN, "r")

    assert again.exit_code == 0, again.output
    assert f"no changes: release lmf in namespace {NS} stays at revision 2" in again.stdout
    assert (f"train run r: Job/{new} unchanged, nothing runs again; to run the same config "
            "again: --set train.r.rerun=1") in again.stdout
    rerun = run(*TRAIN, "r", "--set", "train.r.rerun=1")
    assert rerun.exit_code == 0, rerun.output
    assert job_of(cluster, "r")["metadata"]["name"] not in (old, new)


def test_dry_run_plans_the_run_and_writes_nothing(cluster: FakeCluster) -> None:
    assert run(*TRAIN, "r").exit_code == 0
    before = cluster.writes()

    result = run(*TRAIN, "other", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "  would create  Job/lmf-llama-factory-train-other-" in result.stdout
    assert "  unchanged     Job/lmf-llama-factory-train-r-" in result.stdout
    assert "train run other: would create Job/lmf-llama-factory-train-other-" in result.stdout
    assert "dry run: nothing was changed" in result.stdout
    assert "follow it" not in result.stdout
    assert cluster.writes() == before
    assert objects_of(cluster, "Job", "other") == []


def test_invalid_flags_name_the_flag_and_change_nothing(cluster: FakeCluster) -> None:
    result = run("train", "r", "-n", NS, "--model", "./m", "--method", "qlora",
                 "--dataset", "a,,b", "--epochs", "0", "--template", "nope")

    assert result.exit_code == EXIT_INVALID
    assert result.stderr.splitlines() == [
        "error: --model: train.r.model: expected an absolute path on a volume "
        "(/root/.cache/huggingface/...) or a hub id such as Qwen/Qwen3-0.6B, got './m'",
        "--method: train.r.method: Input should be 'lora', 'freeze' or 'full'",
        "--dataset: train.r.datasets[1]: String should have at least 1 character",
        "--template: train.r.template: expected a chat template of LLaMA-Factory 0.9.5, "
        "got 'nope'",
        "--epochs: train.r.epochs: Input should be greater than 0",
    ]
    assert cluster.writes() == []


def test_a_bad_run_name_is_a_usage_error(cluster: FakeCluster) -> None:
    result = run(*TRAIN, "My_Run")

    assert result.exit_code == EXIT_USAGE
    assert "error: train name 'My_Run': expected a DNS-1123 label" in result.stderr
    assert cluster.writes() == []


def test_a_made_name_is_a_valid_label_of_at_most_30_characters(cluster: FakeCluster) -> None:
    result = run("train", "-n", NS, "--model", "/models/Meta_Llama 3.1--70B_Instruct.v2/",
                 "--method", "freeze", "--dataset", "d", *OUTPUT, "--print")

    assert result.exit_code == 0, result.output
    assert "train name: meta-llama-3-1-70b-inst-freeze (made from" in result.stderr


def test_print_shows_the_objects_the_command_and_the_config_without_a_cluster(
    no_cluster: None,
) -> None:
    result = run(*TRAIN, "r", "--gpus", "2", "--nodes", "2", "--epochs", "1.5", "--set",
                 "storage.output.accessModes={ReadWriteMany}", "--print")

    assert result.exit_code == 0, result.output
    documents = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert [d["kind"] for d in documents] == ["ConfigMap", "Service", "Job"]
    job = documents[2]["metadata"]["name"]
    assert documents[1]["metadata"]["name"] == job  # the headless Service of MASTER_ADDR
    assert job.startswith("lmf-llama-factory-train-r-")
    comments = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert comments[0] == f"# Job/{job} (2 pods): each pod runs, in container llama-factory:"
    assert "#   FORCE_TORCHRUN=1 \\" in comments
    assert "#   NNODES=2 \\" in comments
    assert ("#   NODE_RANK=<fieldRef metadata.annotations"
            "['batch.kubernetes.io/job-completion-index']> \\") in comments
    assert f"#   MASTER_ADDR={job}-0.{job}.{NS}.svc \\" in comments
    assert "#   llamafactory-cli train /config/train.yaml" in comments
    config_at = comments.index("# /config/train.yaml:")
    config = yaml.safe_load("\n".join(line.removeprefix("#   ")
                                      for line in comments[config_at + 1:]))
    assert config == yaml.safe_load(documents[0]["data"]["train.yaml"])
    assert (config["num_train_epochs"], config["data_shared_file_system"]) == (1.5, True)


def test_print_reads_only_the_values_flags(no_cluster: None, tmp_path: Any) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("train:\n  r:\n    cutoffLen: 512\n    epochs: 7\n")

    result = run(*TRAIN, "r", "-f", str(values), "--epochs", "2", "--print")

    assert result.exit_code == 0, result.output
    assert "#   cutoff_len: 512" in result.stdout
    assert "#   num_train_epochs: 2" in result.stdout


def test_print_takes_no_dry_run(no_cluster: None) -> None:
    result = run(*TRAIN, "--print", "--dry-run")

    assert result.exit_code == EXIT_USAGE
    assert "--print reads no cluster: it takes no --dry-run or --wait" in result.stderr


def test_export_adds_its_job_beside_the_runs(cluster: FakeCluster) -> None:
    assert run(*TRAIN, "r").exit_code == 0

    result = run("export", "-n", NS, *OUTPUT, "--model", MODEL, "--adapter", "/app/output/train/r",
                 "--shard-size", "1")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("export name: r (made from --export-dir or --adapter")
    export_job = job_of(cluster, "r", "export")
    assert config_of(cluster, "r", "export")["export_dir"] == "/app/output/models/r"
    assert config_of(cluster, "r", "export")["export_size"] == 1
    assert job_of(cluster, "r")["metadata"]["name"] != export_job["metadata"]["name"]
    assert f"export r: created Job/{export_job['metadata']['name']}" in result.stdout
    container = export_job["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["llamafactory-cli", "export", "/config/export.yaml"]
    assert set(latest(cluster).config) == {"storage", "train", "export"}


def test_export_print_shows_its_config(no_cluster: None) -> None:
    result = run("export", "merged", *OUTPUT, "--model", MODEL, "--adapter", "/app/output/train/r",
                 "--export-dir", "models/merged", "--device", "auto", "--print")

    assert result.exit_code == 0, result.output
    assert "#   llamafactory-cli export /config/export.yaml" in result.stdout
    assert '#   export_dir: "/app/output/models/merged"' in result.stdout
    assert '#   export_device: "auto"' in result.stdout


def test_wait_waits_for_the_runs_objects_only() -> None:
    cluster, clock = FakeCluster((NS,)), FakeClock()
    waited: list[list[str]] = []

    def wait(refs: Any) -> Any:
        waited.append([f"{ref.kind}/{ref.name}" for ref in refs])
        return wait_for_ready(cluster=cluster, refs=refs, timeout_s=10, poll_s=2, clock=clock)

    def launch_run(name: str) -> Any:
        output = ValueOptions(sets=("storage.output.type=pvc",))
        return launch(cluster=cluster, release_name="lmf", namespace=NS, values=output,
                      run=named(RunRequest("train", name, {"--model": MODEL,
                                                           "--dataset": ["d"]})),
                      wait=wait)

    with pytest.raises(NotReadyError) as raised:
        launch_run("slow")
    assert raised.value.exit_code == EXIT_CLUSTER
    assert "Job/lmf-llama-factory-train-slow-" in raised.value.message
    assert latest(cluster).status == "failed"

    def complete(job: tuple[str, str, str | None, str]) -> None:
        cluster.objects[job]["status"] = {"startTime": "2026-01-01T00:00:00Z", "succeeded": 1,
                                          "conditions": [{"type": "Complete",
                                                          "status": "True"}]}

    waited.clear()
    clock.schedule.append((clock.monotonic() - 1000 + 4, lambda: complete(next(
        key for key, obj in cluster.objects.items() if key[1] == "Job"
        and obj["metadata"]["labels"]["llama-factory/run"] == "fast"))))
    done = launch_run("fast")

    assert (done.install.revision, latest(cluster).status) == (2, "deployed")
    # The slow run's Job never completes: waiting on it would fail every later launch.
    assert waited[0] == ["ConfigMap/lmf-llama-factory-train-fast",
                         "Job/" + job_of(cluster, "fast")["metadata"]["name"]]
