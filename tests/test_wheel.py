"""The wheel carries the templates: build it, install it in a fresh venv, render from it."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, example_values

pytestmark = pytest.mark.slow


def test_wheel_installs_and_renders(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
                   check=True, capture_output=True)
    [wheel] = dist.glob("lmfchart-*.whl")
    env_dir = tmp_path / "venv"
    # System site-packages supply the dependencies; the wheel itself shadows any other copy.
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
                   check=True, capture_output=True)
    where = subprocess.run(
        [str(python), "-c", "import lmfchart.render.engine as e; print(e.templates_dir())"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.strip()
    assert where.startswith(str(env_dir)), f"templates came from {where}, not the wheel"
    out = tmp_path / "chart"
    subprocess.run([str(env_dir / "bin" / "lmfchart"), "render", "-f",
                    str(example_values("seed")), "-o", str(out)],
                   check=True, capture_output=True, cwd=tmp_path)
    assert yaml.safe_load((out / "Chart.yaml").read_text())["name"] == "llama-factory"
    assert (out / "templates" / "deployment.yaml").is_file()
