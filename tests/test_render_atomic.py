"""`render --force` replaces a chart all at once: a failure while writing, or while moving
the new chart into place, leaves the old chart byte for byte and nothing beside it."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import example_values

runner = CliRunner()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def old_chart(tmp_path: Path) -> Path:
    chart = tmp_path / "parent" / "chart"
    done = runner.invoke(app, ["render", "-f", str(example_values("gpu-pvc")), "-o", str(chart)])
    assert done.exit_code == 0, done.output
    (chart / "mine.txt").write_text("a file the user added")
    return chart


def _fail_nth_write_below(monkeypatch: pytest.MonkeyPatch, root: Path, nth: int) -> list[Path]:
    """Let writes below `root` succeed until the nth, which fails like a full disk."""
    written: list[Path] = []
    real_write_text = Path.write_text

    def write_text(self: Path, data: str, *args: Any, **kwargs: Any) -> int:
        if root in self.resolve().parents:
            written.append(self)
            if len(written) == nth:
                raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write_text)
    return written


def test_write_error_on_the_fourth_file_keeps_the_old_chart(
    old_chart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(old_chart)
    written = _fail_nth_write_below(monkeypatch, old_chart.parent.resolve(), nth=4)
    done = runner.invoke(app, ["render", "-o", str(old_chart), "--force", "--set", "gpu.count=2"])
    assert len(written) == 4, "the failure was not injected while the chart was written"
    assert done.exit_code == 3, done.output  # the chart could not be written
    assert "cannot write the chart" in done.stderr
    assert "No space left on device" in done.stderr
    assert _snapshot(old_chart) == before
    assert [p.name for p in old_chart.parent.iterdir()] == ["chart"], "staging left behind"


def test_write_error_into_a_new_folder_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = tmp_path / "parent"
    parent.mkdir()
    _fail_nth_write_below(monkeypatch, parent.resolve(), nth=4)
    done = runner.invoke(app, ["render", "-o", str(parent / "chart")])
    assert done.exit_code == 3, done.output  # the chart could not be written
    assert "cannot write the chart" in done.stderr
    assert list(parent.iterdir()) == []


def test_failed_final_move_puts_the_old_chart_back(
    old_chart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(old_chart)
    target = old_chart.resolve()
    real_rename = Path.rename
    moves: list[tuple[str, str]] = []

    def rename(self: Path, destination: Any) -> Path:
        moves.append((self.name, Path(destination).name))
        # Only the new chart's move into place fails; retiring and restoring the old works.
        if Path(destination) == target and not self.name.startswith(".chart.old."):
            raise OSError(errno.EXDEV, "Invalid cross-device link", str(self))
        return real_rename(self, destination)

    monkeypatch.setattr(Path, "rename", rename)
    done = runner.invoke(app, ["render", "-o", str(old_chart), "--force", "--set", "gpu.count=2"])
    assert done.exit_code == 3, done.output  # the chart could not be written
    assert "cannot write the chart" in done.stderr
    assert any(destination == "chart" and not source.startswith(".chart.old.")
               for source, destination in moves), "the final move was never tried"
    assert _snapshot(old_chart) == before
    assert [p.name for p in old_chart.parent.iterdir()] == ["chart"], "staging left behind"


def test_successful_force_replaces_every_file(old_chart: Path) -> None:
    done = runner.invoke(app, ["render", "-o", str(old_chart), "--force", "--set", "gpu.count=2"])
    assert done.exit_code == 0, done.output
    assert not (old_chart / "mine.txt").exists()
    assert "count: 2" in (old_chart / "values.yaml").read_text()
    assert [p.name for p in old_chart.parent.iterdir()] == ["chart"]
