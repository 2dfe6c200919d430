"""A clock for waits: time moves only when the code under test sleeps."""

from __future__ import annotations

from collections.abc import Callable


class FakeClock:
    """Time that moves only when the code under test sleeps; SCHEDULE runs at given times."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.schedule: list[tuple[float, Callable[[], None]]] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        for at, change in list(self.schedule):
            if self.now - 1000.0 >= at:
                change()
                self.schedule.remove((at, change))
