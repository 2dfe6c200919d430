"""The wheel carries the templates: build it, install it in a fresh venv, render from it."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, example_values

pytestmark = pytest.mark.slow


def _dependency_dirs() -> list[str]:
    """Where this interpreter finds lmfchart's dependencies: its site-packages (a venv's,
    a global install's, a distribution's dist-packages) and the user site."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dirs if Path(d).is_dir()]


def _clean_env() -> dict[str, str]:
    # PYTHONPATH would put a source checkout of lmfchart before the wheel.
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


def _run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd,
                          env=_clean_env(), check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip()


def test_wheel_installs_and_renders(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO, cwd=tmp_path)
    [wheel] = dist.glob("lmfchart-*.whl")
    env_dir = tmp_path / "venv"
    # A bare venv: inside another venv, system_site_packages would reach the base
    # interpreter, which need not have the dependencies.
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                        cwd=tmp_path))
    # The dependencies come from where this interpreter has them. The .pth lines land on
    # sys.path after the venv's own site-packages, so the wheel shadows any other lmfchart
    # (and .pth files in those folders, such as an editable lmfchart's, are not run).
    (purelib / "lmfchart_test_dependencies.pth").write_text("\n".join(_dependency_dirs()) + "\n")
    # --ignore-installed: an lmfchart installed where the dependencies are (`pip install .`)
    # would otherwise count as already there, and the wheel would not be installed at all.
    _run(python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed",
         "--quiet", wheel, cwd=tmp_path)
    where = _run(python, "-c", "import lmfchart, lmfchart.render.engine as e; "
                 "print(lmfchart.__file__); print(e.templates_dir())", cwd=tmp_path)
    assert all(line.startswith(str(env_dir)) for line in where.splitlines()), (
        f"lmfchart or its templates came from outside the wheel:\n{where}"
    )
    # The LLaMA-Factory key catalogue is package data beside its module in the wheel.
    loaded = _run(python, "-c", "import lmfchart.model.llamafactory.catalogue as c; "
                  "print(c.__file__); print(len(c.catalogue().train_keys))", cwd=tmp_path)
    module_file, train_keys = loaded.splitlines()
    assert module_file.startswith(str(env_dir)), module_file
    assert int(train_keys) > 0
    out = tmp_path / "chart"
    _run(env_dir / "bin" / "lmfchart", "render", "-f", example_values("seed"), "-o", out,
         cwd=tmp_path)
    assert yaml.safe_load((out / "Chart.yaml").read_text())["name"] == "llama-factory"
    assert (out / "templates" / "deployment.yaml").is_file()
