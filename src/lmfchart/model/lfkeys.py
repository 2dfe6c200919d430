"""What the pinned LLaMA-Factory accepts, in the terms the values model asks for.

A thin view over the generated catalogue (`model/llamafactory/`): the choices the typed
keys offer, the check of `extra` keys, and the same rules as JSON Schema for Helm users.
"""

from __future__ import annotations

from typing import Any

from lmfchart.model.llamafactory.catalogue import KeySpec, Kind, catalogue, check_key

LLAMAFACTORY_VERSION = catalogue().llamafactory_version
# JSON Schema's name for each value type of the catalogue.
_SCHEMA_TYPES = {"bool": "boolean", "int": "integer", "float": "number", "str": "string",
                 "list": "array", "dict": "object"}


def _kind(workload: str) -> Kind:
    """`export` and `api` read their config with LLaMA-Factory's inference arguments."""
    return "train" if workload == "train" else "infer"


def stages() -> tuple[str, ...]:
    return catalogue().stages


def templates() -> tuple[str, ...]:
    return catalogue().templates


def infer_backends() -> tuple[str, ...]:
    return catalogue().infer_backends


def key_problem(workload: str, key: str, value: object) -> str | None:
    problem = check_key(_kind(workload), key, value)
    return None if problem is None else f"{key}: {problem}"


def _value_schema(spec: KeySpec) -> dict[str, Any]:
    kinds = spec.accepts or (() if spec.type == "any" else (spec.type,))
    types = sorted({_SCHEMA_TYPES[k] for k in kinds if k in _SCHEMA_TYPES}
                   | ({"integer"} if "float" in kinds else set())
                   | ({"null"} if spec.optional else set()))
    schema: dict[str, Any] = {"type": types} if types else {}
    if spec.choices is not None and all(isinstance(c, str) for c in spec.choices):
        schema["enum"] = [*spec.choices, *([None] if spec.optional else [])]
    return schema


def extra_schema(workload: str, typed: tuple[str, ...]) -> dict[str, Any]:
    """JSON Schema of `extra`: the keys the pinned version accepts that the chart does not
    write itself, each with its type."""
    cat = catalogue()
    allowed = {key: spec for key, spec in cat.keys(_kind(workload)).items()
               if key not in typed and key not in cat.deprecated_keys}
    return {
        "propertyNames": {"enum": sorted(allowed)},
        "properties": {key: _value_schema(spec) for key, spec in sorted(allowed.items())},
    }
