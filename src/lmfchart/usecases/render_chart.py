"""`render`: values in, a Helm chart folder out (all of it, or nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.chartfiles import write_chart


@dataclass(frozen=True)
class RenderedChart:
    path: Path
    notes: tuple[str, ...]


def render_chart(*, values: ValueOptions, output: Path, force: bool = False) -> RenderedChart:
    loaded = load_values(values)
    written = write_chart(loaded.values, output, force=force)
    return RenderedChart(written, tuple(loaded.notes))
