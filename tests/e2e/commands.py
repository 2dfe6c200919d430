"""Running lmfchart, helm and kubectl against the test control plane, as the e2e tests of
the cluster commands do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import REPO
from tests.support.charts import render_chart_dir

from .cluster import Cluster


def lmfchart(cluster: Cluster, *args: str) -> Any:
    result = CliRunner().invoke(app, [*args, "--kubeconfig", str(cluster.kubeconfig)])
    assert "Traceback" not in result.output, result.output
    return result


def start_lmfchart(cluster: Cluster, *args: str) -> subprocess.Popen[str]:
    """`lmfchart ARGS` in its own process against CLUSTER (stdout a pipe, as in CI)."""
    env = {**cluster.env(), "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "lmfchart", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=os.getcwd())


def helm_run(helm: Path, cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], env=cluster.env(), capture_output=True,
                          text=True, timeout=120, check=False)


def get(cluster: Cluster, what: str, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        cluster.kubectl("get", what, "-n", namespace, "-o", "json",
                        "--show-managed-fields").stdout)
    return found


def records(cluster: Cluster, namespace: str) -> dict[str, str]:
    """The release record Secrets of NAMESPACE -> their status label."""
    secrets = get(cluster, "secrets", namespace)["items"]
    return {s["metadata"]["name"]: s["metadata"]["labels"]["status"] for s in secrets
            if s["type"] == "helm.sh/release.v1"}


def helm_install_rendered(helm: Path, cluster: Cluster, namespace: str, where: Path,
                          *values_files: str) -> Path:
    """`lmfchart render`'s chart (from VALUES_FILES) installed as release lmf by HELM."""
    chart = render_chart_dir(where, files=list(values_files))
    installed = helm_run(helm, cluster, "install", "lmf", str(chart), "-n", namespace)
    assert installed.returncode == 0, installed.stderr
    return chart


def helm_history(helm: Path, cluster: Cluster, namespace: str) -> list[tuple[int, str, str]]:
    """`helm history lmf`: (revision, status, description) of each revision."""
    done = helm_run(helm, cluster, "history", "lmf", "-n", namespace, "-o", "json")
    assert done.returncode == 0, done.stderr
    return [(r["revision"], r["status"], r["description"]) for r in json.loads(done.stdout)]
