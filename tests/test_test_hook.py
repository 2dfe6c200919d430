"""The helm test hook: `template` prints it as `helm template` does, `install` records it
in the release's hooks and never applies it (that helm runs it: tests/e2e/test_secrets.py)."""

from __future__ import annotations

import yaml
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.manifest import manifest_objects
from lmfchart.release.record import record_from_secret, record_to_secret
from lmfchart.usecases.install import install
from tests.support.fakecluster import FakeCluster

NS = "llm"
TEST_POD = "lmf-llama-factory-test-connection"


def pods(text: str) -> list[str]:
    return [obj["metadata"]["name"] for obj in yaml.safe_load_all(text)
            if obj and obj["kind"] == "Pod"]


def test_template_prints_the_hook_unless_disabled() -> None:
    shown = CliRunner().invoke(app, ["template", "lmf", "-n", NS])
    assert pods(shown.stdout) == [TEST_POD]
    hidden = CliRunner().invoke(app, ["template", "lmf", "-n", NS,
                                      "--set", "helmTest.enabled=false"])
    assert hidden.exit_code == 0 and pods(hidden.stdout) == []


def test_install_records_the_hook_and_never_applies_it() -> None:
    cluster = FakeCluster((NS,))
    result = install(cluster=cluster, release_name="lmf", namespace=NS, values=ValueOptions())
    assert "Pod" not in {change.ref.kind for change in result.changes}
    assert "Pod" not in {kind for _, kind, _, _ in cluster.objects}
    (secret,) = cluster.secrets.values()
    record = record_from_secret(secret)
    assert TEST_POD not in record.manifest
    (hook,) = record.hooks
    assert {key: hook[key] for key in ("name", "kind", "path", "events", "delete_policies")} == {
        "name": TEST_POD, "kind": "Pod",
        "path": "llama-factory/templates/tests/test-connection.yaml", "events": ["test"],
        "delete_policies": ["before-hook-creation", "hook-succeeded"]}
    [pod] = manifest_objects(hook["manifest"])
    assert pod["metadata"]["namespace"] == NS

    # The same values again change nothing, even after helm test wrote its run.
    cluster.secrets.clear()
    record.hooks = [{**hook, "last_run": {"started_at": "2026-01-01T00:00:00Z",
                                          "completed_at": "2026-01-01T00:00:05Z",
                                          "phase": "Failed"}}]
    cluster.create_secret(record_to_secret(record, created=True))
    again = install(cluster=cluster, release_name="lmf", namespace=NS, values=ValueOptions())
    assert again.outcome == "unchanged"

    # Without the hook, an upgrade records none.
    off = install(cluster=cluster, release_name="lmf", namespace=NS,
                  values=ValueOptions(sets=("helmTest.enabled=false",)))
    assert off.outcome == "upgraded"
    latest = max((record_from_secret(s) for s in cluster.secrets.values()),
                 key=lambda r: r.version)
    assert latest.hooks == []
