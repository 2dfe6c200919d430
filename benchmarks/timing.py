"""Wall time and peak memory of child processes, and rounds that interleave two tools.

A child is started with `subprocess.Popen` and reaped with `os.wait4`, whose resource
usage is that child's alone: its max RSS is the process's peak memory. Output goes to
temporary files rather than pipes, so nothing has to be read while the child runs.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sample:
    """One measured piece of work: seconds of wall time, peak RSS in KiB."""

    wall_s: float
    peak_rss_kib: int

    @staticmethod
    def combined(parts: Sequence[Sample]) -> Sample:
        """Work done by several processes one after another: times add, the peak is the
        largest of their peaks."""
        return Sample(sum(p.wall_s for p in parts), max(p.peak_rss_kib for p in parts))


@dataclass(frozen=True)
class Finished:
    sample: Sample
    stdout: bytes


class CommandError(RuntimeError):
    def __init__(self, command: Sequence[str], status: int, stderr: bytes) -> None:
        super().__init__(f"{' '.join(command)} exited with {status}:\n"
                         f"{stderr.decode(errors='replace')[-2000:]}")


def measure(command: Sequence[str], *, env: Mapping[str, str],
            stdin: bytes | None = None) -> Finished:
    """Run COMMAND to its end; its wall time and peak RSS; CommandError unless it exits 0."""
    with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as out, \
            tempfile.TemporaryFile() as err:
        if stdin is not None:
            given.write(stdin)
            given.seek(0)
        start = time.perf_counter()
        child = subprocess.Popen(command, env=dict(env), stdin=given, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        # wait4 reaped it; tell Popen, so it neither waits again nor warns.
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise CommandError(command, child.returncode, err.read())
        out.seek(0)
        # Linux reports ru_maxrss in KiB.
        return Finished(Sample(wall, usage.ru_maxrss), out.read())


Work = Callable[[int], Sample]
"""Something to time in round N (-1 is the warm-up); work that must not be repeated on
the same inputs picks its inputs by round."""


@dataclass(frozen=True)
class Contest:
    label: str
    ours: Work
    theirs: Work | None


@dataclass
class Results:
    ours: list[Sample] = field(default_factory=list)
    theirs: list[Sample] = field(default_factory=list)


def median_wall(samples: Sequence[Sample]) -> float:
    return statistics.median(s.wall_s for s in samples)


def peak_rss(samples: Sequence[Sample]) -> int:
    return max(s.peak_rss_kib for s in samples)


def interleave(contests: Sequence[Contest], *, rounds: int,
               progress: Callable[[str], None]) -> dict[str, Results]:
    """One untimed warm-up of each side, then ROUNDS rounds in which every contest runs
    both sides back to back, lmfchart first in even rounds and last in odd ones, so both
    see the same machine noise."""
    for contest in contests:
        contest.ours(-1)
        if contest.theirs:
            contest.theirs(-1)
    results = {c.label: Results() for c in contests}
    for round_ in range(rounds):
        progress(f"round {round_ + 1}/{rounds}")
        for contest in contests:
            got = results[contest.label]
            sides: list[tuple[Work, list[Sample]]] = [(contest.ours, got.ours)]
            if contest.theirs:
                sides.append((contest.theirs, got.theirs))
            if round_ % 2:
                sides.reverse()
            for work, into in sides:
                into.append(work(round_))
    return results
