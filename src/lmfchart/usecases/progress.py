"""`lmfchart progress`: a run's progress from a file the user saved (a container log, or
LLaMA-Factory's `trainer_log.jsonl`), read by the same parser `status` uses."""

from __future__ import annotations

from pathlib import Path

from lmfchart.base.errors import InputError, UsageError
from lmfchart.usecases.trainlog import Progress, progress_from_log, progress_from_trainer_log


def read_progress(*, log: Path | None, trainer_log: Path | None) -> Progress:
    if (log is None) == (trainer_log is None):
        raise UsageError("give one of --log FILE or --trainer-log FILE")
    path = log or trainer_log
    assert path is not None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputError.single(f"cannot read it: {error.strerror or error}",
                                file=str(path)) from error
    found = progress_from_log(text) if log else progress_from_trainer_log(text)
    if not found.known:
        expected = ("a training progress bar, a logged loss, train metrics or an export "
                    "milestone" if log else
                    "JSON lines with current_steps, total_steps, loss, lr, epoch")
        raise InputError.single(f"no training progress in it: expected {expected}",
                                file=str(path))
    return found
