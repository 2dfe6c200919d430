"""Runs inside the LLaMA-Factory venv that tests/support/llamafactory.py builds.

    python -P lfparse.py parse ANSWER.json REQUEST.json  # [{kind, config|yaml}] -> [{ok, error}]
    python -P lfparse.py facts ANSWER.json               # keys, stages, templates, backends

Each config is written to a YAML file and read the way `llamafactory-cli train|export|api
FILE` reads it (`read_args`: OmegaConf, with command-line overrides after the file), then
goes through the functions the CLI calls. Nothing here re-implements a check.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import sys
import tempfile
import types
import typing
from pathlib import Path
from typing import Any

import yaml


class ModelLoadingReachedError(Exception):
    """export_model got past its argument checks and would now open the model."""


def _plain_kind(hint: Any) -> str:
    origin = typing.get_origin(hint) or hint
    if hint in (bool, int, float, str):
        return hint.__name__
    if origin in (list, tuple, set):
        return "list"
    if origin is dict:
        return "dict"
    return "any"


def _entry(hint: Any, metadata: Any) -> dict[str, Any]:
    """A key's catalogue entry worked out from the live type, for comparison with the one
    the generator reads from the source."""
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    members = typing.get_args(hint) if is_union else (hint,)
    optional, kinds, literal, enum_values, plain = False, set(), [], [], set()
    for member in members:
        if member is type(None):
            optional = True
        elif typing.get_origin(member) is typing.Literal:
            for value in typing.get_args(member):
                if value is None:
                    optional = True
                else:
                    literal.append(value)
                    kinds.add(type(value).__name__)
        elif isinstance(member, type) and issubclass(member, enum.Enum):
            enum_values += [m.value for m in member]
            kinds |= {type(m.value).__name__ for m in member}
        else:
            plain.add(_plain_kind(member))
    kinds |= plain
    if not plain:
        choices = literal + enum_values or None
    elif plain == {"str"} and enum_values and not literal:  # transformers: str -> the enum
        choices = enum_values
    else:
        choices = None
    listed = metadata.get("choices")
    if choices is None and isinstance(listed, list | tuple):
        choices = list(listed)
    entry: dict[str, Any] = {"optional": optional}
    if len(kinds) == 1 and "any" not in kinds:
        entry["type"] = kinds.pop()
    else:
        entry["type"] = "any"
        if kinds and "any" not in kinds:
            entry["accepts"] = sorted(kinds)
    if choices is not None:
        entry["choices"] = choices
    return entry


def _entries(classes: list[type]) -> dict[str, dict[str, Any]]:
    """Every key the parser takes (parse_dict's rule: an init field of one of the classes)
    with its catalogue entry."""
    from transformers import HfArgumentParser

    entries: dict[str, dict[str, Any]] = {}
    for cls in HfArgumentParser(classes).dataclass_types:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.init:
                entries.setdefault(f.name, _entry(hints[f.name], f.metadata))
    return entries


def _literal_choices(cls: type, name: str) -> list[Any]:
    return list(typing.get_args(typing.get_type_hints(cls)[name]))


def facts() -> dict[str, Any]:
    from llamafactory.data.template import TEMPLATES
    from llamafactory.hparams import parser
    from llamafactory.hparams.finetuning_args import FinetuningArguments
    from llamafactory.hparams.model_args import ModelArguments

    backend = typing.get_type_hints(ModelArguments)["infer_backend"]
    train_entries = _entries(parser._TRAIN_ARGS)
    infer_entries = _entries(parser._INFER_ARGS)
    return {
        "train_keys": sorted(train_entries),
        "infer_keys": sorted(infer_entries),
        "train_entries": train_entries,
        "infer_entries": infer_entries,
        "stages": _literal_choices(FinetuningArguments, "stage"),
        "finetuning_types": _literal_choices(FinetuningArguments, "finetuning_type"),
        "infer_backends": [member.value for member in backend],
        "templates": sorted(TEMPLATES),
    }


def _reset_distributed_state() -> None:
    # TrainingArguments sets up accelerate's process-wide state; each config starts afresh,
    # as each `llamafactory-cli` run does.
    from accelerate.state import AcceleratorState, PartialState

    AcceleratorState._reset_state(reset_partial_state=True)
    PartialState._reset_state()


def _run_one(kind: str, config_file: Path) -> None:
    from llamafactory.hparams import get_infer_args, get_train_args
    from llamafactory.train import tuner

    if kind == "train":
        # The test machine has no GPU, where `bf16: true` is refused: parse as on a CPU.
        sys.argv = ["llamafactory-cli", str(config_file), "use_cpu=true"]
        get_train_args()
    elif kind == "export":
        sys.argv = ["llamafactory-cli", str(config_file)]
        with contextlib.suppress(ModelLoadingReachedError):
            tuner.export_model()
    elif kind == "api":
        sys.argv = ["llamafactory-cli", str(config_file)]
        get_infer_args()
    else:
        raise ValueError(f"unknown config kind {kind!r}")


def parse(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from llamafactory.train import tuner

    def stop(*_args: object, **_kwargs: object) -> None:
        raise ModelLoadingReachedError

    # export_model loads the tokenizer right after its argument checks: stop there.
    tuner.load_tokenizer = stop
    answers = []
    with tempfile.TemporaryDirectory() as scratch:
        for number, request in enumerate(requests):
            config_file = Path(scratch) / f"config-{number}.yaml"
            text = request.get("yaml")
            if text is None:
                text = yaml.safe_dump(request["config"], sort_keys=False, allow_unicode=True)
            config_file.write_text(text, encoding="utf-8")
            _reset_distributed_state()
            try:
                _run_one(request["kind"], config_file)
            except (Exception, SystemExit) as e:
                answers.append({"ok": False, "error": f"{type(e).__name__}: {e}"})
            else:
                answers.append({"ok": True, "error": ""})
    return answers


def main(argv: list[str]) -> int:
    action, answer_file = argv[0], Path(argv[1])
    if action == "facts":
        result: Any = facts()
    elif action == "parse":
        result = parse(json.loads(Path(argv[2]).read_text(encoding="utf-8")))
    else:
        raise SystemExit(f"unknown action {action!r}")
    answer_file.write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
