"""Wall time and peak memory of child processes, and rounds that interleave two tools.

Each command is started by `launcher.py` (a bare interpreter of its own) and reaped with
`os.wait4`, whose resource usage is that child's alone: its max RSS is the command's
peak memory. Started from this process instead, a child's max RSS would never read below
this process's own peak (see launcher.py). Output goes to files, not pipes.
"""

from __future__ import annotations

import atexit
import marshal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


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
    def __init__(self, command: Sequence[str], problem: str, output: bytes = b"") -> None:
        shown = " ".join(command)
        shown = shown if len(shown) < 300 else shown[:300] + " ..."
        super().__init__(f"{shown} {problem}\n{output.decode(errors='replace')[-3000:]}")


class _Launcher:
    """The one launcher process, started on first use and ended at exit."""

    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def channels(cls) -> tuple[IO[bytes], IO[bytes]]:
        if cls.process is None:
            script = Path(__file__).with_name("launcher.py")
            cls.process = subprocess.Popen([sys.executable, "-S", "-I", str(script)],
                                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            atexit.register(cls.stop)
        assert cls.process.stdin and cls.process.stdout
        return cls.process.stdin, cls.process.stdout

    @classmethod
    def stop(cls) -> None:
        if cls.process is not None:
            assert cls.process.stdin
            cls.process.stdin.close()  # the launcher ends at the end of its input
            cls.process.wait()
            cls.process = None


def launcher_floor_mib() -> int:
    """The lowest peak RSS a measured command can show: the launcher's own."""
    _Launcher.channels()
    assert _Launcher.process
    status = Path(f"/proc/{_Launcher.process.pid}/status").read_text()
    peak_kib = next(int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmHWM:"))
    return round(peak_kib / 1024)


def measure(command: Sequence[str], *, env: Mapping[str, str],
            stdin: bytes | None = None) -> Finished:
    """Run COMMAND to its end; its wall time and peak RSS; CommandError unless it exits 0."""
    requests, replies = _Launcher.channels()
    with tempfile.TemporaryDirectory(prefix="lmfchart-bench-io-") as folder:
        given, out, err = (Path(folder) / name for name in ("stdin", "stdout", "stderr"))
        given.write_bytes(stdin or b"")
        out.touch()
        err.touch()
        marshal.dump((list(command), dict(env), str(given), str(out), str(err)), requests)
        requests.flush()
        try:
            status, wall, max_rss = marshal.load(replies)  # wall: a message on "error"
        except EOFError:
            raise RuntimeError("the benchmark's launcher process ended") from None
        if status == "error":
            raise CommandError(command, f"could not be started: {wall}")
        if status != 0:
            # lmfchart validate reports on stdout, most tools on stderr: show both.
            raise CommandError(command, f"exited with {status}:",
                               out.read_bytes() + err.read_bytes())
        # Linux reports ru_maxrss in KiB.
        return Finished(Sample(wall, max_rss), out.read_bytes())


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
