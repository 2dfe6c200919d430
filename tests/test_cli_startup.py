"""The console entry point as a shell runs it: only the command asked for is built, help
needs neither rich nor pydantic, and leaving early never loses output or exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from lmfchart.cli import app, app_for
from tests.conftest import example_values

runner = CliRunner()
COMMANDS = sorted(typer.main.get_group(app).commands)


def lmfchart(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lmfchart", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_reads_and_helps_as_in_the_whole_app(command: str) -> None:
    lean = runner.invoke(app_for([command, "--help"]), [command, "--help"])
    whole = runner.invoke(app, [command, "--help"])
    assert lean.exit_code == whole.exit_code == 0
    assert lean.stdout == whole.stdout


def test_the_lean_app_holds_only_the_command_named() -> None:
    assert sorted(typer.main.get_group(app_for(["template", "-f", "x"])).commands) == [
        "template"]
    for argv in ([], ["--version"], ["--help"], ["tempalte"]):
        assert app_for(argv) is app


def test_a_misspelt_command_is_still_named_with_the_nearest_one() -> None:
    done = lmfchart("tempalte")
    assert done.returncode == 2
    assert "No such command 'tempalte'" in done.stderr
    assert "template" in done.stderr


def test_help_loads_neither_rich_nor_pydantic() -> None:
    script = """
import sys
from typer.testing import CliRunner
from lmfchart.cli import app_for
result = CliRunner().invoke(app_for(["--help"]), ["--help"])
assert result.exit_code == 0 and "template" in result.stdout, result.output
print(sorted({m.split(".")[0] for m in sys.modules} & {"rich", "pydantic", "jinja2", "yaml"}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_whole_output_arrives_before_the_process_ends() -> None:
    values = str(example_values("fine-tuning"))
    done = lmfchart("template", "lmf", "-n", "llm", "-f", values)
    in_process = runner.invoke(app, ["template", "lmf", "-n", "llm", "-f", values])
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) > 20_000
    assert done.stdout == in_process.stdout


def test_exit_codes_survive_the_early_exit() -> None:
    missing = lmfchart("template", "-f", "no-such-values.yaml")
    assert missing.returncode == 1
    assert "no-such-values.yaml: file not found" in missing.stderr
    assert lmfchart("version").stdout.strip() == lmfchart("--version").stdout.strip()


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    # More than a pipe holds, so the command must notice its reader has gone.
    values = tmp_path / "big.yaml"
    values.write_text("podAnnotations:\n  big: " + "x" * 200_000 + "\n")
    for _ in range(3):
        with subprocess.Popen([sys.executable, "-m", "lmfchart", "template", "-f",
                               str(values)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) as process:
            assert process.stdout is not None and process.stderr is not None
            process.stdout.close()
            errors = process.stderr.read().decode()
            assert process.wait() == 1
        assert "Traceback" not in errors
        assert "Exception ignored" not in errors


@pytest.mark.parametrize("args", [["--help"], ["template", "-f", "SEED"]])
def test_a_full_disk_is_said_with_exit_3(args: list[str]) -> None:
    args = [str(example_values("seed")) if a == "SEED" else a for a in args]
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "lmfchart", *args], stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 3
    assert "error: cannot write the output: No space left on device" in done.stderr
    assert "Traceback" not in done.stderr
