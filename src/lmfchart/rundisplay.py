"""How `status` and `progress` show a run: a line per run, a progress bar with steps and
loss, and on failure the reasons and the last log lines."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from lmfchart.usecases.runreport import RunReport
from lmfchart.usecases.runs import RunState
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
    """A bar (when the total number of steps is known) and the numbers on one line."""
    grid = Table.grid(padding=(0, 1))
    row: list[ProgressBar | Text] = [Text(" " * indent)] if indent else []
    if progress.step is not None and progress.total_steps:
        row.append(ProgressBar(total=progress.total_steps, completed=progress.step,
                               width=BAR_WIDTH))
    row.append(Text(progress.summary()))
    for _ in row:
        grid.add_column(no_wrap=False)
    grid.add_row(*row)
    console.print(grid)
