"""How `status` and `progress` show a run: a line per run, a progress bar with steps and
loss, and on failure the reasons and the last log lines."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from lmfchart.usecases.liveruns import RunState
from lmfchart.usecases.runreport import RunReport
from lmfchart.usecases.trainlog import Progress

_STYLES = {RunState.PENDING: "yellow", RunState.RUNNING: "cyan",
           RunState.SUCCEEDED: "green", RunState.FAILED: "bold red"}
BAR_WIDTH = 30


def print_runs(console: Console, runs: Sequence[RunReport]) -> None:
    console.print("RUNS:", markup=False)
    for run in runs:
        console.print(Text(f"  {run.component}/{run.name}: {run.state} ({run.kind} "
                           f"{run.object_name}: {run.completions})",
                           style=_STYLES[run.state]), soft_wrap=True)
        if run.progress.known:
            print_progress(console, run.progress, indent=4)
        for reason in run.reasons:
            console.print(Text(f"    - {reason}"), soft_wrap=True)
        if run.last_lines:
            console.print(f"    last log lines of pod {run.pod}:", markup=False)
            for line in run.last_lines:
                console.print(Text(f"      | {line}"), soft_wrap=True)


def print_progress(console: Console, progress: Progress, *, indent: int = 0) -> None:
    """A bar (when the total number of steps is known) and the numbers, on one line."""
    line = Text(" " * indent)
    if progress.fraction is not None:
        done = round(progress.fraction * BAR_WIDTH)
        line.append("━" * done, style="green" if done == BAR_WIDTH else "magenta")
        line.append("━" * (BAR_WIDTH - done) + " ", style="grey37")
    line.append(progress.summary())
    console.print(line, soft_wrap=True)
