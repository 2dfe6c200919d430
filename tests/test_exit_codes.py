"""One exit code per kind of failure, as the README's table lists them, through the CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import REPO, example_values

runner = CliRunner()


def test_0_when_done() -> None:
    assert runner.invoke(app, ["template"]).exit_code == 0
    assert runner.invoke(app, ["validate", str(example_values("seed"))]).exit_code == 0


def test_1_for_invalid_values(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("gpu:\n  count: -1\n")
    for args in (["template", "-f", str(bad)], ["render", "-f", str(bad), "-o",
                                                str(tmp_path / "out")],
                 ["validate", str(bad)], ["template", "--set", "gpu.count=-1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "gpu.count" in result.output
    assert not (tmp_path / "out").exists()


def test_2_for_usage_errors() -> None:
    for args, says in (
        (["template", "--no-such-flag"], "No such option"),
        (["template", "--set", "a[x]=1"], "a[x]=1"),
        (["template", "Bad_Name"], "Bad_Name"),
        (["validate", "--kube-version", "latest", str(example_values("seed"))], "latest"),
        (["validate"], "nothing to validate"),
        (["validate", "--format", "xml", str(example_values("seed"))], "xml"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert says in result.output, (args, result.output)
        assert result.stdout == "", args


def test_3_when_the_chart_cannot_be_written(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep")
    result = runner.invoke(app, ["render", "-o", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    assert "not empty" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["mine.txt"]


def _copy_with_template(tmp_path: Path, text: str) -> Path:
    """A copy of lmfchart whose Service template is `text`: a bug planted in lmfchart."""
    shutil.copytree(REPO / "src", tmp_path / "src")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    [service] = (tmp_path / "templates").rglob("service.yaml.j2")
    service.write_text(text)
    return tmp_path / "src"


def _run_copy(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "XDG_CACHE_HOME": str(src.parent / "cache")}
    return subprocess.run([sys.executable, "-m", "lmfchart", *args], capture_output=True,
                          text=True, env=env, check=False)


def test_4_for_a_bug_in_lmfchart(tmp_path: Path) -> None:
    src = _copy_with_template(tmp_path, "{{ no_such_helper() }}\n")
    for args in (["template"], ["validate", str(example_values("seed"))]):
        done = _run_copy(src, *args)
        assert done.returncode == 4, (args, done.stderr)
        assert "service.yaml" in done.stderr and done.stdout == "", args


def test_4_for_an_unexpected_exception(tmp_path: Path) -> None:
    src = _copy_with_template(tmp_path, "{{ 1 // 0 }}\n")
    done = _run_copy(src, "template")
    assert done.returncode == 4, done.stderr
    assert "ZeroDivisionError" in done.stderr and done.stdout == ""


def test_diff_exits_1_for_every_error(tmp_path: Path) -> None:
    # diff exits 2 for "changes found" (as helm diff --detailed-exitcode): no error reads so.
    for args, says in ((["diff", "--no-such-flag"], "No such option"),
                       (["diff", "--kubeconfig", str(tmp_path / "none")], "none")):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert says in result.output and result.stdout == "", args
    assert runner.invoke(app, ["template", "--no-such-flag"]).exit_code == 2


def test_readme_lists_every_exit_code() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\d)` \|", readme, re.MULTILINE)
    assert rows == ["0", "1", "2", "3", "4", "5"]


def test_version_flag_and_command_print_the_package_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    flag = runner.invoke(app, ["--version"])
    command = runner.invoke(app, ["version"])
    assert flag.exit_code == command.exit_code == 0
    assert flag.stdout == command.stdout == f"{project['version']}\n"
