"""How far a training run got, read from what LLaMA-Factory and transformers write.

Two sources, one `Progress`:
- the container's log: transformers' tqdm bar (`35%|███▌      | 7/20 [00:01<00:02,
  4.61it/s]`, redrawn with carriage returns inside one line), the log dicts its
  ProgressCallback prints (`{'loss': 5.4512, 'learning_rate': 4.5e-05, 'epoch': 2.0}`; since
  transformers 4.5x the numbers are quoted, `{'loss': '5.451', ...}`), LLaMA-Factory's
  LogCallback line in web UI mode (`... >> {'loss': 5.4512, 'learning_rate': 4.5000e-05,
  'epoch': 2.00}`), the closing `***** train metrics *****` block, and an export's
  `Merged 1 adapter(s).`;
- `trainer_log.jsonl`, which LLaMA-Factory's LogCallback appends to in the output folder on
  every log step (`current_steps`, `total_steps`, `loss`, `lr`, `epoch`, `elapsed_time`,
  `remaining_time`, ...).

Pure: text in, numbers out.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

# A training bar has no description before its percentage (dataset bars do: "Running
# tokenizer on dataset: 100%|...") and counts iterations, not examples.
_BAR = re.compile(
    r"(?:^|\r)\s*\d+%\|[^|\r\n]*\|\s*(?P<step>\d+)/(?P<total>\d+)\s*"
    r"\[(?P<elapsed>[^<\]\r]*)<(?P<remaining>[^,\]\r]*),\s*[^\]\r]*?(?:it/s|s/it)[^\]\r]*\]")
_DICT = re.compile(r"\{'[^{}\r\n]*\}")
_METRICS_HEADER = re.compile(r"^\*+ train metrics \*+$")
_METRIC = re.compile(r"^\s+(?P<key>[\w/.-]+)\s+=\s+(?P<value>.*?)\s*$")
_MILESTONES = (
    re.compile(r"Loaded adapter\(s\): .*"),
    re.compile(r"Merged \d+ adapter\(s\)\.?"),
    re.compile(r"Model weights saved in \S+"),
    re.compile(r"Ollama modelfile saved in \S+"),
)


@dataclass(frozen=True)
class Progress:
    """The latest numbers a run reported; None where it has not said yet."""

    step: int | None = None
    total_steps: int | None = None
    loss: float | None = None
    learning_rate: float | None = None
    epoch: float | None = None
    elapsed: str | None = None
    remaining: str | None = None
    metrics: Mapping[str, str] = field(default_factory=dict)  # the final train metrics
    milestones: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return self != Progress()

    @property
    def fraction(self) -> float | None:
        if self.step is None or not self.total_steps:
            return None
        return min(self.step / self.total_steps, 1.0)

    def summary(self) -> str:
        """One line: `step 7/20 (35%), loss 5.4512, lr 4.5e-05, epoch 2.0`."""
        parts = []
        if self.step is not None and self.total_steps:
            parts.append(f"step {self.step}/{self.total_steps} "
                         f"({100 * (self.fraction or 0):.0f}%)")
        for label, value in (("loss", self.loss), ("lr", self.learning_rate),
                             ("epoch", self.epoch)):
            if value is not None:
                parts.append(f"{label} {value:g}")
        if self.remaining and self.step != self.total_steps:
            parts.append(f"{self.remaining} left")
        if "train_loss" in self.metrics:
            parts.append(f"train_loss {self.metrics['train_loss']}")
        parts.extend(self.milestones[-1:])
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"step": self.step, "total_steps": self.total_steps, "loss": self.loss,
                "learning_rate": self.learning_rate, "epoch": self.epoch,
                "elapsed": self.elapsed, "remaining": self.remaining,
                "metrics": dict(self.metrics), "milestones": list(self.milestones)}


def progress_from_log(text: str) -> Progress:
    """The latest progress in a training or export container's log."""
    progress = Progress()
    lines = text.split("\n")
    for index, line in enumerate(lines):
        bars = list(_BAR.finditer(line))
        if bars:
            last = bars[-1]
            progress = replace(progress, step=int(last["step"]), total_steps=int(last["total"]),
                               elapsed=last["elapsed"].strip(),
                               remaining=last["remaining"].strip())
        for found in _DICT.finditer(line):
            progress = _with_logged(progress, _literal(found.group(0)))
        for pattern in _MILESTONES:
            milestone = pattern.search(line)
            if milestone:
                progress = replace(progress, milestones=(*progress.milestones,
                                                         milestone.group(0)))
        if _METRICS_HEADER.match(_last_segment(line).strip()):
            progress = replace(progress, metrics=_metrics_block(lines[index + 1:]))
    return progress


def progress_from_trainer_log(text: str) -> Progress:
    """The latest progress in LLaMA-Factory's `trainer_log.jsonl`; lines that are not JSON
    objects (one cut short while being written) are skipped."""
    progress = Progress()
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if not isinstance(entry, dict):
            continue
        step, total = _integer(entry.get("current_steps")), _integer(entry.get("total_steps"))
        progress = replace(
            progress,
            step=progress.step if step is None else step,
            total_steps=progress.total_steps if total is None else total,
            loss=_pick(entry.get("loss"), progress.loss),
            learning_rate=_pick(entry.get("lr"), progress.learning_rate),
            epoch=_pick(entry.get("epoch"), progress.epoch),
            elapsed=str(entry.get("elapsed_time") or progress.elapsed or "") or None,
            remaining=str(entry.get("remaining_time") or progress.remaining or "") or None,
        )
    return progress


def readable_lines(text: str) -> list[str]:
    """The log's lines as a terminal would show them: of a line redrawn with carriage
    returns (a progress bar), its last drawing."""
    lines = [_last_segment(line) for line in text.rstrip("\n").split("\n")]
    return [line for line in lines if line]  # a blank line's last segment is ""


def _last_segment(line: str) -> str:
    segments = [segment for segment in line.split("\r") if segment.strip()]
    return segments[-1] if segments else ""


def _literal(text: str) -> dict[str, Any]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _with_logged(progress: Progress, logged: dict[str, Any]) -> Progress:
    if "train_loss" in logged or "train_runtime" in logged:
        # The dict the Trainer logs when training ends: the run's summary, not a step.
        merged = {**{k: str(v) for k, v in logged.items()}, **progress.metrics}
        return replace(progress, metrics=merged,
                       epoch=_pick(logged.get("epoch"), progress.epoch))
    if "loss" not in logged and "learning_rate" not in logged:
        return progress
    return replace(progress, loss=_pick(logged.get("loss"), progress.loss),
                   learning_rate=_pick(logged.get("learning_rate"), progress.learning_rate),
                   epoch=_pick(logged.get("epoch"), progress.epoch))


def _metrics_block(lines: Iterable[str]) -> dict[str, str]:
    metrics = {}
    for line in lines:
        found = _METRIC.match(_last_segment(line))
        if not found:
            break
        metrics[found["key"]] = found["value"]
    return metrics


def _pick(value: Any, fallback: float | None) -> float | None:
    """VALUE as a number (transformers quotes them), or FALLBACK when it is not one."""
    if isinstance(value, bool):
        return fallback
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return fallback
    return fallback


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
