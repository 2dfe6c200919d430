"""The benchmark entry point (`benchmarks/run.py`) keeps working: tiny settings, every row
printed with numbers. Nothing here checks a time: times depend on the machine."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DURATION = r"\d+(\.\d+)? (ms|s)"
MEMORY = r"\d+ MiB"


def run_benchmark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "benchmarks" / "run.py"), *args],
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=600)


def table_rows(output: str, first_header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table whose header starts with FIRST_HEADER, by label."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        label, *cells = (cell.strip() for cell in line.strip("|").split("|"))
        rows[label] = cells
    return rows


@pytest.mark.helm
def test_the_benchmark_prints_every_row_with_numbers(helm4: Path, helm3: Path) -> None:
    done = run_benchmark("--runs", "1", "--files", "2", "--helm-sample", "1", "--no-cluster")
    assert done.returncode == 0, done.stderr

    versions = [subprocess.run([str(h), "version", "--short"], capture_output=True, text=True,
                               check=True).stdout.split("+")[0] for h in (helm4, helm3)]
    machine = next(line for line in done.stdout.splitlines() if line.startswith("machine:"))
    assert re.search(r"\d+ cores, \d+\.\d GiB memory; Python 3\.\d+", machine), machine
    assert all(version in machine for version in versions), (versions, machine)
    assert re.search(r"^lmfchart: .*lmfchart", done.stdout, re.MULTILINE), done.stdout

    rows = table_rows(done.stdout, "measure")
    python = rows.pop("Python start-up (`python -c pass`), for reference")
    assert re.fullmatch(DURATION, python[0]) and re.fullmatch(MEMORY, python[3]), python
    floor = rows.pop("Importing typer, pydantic, jinja2 and yaml (`template`'s floor), "
                     "for reference")
    assert re.fullmatch(DURATION, floor[0]), floor
    assert re.fullmatch(r"\d+\.\d+x helm's `template`", floor[2]), floor
    expected = [
        "`--help`",
        "`template` of examples/seed (whole process; helm: the rendered chart)",
        *(f"`validate` of {files}, {layout}" for layout in ("chart-layout", "seed-layout")
          for files in ("2 files", "1 file")),
    ]
    assert list(rows) == expected, done.stdout
    for label, (ours, theirs, ratio, ours_rss, theirs_rss, target) in rows.items():
        assert re.match(DURATION, ours) and re.match(DURATION, theirs), (label, ours, theirs)
        assert re.fullmatch(r"\d+\.\d+x( faster)?", ratio), (label, ratio)
        assert re.fullmatch(MEMORY, ours_rss) and re.fullmatch(MEMORY, theirs_rss), label
        assert re.search(r"\((not )?met\)|MiB to N\)", target), (label, target)
    validate = rows["`validate` of 2 files, chart-layout"]
    assert re.search(r"files/s; 1 file a round, scaled to 2\)", validate[1]), validate
    assert "API section skipped (--no-cluster)." in done.stdout


def test_a_count_below_one_is_refused_by_name() -> None:
    done = run_benchmark("--files", "0")
    assert done.returncode == 2
    assert "--files: expected a positive number, got 0" in done.stderr
