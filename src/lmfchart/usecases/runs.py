"""A training run or an export given on the command line (`lmfchart train`, `export`): its
name, the values its flags set, and the objects the chart makes for it.

A run is an entry of the values' `train` (or `export`) map, so launching one is an upgrade
of the release with that entry added: each flag becomes a value layer blamed on the flag,
so a bad `--epochs` is reported as `--epochs`, not as a file the user never wrote.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lmfchart.base.errors import UsageError
from lmfchart.inputs.options import ValueLayer
from lmfchart.model import formats
from lmfchart.model.sections.workloads import MAX_RUN_NAME
from lmfchart.release.manifest import manifest_objects
from lmfchart.release.record import ReleaseRecord
from lmfchart.usecases.liveruns import COMPONENT_LABEL, RUN_LABEL

Kind = Literal["train", "export"]

# Each command's flags and the run's values key each one sets.
RUN_FLAGS: dict[Kind, dict[str, str]] = {
    "train": {
        "--model": "model", "--method": "method", "--stage": "stage", "--dataset": "datasets",
        "--template": "template", "--epochs": "epochs", "--max-steps": "maxSteps",
        "--learning-rate": "learningRate", "--batch-size": "batchSize", "--gpus": "gpus",
        "--nodes": "nodes", "--engine": "engine",
    },
    "export": {
        "--model": "model", "--adapter": "adapter", "--export-dir": "exportDir",
        "--template": "template", "--shard-size": "shardSize", "--device": "device",
    },
}
# The kinds that run a run's pods (the rest is its ConfigMap and Service).
RUNNER_KINDS = ("Job", "PyTorchJob")


@dataclass(frozen=True)
class RunRequest:
    """What the user asked for: the kind, the name (None: made from the flags), and the
    flags given, by flag name (`--epochs`), in the order the command declares them."""

    kind: Kind
    name: str | None
    flags: Mapping[str, Any]

    def __post_init__(self) -> None:
        unknown = set(self.flags) - set(RUN_FLAGS[self.kind])
        if unknown:
            raise ValueError(f"not {self.kind} flags: {sorted(unknown)}")


@dataclass(frozen=True)
class NamedRun:
    kind: Kind
    name: str
    chosen: bool
    """True when the name was made from the flags (the user gave none)."""
    flags: Mapping[str, Any]

    def __str__(self) -> str:
        return f"{self.kind} run {self.name}" if self.kind == "train" else f"export {self.name}"


def named(request: RunRequest) -> NamedRun:
    """The run's name: the one given (checked), or one made from the flags."""
    if request.name is None:
        return NamedRun(request.kind, _made_name(request), True, request.flags)
    problem = formats.run_name(request.name)
    if problem:
        raise UsageError(f"{request.kind} name {request.name!r}: {problem}")
    return NamedRun(request.kind, request.name, False, request.flags)


def _made_name(request: RunRequest) -> str:
    flags = request.flags
    if request.kind == "train":
        return _label(_last_part(str(flags.get("--model", ""))), str(flags.get("--method", "")),
                      fallback="train")
    source = flags.get("--export-dir") or flags.get("--adapter") or flags.get("--model") or ""
    return _label(_last_part(str(source)), "", fallback="export")


def _last_part(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _label(base: str, suffix: str, *, fallback: str) -> str:
    """BASE-SUFFIX as a DNS label of at most MAX_RUN_NAME characters (Qwen3-0.6B, lora ->
    qwen3-0-6b-lora); the suffix is kept whole, the base cut to make room."""
    def clean(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")

    tail = clean(suffix)[:MAX_RUN_NAME // 2]
    room = MAX_RUN_NAME - (len(tail) + 1 if tail else 0)
    head = clean(base)[:room].rstrip("-") or fallback[:room]
    return f"{head}-{tail}" if tail else head


def flag_layers(run: NamedRun) -> tuple[ValueLayer, ...]:
    """One value layer per flag given, setting that key of the run."""
    keys = RUN_FLAGS[run.kind]
    layers = []
    for flag, value in run.flags.items():
        given = _datasets(value) if flag == "--dataset" else value
        layers.append(ValueLayer(flag, {run.kind: {run.name: {keys[flag]: given}}}))
    return tuple(layers)


def _datasets(given: Iterable[str]) -> list[str]:
    """`--dataset a --dataset b,c`: a, b, c (an empty part stays, for the model to refuse)."""
    return [part.strip() for text in given for part in text.split(",")]


def reused_layer(record: ReleaseRecord, run: NamedRun | None = None) -> ValueLayer:
    """The release's values, as `helm upgrade --reuse-values` keeps them, without RUN's own
    entry when given: the command's flags, files and `--set`s say all of the run, so nothing
    of an earlier launch of the same name lingers in it."""
    config = copy.deepcopy(record.config)
    if run is not None and isinstance(config.get(run.kind), dict):
        config[run.kind].pop(run.name, None)
    return ValueLayer(f"values of release {record.name} revision {record.version}", config)


def values_record(history: list[ReleaseRecord]) -> ReleaseRecord | None:
    """The revision whose values an upgrade reuses, as helm picks it: the last deployed
    one, else the last one."""
    deployed = [record for record in history if record.status == "deployed"]
    return deployed[-1] if deployed else (history[-1] if history else None)


def run_objects(objects: Iterable[dict[str, Any]], run: NamedRun) -> list[dict[str, Any]]:
    """The objects the chart makes for RUN (its ConfigMap, Service, Job or PyTorchJob)."""
    mine = []
    for obj in objects:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if labels.get(COMPONENT_LABEL) == run.kind and labels.get(RUN_LABEL) == run.name:
            mine.append(obj)
    return mine


def runner(objects: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The Job or PyTorchJob among a run's objects."""
    return next((obj for obj in objects if obj.get("kind") in RUNNER_KINDS), None)


def recorded_runner(record: ReleaseRecord | None, run: NamedRun) -> dict[str, Any] | None:
    """RUN's Job (or PyTorchJob) in a revision's manifest: the one the cluster holds."""
    if record is None:
        return None
    return runner(run_objects(manifest_objects(record.manifest), run))


def label(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"
