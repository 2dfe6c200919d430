"""The keys, value types, stages and templates of the LLaMA-Factory lmfchart targets.

`catalogue.json` beside this module is generated from the pinned package's source by
`scripts/llamafactory_catalogue.py` and tested against LLaMA-Factory's own parser
(tests/test_llamafactory_catalogue.py). LLaMA-Factory checks key names but not values:
`check_key` also refuses what it would accept and fail on later (a wrong type, an unknown
stage or template) and keys transformers 5 removed or deprecated.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from lmfchart.model.formats import did_you_mean

Kind = Literal["train", "infer"]

# How a problem names what a key expects and what it got.
_EXPECTED = {
    "bool": "true or false",
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "list": "a list",
    "dict": "a map",
}
_GOT = {**_EXPECTED, "bool": "a boolean"}


@dataclass(frozen=True)
class KeySpec:
    """What one key accepts. `type` is bool, int, float, str, list, dict or any; an `any`
    from a union of several types lists them in `accepts`."""

    type: str
    optional: bool
    accepts: tuple[str, ...] = ()
    choices: tuple[object, ...] | None = None


@dataclass(frozen=True)
class Catalogue:
    llamafactory_version: str
    transformers_version: str
    stages: tuple[str, ...]
    finetuning_types: tuple[str, ...]
    infer_backends: tuple[str, ...]
    templates: tuple[str, ...]
    train_keys: Mapping[str, KeySpec]
    infer_keys: Mapping[str, KeySpec]
    removed_keys: Mapping[str, str]  # key -> what to do instead (no longer a key)
    deprecated_keys: Mapping[str, str]  # key -> what to do instead (still accepted, for now)

    def keys(self, kind: Kind) -> Mapping[str, KeySpec]:
        """`train` keys for `llamafactory-cli train`; `infer` for `export` and `api`."""
        return self.train_keys if kind == "train" else self.infer_keys


def _spec(raw: Mapping[str, Any]) -> KeySpec:
    choices = raw.get("choices")
    return KeySpec(
        type=raw["type"],
        optional=raw["optional"],
        accepts=tuple(raw.get("accepts", ())),
        choices=None if choices is None else tuple(choices),
    )


def _specs(raw: Mapping[str, Mapping[str, Any]]) -> Mapping[str, KeySpec]:
    return MappingProxyType({key: _spec(value) for key, value in raw.items()})


@cache
def catalogue() -> Catalogue:
    """The shipped catalogue, read once."""
    text = resources.files(__package__).joinpath("catalogue.json").read_text(encoding="utf-8")
    raw = json.loads(text)
    return Catalogue(
        llamafactory_version=raw["llamafactory_version"],
        transformers_version=raw["transformers_version"],
        stages=tuple(raw["stages"]),
        finetuning_types=tuple(raw["finetuning_types"]),
        infer_backends=tuple(raw["infer_backends"]),
        templates=tuple(raw["templates"]),
        train_keys=_specs(raw["train_keys"]),
        infer_keys=_specs(raw["infer_keys"]),
        removed_keys=MappingProxyType(dict(raw["removed_keys"])),
        deprecated_keys=MappingProxyType(dict(raw["deprecated_keys"])),
    )


def _value_kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, Mapping):
        return "dict"
    return "any"


def _got(value: object) -> str:
    return _GOT.get(_value_kind(value), type(value).__name__)


def _fits(kind: str, value: object) -> bool:
    got = _value_kind(value)
    return kind in ("any", got) or (kind == "float" and got == "int")


def _one_of(values: tuple[object, ...]) -> str:
    return ", ".join(str(v) for v in values)


def check_key(kind: Kind, key: str, value: object) -> str | None:
    """The problem with `key: value` in a LLaMA-Factory config of this kind, or None."""
    cat = catalogue()
    if kind == "train" and key in cat.removed_keys:
        return cat.removed_keys[key]
    if kind == "train" and key in cat.deprecated_keys:
        return cat.deprecated_keys[key]
    specs = cat.keys(kind)
    spec = specs.get(key)
    if spec is None:
        return f"unknown LLaMA-Factory {kind} key {key!r}{did_you_mean(key, specs)}"
    if value is None:
        return None if spec.optional else f"expected {_expected(spec)}, got null"
    if spec.accepts and not any(_fits(k, value) for k in spec.accepts):
        return f"expected {_expected(spec)}, got {_got(value)}"
    if not _fits(spec.type, value):
        return f"expected {_expected(spec)}, got {_got(value)}"
    if key == "template" and value not in cat.templates:
        return (f"unknown template {value!r} for LLaMA-Factory {cat.llamafactory_version}"
                f"{did_you_mean(str(value), cat.templates)}")
    if spec.choices is not None and value not in spec.choices:
        return (f"{key} {value!r} is not known to LLaMA-Factory {cat.llamafactory_version}: "
                f"expected one of {_one_of(spec.choices)}")
    return None


def _expected(spec: KeySpec) -> str:
    kinds = spec.accepts or (spec.type,)
    return " or ".join(_EXPECTED.get(k, "a value") for k in kinds)
