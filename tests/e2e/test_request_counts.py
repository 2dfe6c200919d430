"""How many API requests `lmfchart install` makes, read from the API server's audit log.

The bars (a no-op re-install costs at most one request per object plus the record read;
a fresh install and an upgrade no more than helm's) are counts, not times: they hold on
any machine.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.kube.connect import USER_AGENT
from tests.conftest import example_values
from tests.support.charts import render_chart_dir

from .cluster import AuditWindow, Cluster

pytestmark = pytest.mark.e2e

VALUES = str(example_values("gpu-pvc"))


def install(cluster: Cluster, namespace: str, *extra: str) -> AuditWindow:
    window = AuditWindow(cluster.audit_log)
    result = CliRunner().invoke(app, ["install", "-n", namespace, "-f", VALUES, *extra,
                                      "--kubeconfig", str(cluster.kubeconfig)])
    assert result.exit_code == 0, result.output
    return window


def rendered_objects(namespace: str) -> int:
    result = CliRunner().invoke(app, ["template", "-n", namespace, "-f", VALUES])
    assert result.exit_code == 0, result.output
    return result.stdout.count("\n---\n") + result.stdout.startswith("---\n")


def without_the_lease(requests: list[tuple[str, str]],
                      ) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The requests about the release's objects and records, and those about its Lease."""
    lease = [(verb, uri) for verb, uri in requests if "/leases" in uri]
    return [r for r in requests if r not in lease], lease


def test_a_no_op_reinstall_costs_one_request_per_object_plus_the_record_read(
    cluster: Cluster, namespace: str
) -> None:
    install(cluster, namespace)  # revision 1 (also fills the discovery cache)
    window = install(cluster, namespace)
    requests = window.requests(USER_AGENT)
    objects = rendered_objects(namespace)
    assert requests, "no request by lmfchart was logged: is the user agent set?"
    # A no-op writes nothing, so it takes no Lease either.
    assert len(requests) <= objects + 1, (
        f"{len(requests)} requests for {objects} objects:\n"
        + "\n".join(f"{verb} {uri}" for verb, uri in requests))
    # Nothing was written: only reads and dry runs.
    writes = [(verb, uri) for verb, uri in requests
              if verb not in ("get", "list") and "dryRun=All" not in uri]
    assert writes == []


def test_an_upgrade_applies_each_object_once_and_writes_two_records(
    cluster: Cluster, namespace: str
) -> None:
    install(cluster, namespace)
    window = install(cluster, namespace, "--set", "image.tag=0.9.5")
    requests, lease = without_the_lease(window.requests(USER_AGENT))
    # Holding the release while it changes costs two more: take the Lease, release it.
    assert [verb for verb, _ in lease] == ["create", "delete"], lease
    verbs = Counter(verb for verb, uri in requests if "dryRun=All" not in uri)
    # One apply (patch) per object; the new record is created pending-upgrade, then
    # updated to deployed, and the old one updated to superseded, as helm does.
    objects = rendered_objects(namespace)
    assert verbs["patch"] <= objects, verbs
    assert verbs["create"] == 1 and verbs["update"] == 2, verbs


def counted(cluster: Cluster, agent: str, command: list[str],
            env: dict[str, str] | None = None) -> int:
    window = AuditWindow(cluster.audit_log)
    done = subprocess.run(command, env=cluster.env() if env is None else env,
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return len(window.requests(agent))


def test_a_fresh_install_and_an_upgrade_cost_no_more_requests_than_helms(
    cluster: Cluster, namespace: str, helm: Path, tmp_path: Path
) -> None:
    chart = render_chart_dir(tmp_path / "chart", files=[VALUES])
    theirs_namespace = f"{namespace}-helm"
    cluster.kubectl("create", "namespace", theirs_namespace)
    # A cluster lmfchart has never seen: nothing in its discovery cache.
    lmfchart = [sys.executable, "-m", "lmfchart", "install", "lmf", "-n", namespace,
                "-f", VALUES, "--kubeconfig", str(cluster.kubeconfig)]
    cold = {**cluster.env(), "LMFCHART_CACHE": str(tmp_path / "cache")}
    ours = [counted(cluster, USER_AGENT, lmfchart, cold),
            counted(cluster, USER_AGENT, [*lmfchart, "--set", "image.tag=0.9.5"], cold)]

    helm_command = [str(helm), "-n", theirs_namespace, "--kubeconfig", str(cluster.kubeconfig)]
    theirs = [counted(cluster, "Helm/", [*helm_command, "install", "lmf", str(chart)]),
              counted(cluster, "Helm/", [*helm_command, "upgrade", "lmf", str(chart),
                                         "--set", "image.tag=0.9.5"])]
    assert ours[0] <= theirs[0] and ours[1] <= theirs[1], (ours, theirs)
