"""The cluster commands' output and exit codes, with the in-memory cluster plugged in where
the CLI would connect (the same commands against a real API server: tests/e2e/)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from lmfchart import cli
from lmfchart.base.errors import ClusterError
from lmfchart.usecases.cluster import ObjectRef
from tests.conftest import example_values
from tests.support.fakecluster import FakeCluster

runner = CliRunner()
SEED = str(example_values("seed"))


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster(("llm",))
    seen: list[tuple[str | None, str | None]] = []

    def connect(kubeconfig: str | None, context: str | None) -> FakeCluster:
        seen.append((kubeconfig, context))
        return fake

    monkeypatch.setattr(cli, "_connect", connect)
    fake.connections = seen  # type: ignore[attr-defined]
    return fake


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli.app, list(args))


def test_install_prints_each_object_then_the_notes(cluster: FakeCluster) -> None:
    result = run("install", "-n", "llm", "-f", SEED, "--kubeconfig", "/k", "--kube-context", "c")
    assert result.exit_code == 0, result.output
    assert cluster.connections == [("/k", "c")]  # type: ignore[attr-defined]
    assert "  Deployment/lmf-llama-factory: created" in result.stdout
    assert "release lmf in namespace llm installed: revision 1 deployed" in result.stdout
    assert "http://lmf.172.18.0.2.nip.io/" in result.stdout
    again = run("install", "-n", "llm", "-f", SEED)
    assert again.exit_code == 0, again.output
    assert "no changes: release lmf in namespace llm stays at revision 1" in again.stdout


def test_install_takes_every_value_flag(cluster: FakeCluster, tmp_path) -> None:  # type: ignore[no-untyped-def]
    command = tmp_path / "cmd.txt"
    command.write_text("webui")
    result = run("install", "demo", "-n", "llm", "--set", "image.tag=1.0",
                 "--set-string", "env.A=1", "--set-json", 'env.B="2"',
                 "--set-literal", "env.C=a,b", "--set-file", f"env.D={command}")
    assert result.exit_code == 0, result.output
    deployment = cluster.objects[("apps/v1", "Deployment", "llm", "demo-llama-factory")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":1.0")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert (env["A"], env["B"], env["C"], env["D"]) == ("1", "2", "a,b", "webui")


def test_dry_run_prints_the_plan_and_changes_nothing(cluster: FakeCluster) -> None:
    assert run("install", "-n", "llm", "-f", SEED).exit_code == 0
    before = dict(cluster.objects), dict(cluster.secrets)
    result = run("install", "-n", "llm", "-f", SEED, "--set", "ingress.enable=false",
                 "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  unchanged     Service/lmf-llama-factory" in result.stdout
    assert "  would prune   Ingress/lmf-llama-factory" in result.stdout
    assert ("dry run: nothing was changed; release lmf in namespace llm would be at "
            "revision 2") in result.stdout
    assert (dict(cluster.objects), dict(cluster.secrets)) == before


def test_dry_run_in_a_missing_namespace_says_what_it_could_not_check(
    cluster: FakeCluster,
) -> None:
    result = run("install", "-n", "fresh", "--dry-run", "--create-namespace")
    assert result.exit_code == 0, result.output
    assert "namespace fresh does not exist yet" in result.stdout
    assert "not checked   Deployment/lmf-llama-factory: not checked: namespace fresh" in (
        result.stdout)
    assert "kubernetes#83562" in result.stdout
    refused = run("install", "-n", "fresh", "--dry-run")
    assert refused.exit_code == 5
    assert "error: namespace fresh does not exist; create it or pass --create-namespace" in (
        refused.stderr)


def test_refused_object_exits_5_naming_it(cluster: FakeCluster) -> None:
    cluster.refuse["Service/lmf-llama-factory"] = 'spec.type: Unsupported value: "Nope"'
    result = run("install", "-n", "llm")
    assert result.exit_code == 5
    assert 'Service/lmf-llama-factory: spec.type: Unsupported value: "Nope"' in result.stderr
    assert "Traceback" not in result.output
    planned = run("install", "-n", "llm", "--dry-run")
    assert planned.exit_code == 5
    assert "refused       Service/lmf-llama-factory: spec.type: Unsupported" in planned.stdout


def test_server_errors_become_exit_5(cluster: FakeCluster, monkeypatch: pytest.MonkeyPatch,
                                     ) -> None:
    def down(namespace: str, *, labels: dict[str, str]) -> list[dict[str, str]]:
        raise ClusterError("connection refused", kind="Secret", name="sh.helm.release.v1.lmf")

    monkeypatch.setattr(cluster, "list_secrets", down)
    for command in ("install", "status", "history", "uninstall"):
        result = run(command, "-n", "llm")
        assert result.exit_code == 5, (command, result.output)
        assert "error: Secret/sh.helm.release.v1.lmf: connection refused" in result.stderr


def test_status_history_uninstall(cluster: FakeCluster) -> None:
    assert run("install", "-n", "llm", "-f", SEED).exit_code == 0
    assert run("install", "-n", "llm", "-f", SEED, "--set", "image=x/y:2").exit_code == 0
    shown = run("status", "-n", "llm")
    assert shown.exit_code == 0, shown.output
    for line in ("NAME: lmf", "REVISION: 2", "STATUS: deployed",
                 "URL: http://lmf.172.18.0.2.nip.io/",
                 "  Deployment/lmf-llama-factory: InProgress: 0/1 replicas updated",
                 "  Service/lmf-llama-factory: Current: ready"):
        assert line in shown.stdout
    as_json = json.loads(run("status", "-n", "llm", "-o", "json").stdout)
    assert (as_json["revision"], as_json["status"]) == (2, "deployed")
    assert [(o["kind"], o["state"], o["message"]) for o in as_json["objects"]][:2] == [
        ("Service", "Current", "ready"), ("Deployment", "InProgress", "0/1 replicas updated")]
    cluster.delete(ObjectRef("v1", "Service", "llm", "lmf-llama-factory"))
    assert "  Service/lmf-llama-factory: Missing: not found in the cluster" in run(
        "status", "-n", "llm").stdout
    listed = json.loads(run("history", "-n", "llm", "--output", "json").stdout)
    assert [(r["revision"], r["status"], r["app_version"]) for r in listed] == [
        (1, "superseded", "v0.6.1"), (2, "deployed", "2")]
    table = run("history", "-n", "llm").stdout.splitlines()
    assert table[0].split() == ["REVISION", "UPDATED", "STATUS", "CHART", "APP", "VERSION",
                                "DESCRIPTION"]
    assert table[2].split()[2:4] == ["deployed", "llama-factory-0.1.0"]
    removed = run("uninstall", "-n", "llm")
    assert removed.exit_code == 0, removed.output
    assert "  deleted Deployment/lmf-llama-factory" in removed.stdout
    assert cluster.objects == {} and cluster.secrets == {}
    missing = run("status", "-n", "llm")
    assert missing.exit_code == 5
    assert "error: release lmf not found in namespace llm" in missing.stderr


def test_diff_exits_0_without_changes_and_2_with_them(cluster: FakeCluster) -> None:
    assert run("install", "-n", "llm", "-f", SEED).exit_code == 0
    same = run("diff", "-n", "llm", "-f", SEED)
    assert same.exit_code == 0, same.output
    assert "no changes: release lmf in namespace llm matches the cluster" in same.stdout
    changed = run("diff", "-n", "llm", "-f", SEED, "--set", "ingress.enable=false")
    assert changed.exit_code == 2, changed.output
    assert "Ingress/lmf-llama-factory: would prune" in changed.stdout.splitlines()
    assert "Deployment/lmf-llama-factory: unchanged" in changed.stdout.splitlines()
    assert "changes: release lmf in namespace llm: 1 would prune" in changed.stdout


def test_diff_exits_1_when_the_server_refuses_or_the_values_are_invalid(
    cluster: FakeCluster,
) -> None:
    cluster.refuse["Deployment/lmf-llama-factory"] = "spec.template: Invalid value"
    refused = run("diff", "-n", "llm", "-f", SEED)
    assert refused.exit_code == 1, refused.output
    assert ("Deployment/lmf-llama-factory: refused (spec.template: Invalid value)"
            in refused.stdout)
    invalid = run("diff", "-n", "llm", "--set", "gpu.count=-1")
    assert invalid.exit_code == 1 and "gpu.count" in invalid.stderr


def test_rollback_and_rollback_on_failure_say_what_they_did(cluster: FakeCluster) -> None:
    assert run("install", "-n", "llm", "-f", SEED).exit_code == 0
    assert run("install", "-n", "llm", "-f", SEED, "--set", "ingress.enable=false").exit_code == 0
    rolled = run("rollback", "-n", "llm")
    assert rolled.exit_code == 0, rolled.output
    assert "  Ingress/lmf-llama-factory: created" in rolled.stdout
    assert ("release lmf in namespace llm rolled back to revision 1: revision 3 deployed"
            in rolled.stdout)
    cluster.refuse["PersistentVolumeClaim/lmf-llama-factory-saves"] = "spec: Invalid value"
    failed = run("install", "-n", "llm", "-f", SEED, "--set", "storage.saves.type=pvc",
                 "--rollback-on-failure")
    assert failed.exit_code == 5, failed.output
    assert ("revision 4 failed (recorded as failed); rolled back to revision 3 as revision 5"
            in failed.stderr)
    assert "PersistentVolumeClaim/lmf-llama-factory-saves: spec: Invalid value" in (
        failed.stderr)
    # 0 is the previous revision, as in helm (here the failed one, now accepted).
    del cluster.refuse["PersistentVolumeClaim/lmf-llama-factory-saves"]
    previous = run("rollback", "lmf", "0", "-n", "llm")
    assert previous.exit_code == 0, previous.output
    assert "rolled back to revision 4: revision 6 deployed" in previous.stdout
    assert "  PersistentVolumeClaim/lmf-llama-factory-saves: created" in previous.stdout
    assert run("rollback", "lmf", "-1", "-n", "llm").exit_code == 2
