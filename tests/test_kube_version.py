"""`--kube-version` takes the spellings Helm takes, and refuses what Helm refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmfchart import openapi
from lmfchart.cli import app

runner = CliRunner()

# Spellings of 1.30 (and garbage); whether each is acceptable comes from running helm.
SPELLINGS = ["1.30", "v1.30", "1.30.2", "v1.30.2", "1.30.0-rc.1", "1.30.2+k3s1", "V1.30",
             "1.30.x", " 1.30", "1.30 ", "latest", "1.30.2.1", "01.30", "=1.30", "1,30",
             "v1", "1", "1.30.0-", "v.1.30"]
# A misspelt affinity field fails only the Kubernetes schema, whose message names the version.
BAD_AFFINITY = "affinity:\n  nodeAffinty: {}\n"


def _helm_accepts(helm: Path, chart: Path, version: str) -> bool:
    done = subprocess.run([str(helm), "template", str(chart), "--kube-version", version],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 or "invalid kube version" in done.stderr, done.stderr
    return done.returncode == 0


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kube-version")
    (root / "templates").mkdir()
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (root / "templates" / "v.yaml").write_text("v: {{ .Capabilities.KubeVersion.Version }}\n")
    return root


@pytest.mark.helm
def test_spellings_follow_helm(helm4: Path, helm3: Path, chart: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_AFFINITY)
    accepted = []
    for spelling in SPELLINGS:
        by_helm = [_helm_accepts(helm, chart, spelling) for helm in (helm4, helm3)]
        result = runner.invoke(app, ["validate", "--kube-version", spelling, str(bad)])
        if result.exit_code == 2:
            assert result.stderr.startswith(f"error: --kube-version {spelling!r}: not one of "
                                            "the known versions (1.25, "), result.stderr
            assert not all(by_helm), f"both helms take {spelling!r}, lmfchart refuses it"
            continue
        # lmfchart is never more lenient than either helm.
        assert all(by_helm), f"lmfchart takes {spelling!r}, which a helm refuses"
        assert result.exit_code == 1, result.output
        assert "(Kubernetes 1.30 schema)" in result.stdout, result.stdout
        accepted.append(spelling)
    assert {"1.30", "v1.30", "1.30.2", "v1.30.2"} <= set(accepted)
    print(f"accepted {accepted}")


def test_unknown_versions_list_the_known_ones() -> None:
    for version in ("1.2", "v2.0", "1.24.9"):
        result = runner.invoke(app, ["validate", "--kube-version", version, "--set", "gpu.count=1"])
        assert result.exit_code == 2
        known = ", ".join(openapi.available_versions())
        assert f"not one of the known versions ({known})" in result.stderr
        assert result.stdout == ""
