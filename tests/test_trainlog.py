"""Progress read from a training container's log and from trainer_log.jsonl.

The fixtures in tests/data/trainlogs/ are written by hand in the formats transformers 5
(tqdm bar with carriage returns, log dicts with quoted numbers, the train metrics block)
and LLaMA-Factory 0.9.5 (LogCallback's web UI line, trainer_log.jsonl, the export's
adapter lines) print; tests/data/llamafactory/ holds a real GPU run's log and
trainer_log.jsonl (see its README), which check each other.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lmfchart.usecases.trainlog import (
    Progress,
    progress_from_log,
    progress_from_trainer_log,
    readable_lines,
)

DATA = Path(__file__).parent / "data" / "trainlogs"


def _read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_a_running_trainings_latest_bar_and_logged_loss() -> None:
    progress = progress_from_log(_read("train-running.log"))
    # The dataset bar (20/20 examples) comes first and is not the training bar.
    assert (progress.step, progress.total_steps) == (7, 20)
    assert (progress.loss, progress.learning_rate, progress.epoch) == (5.451, 4.5e-05, 1.0)
    assert (progress.elapsed, progress.remaining) == ("00:01", "00:02")
    assert progress.fraction == pytest.approx(0.35)
    assert progress.summary() == "step 7/20 (35%), loss 5.451, lr 4.5e-05, epoch 1, 00:02 left"
    assert not progress.metrics


def test_a_finished_training_has_its_metrics_block() -> None:
    progress = progress_from_log(_read("train-finished.log"))
    assert (progress.step, progress.total_steps, progress.loss, progress.epoch) == (
        20, 20, 5.102, 3.0)
    assert progress.metrics["train_loss"] == "5.2134"
    assert progress.metrics["train_runtime"] == "0:00:04.33"
    assert progress.metrics["total_flos"] == "12GF"
    assert progress.summary() == ("step 20/20 (100%), loss 5.102, lr 2.5e-05, epoch 3, "
                                  "train_loss 5.2134")


def test_llamafactory_web_ui_lines_and_unquoted_numbers() -> None:
    progress = progress_from_log(_read("train-webui.log"))
    assert (progress.step, progress.loss, progress.learning_rate, progress.epoch) == (
        None, 5.1023, 2.5e-05, 2.0)
    older = progress_from_log("{'loss': 2.5, 'grad_norm': 0.61, 'learning_rate': 1e-05, "
                              "'epoch': 0.5}\n")
    assert (older.loss, older.learning_rate, older.epoch) == (2.5, 1e-05, 0.5)


def test_an_exports_milestones() -> None:
    progress = progress_from_log(_read("export.log"))
    assert progress.milestones == (
        "Merged 1 adapter(s).", "Loaded adapter(s): /out/train/demo",
        "Model weights saved in /out/models/demo/model.safetensors")
    assert progress.step is None and progress.known


@pytest.mark.parametrize("text", [
    "", "Loading checkpoint shards: 100%|██████████| 2/2 [00:01<00:00,  1.50it/s]\n",
    "{'not': 'a log'}\n", "{'loss': oops}\n", " 10%|#   | 2/20 [00:01<00:09, 2.0 examples/s]\n",
])
def test_lines_that_are_no_training_progress(text: str) -> None:
    assert progress_from_log(text) == Progress()
    assert not Progress().known


def test_trainer_log_jsonl() -> None:
    progress = progress_from_trainer_log(_read("trainer_log.jsonl"))
    # The last line was cut short while being written: the one before counts.
    assert (progress.step, progress.total_steps, progress.loss, progress.learning_rate,
            progress.epoch, progress.elapsed, progress.remaining) == (
        10, 20, 5.1023, 2.5e-05, 2.0, "0:00:02", "0:00:02")
    # An evaluation line has steps but no loss: the last loss stays.
    more = json.dumps({"current_steps": 15, "total_steps": 20, "percentage": 75.0,
                       "elapsed_time": "0:00:03", "remaining_time": "0:00:01"})
    later = progress_from_trainer_log(_read("trainer_log.jsonl") + "\n" + more + "\n")
    assert (later.step, later.loss, later.remaining) == (15, 5.1023, "0:00:01")


def test_readable_lines_show_the_last_drawing_of_a_bar() -> None:
    lines = readable_lines("a\r  5%| | 1/20 [..]\r 10%| | 2/20 [..]\nb\n\r\n")
    assert lines == [" 10%| | 2/20 [..]", "b"]
    assert readable_lines("") == []


REAL = Path(__file__).parent / "data" / "llamafactory"
# Each real run's container log beside the trainer_log.jsonl the same run wrote.
REAL_RUNS = [("train-1gpu.log", "train-1gpu.trainer_log.jsonl"),
             ("train-2nodes-rank0.log", "train-2nodes.trainer_log.jsonl")]
_LOGGED = re.compile(r"\{'loss'[^}]*\}")


def _logged_steps(jsonl: str) -> list[dict[str, Any]]:
    return [entry for entry in map(json.loads, jsonl.splitlines()) if "loss" in entry]


def _sig4(value: float) -> float:
    """VALUE as transformers 5 prints it in its log dicts: 4 significant digits."""
    return float(f"{value:.4g}")


@pytest.mark.parametrize(("log", "trainer_log"), REAL_RUNS)
def test_a_real_runs_log_gives_each_step_as_its_trainer_log_recorded_it(
        log: str, trainer_log: str) -> None:
    text = (REAL / log).read_text(encoding="utf-8")
    steps = _logged_steps((REAL / trainer_log).read_text(encoding="utf-8"))
    # The log up to each logged dict reads as that step's loss, rate and epoch.
    cuts = [found.end() for found in _LOGGED.finditer(text)]
    assert len(cuts) == len(steps) == 20
    for cut, step in zip(cuts, steps, strict=True):
        progress = progress_from_log(text[:cut])
        assert (progress.loss, progress.learning_rate, progress.epoch) == (
            _sig4(step["loss"]), _sig4(step["lr"]), _sig4(step["epoch"])), step
    done = progress_from_log(text)
    last = steps[-1]
    assert (done.step, done.total_steps) == (last["current_steps"], last["total_steps"])
    assert done.loss == _sig4(last["loss"])
    # The trainer's train_loss is the mean of the losses it logged (one per step here).
    mean = sum(step["loss"] for step in steps) / len(steps)
    assert float(done.metrics["train_loss"]) == pytest.approx(mean, abs=5e-5)


@pytest.mark.parametrize(("log", "trainer_log"), REAL_RUNS)
def test_a_real_runs_trainer_log_reads_as_written(log: str, trainer_log: str) -> None:
    text = (REAL / trainer_log).read_text(encoding="utf-8")
    entries = [json.loads(line) for line in text.splitlines()]
    last = _logged_steps(text)[-1]
    progress = progress_from_trainer_log(text)
    # The closing entry has no loss: the last logged step's stays.
    assert (progress.step, progress.total_steps, progress.loss, progress.learning_rate,
            progress.epoch, progress.remaining) == (
        entries[-1]["current_steps"], entries[-1]["total_steps"], last["loss"], last["lr"],
        entries[-1]["epoch"], entries[-1]["remaining_time"])
    halfway = progress_from_trainer_log("\n".join(text.splitlines()[:10]))
    assert (halfway.step, halfway.loss) == (entries[9]["current_steps"], entries[9]["loss"])


def test_progress_command_on_a_real_runs_files() -> None:
    from typer.testing import CliRunner

    from lmfchart.cli import app

    log, trainer_log = REAL_RUNS[0]
    last = _logged_steps((REAL / trainer_log).read_text(encoding="utf-8"))[-1]
    shown = CliRunner().invoke(app, ["progress", "--log", str(REAL / log), "-o", "json"])
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout)
    assert (found["step"], found["total_steps"], found["loss"]) == (
        last["current_steps"], last["total_steps"], _sig4(last["loss"]))
    text = CliRunner().invoke(app, ["progress", "--trainer-log", str(REAL / trainer_log)])
    assert text.exit_code == 0, text.output
    assert (f"step {last['current_steps']}/{last['total_steps']} (100%), loss {last['loss']:g}, "
            f"lr {last['lr']:g}") in text.stdout
