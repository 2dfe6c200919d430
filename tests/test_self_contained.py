"""The repository stands alone: nothing in it points to files outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import REPO

# Spelt in pieces so that this file does not match itself.
OUTSIDE = ("../" + "shared", "shared/" + "reference", "/" + "work/")


def _repo_files() -> list[Path]:
    """Tracked files and new ones git does not ignore; every file in an unpacked sdist."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=False)
    if listed.returncode == 0:
        return [REPO / name for name in listed.stdout.decode().split("\0") if name]
    return [p for p in REPO.rglob("*") if p.is_file()
            and not any(part.startswith(".") or part == "__pycache__"
                        for part in p.relative_to(REPO).parts)]


def test_no_file_refers_outside_the_repository() -> None:
    files = [p for p in _repo_files() if p.is_file()]
    assert REPO / "README.md" in files
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_bytes().decode("utf-8", "replace").splitlines(), 1)
        if any(word in line for word in OUTSIDE)
    ]
    assert found == []


def test_seed_chart_facts_live_in_the_repository() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/seed-chart.md" in readme
    assert "docs/seed-chart.md" in (REPO / "tests" / "test_seed_parity.py").read_text()
    assert (REPO / "docs" / "seed-chart.md").is_file()
