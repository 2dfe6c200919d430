"""What `--wait` shows while it waits: a live table on a terminal, plain lines elsewhere."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from lmfchart.usecases.readiness import State
from lmfchart.usecases.wait import ObjectStatus

_STYLES = {State.CURRENT: "green", State.IN_PROGRESS: "yellow", State.FAILED: "red"}


class WaitDisplay:
    """The `progress` callback of `wait_for_ready`; use it as a context manager.

    On a terminal it redraws one table (object, state, what it waits for, first reason) at
    every poll. Elsewhere (a CI log, a pipe) it prints a line per object whenever what it
    would show for that object changes, so the log stays short.
    """

    def __init__(self, console: Console, *, done: str = "ready") -> None:
        self.console = console
        self.done = done  # what the table's title counts: "ready", or "gone" for deletes
        self._live: Live | None = None
        self._shown: dict[str, str] = {}

    def __enter__(self) -> WaitDisplay:
        if self.console.is_terminal:
            self._live = Live(Table(), console=self.console, auto_refresh=False,
                              transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._live is not None:
            self._live.__exit__(kind, error, trace)

    def __call__(self, statuses: Sequence[ObjectStatus]) -> None:
        if self._live is not None:
            self._live.update(_table(statuses, self.done), refresh=True)
            return
        for item in statuses:
            line = f"{item.label}: {item.state}: {item.message}"
            if item.reasons:
                line += f" ({_first_line(item.reasons[0])})"
            if self._shown.get(item.label) != line:
                self._shown[item.label] = line
                self.console.print(f"  {line}", markup=False, highlight=False,
                                   soft_wrap=True)


def _table(statuses: Sequence[ObjectStatus], done: str) -> Table:
    ready = sum(item.state is State.CURRENT for item in statuses)
    table = Table(title=f"waiting: {ready}/{len(statuses)} {done}", title_justify="left",
                  expand=False)
    for column in ("object", "state", "status", "reason"):
        table.add_column(column, overflow="fold")
    for item in statuses:
        # Text, not markup: server messages may hold brackets.
        table.add_row(Text(item.label), Text(str(item.state), style=_STYLES[item.state]),
                      Text(item.message),
                      Text(_first_line(item.reasons[0]) if item.reasons else ""))
    return table


def _first_line(reason: str) -> str:
    return reason.splitlines()[0]
