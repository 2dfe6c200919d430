"""From values files and --set flags to checked Values, with every error located."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pydantic

from lmfchart.base.errors import InputError, Issue
from lmfchart.base.keypath import KeyPath, format_path
from lmfchart.inputs.options import ValueOptions
from lmfchart.inputs.seed import split_image, translate_layer
from lmfchart.inputs.setvalues import apply_set
from lmfchart.model import formats
from lmfchart.model.crosschecks import cross_check
from lmfchart.model.values import Values, default_values
from lmfchart.yamlio.reading import ValuesDocument, parse_values, read_values_file


@dataclass(frozen=True)
class Origin:
    source: str
    line: int | None


@dataclass
class LoadedValues:
    """Checked values plus what the user gave, for messages and the chart's values.yaml."""

    values: Values
    notes: list[str] = field(default_factory=list)

    @property
    def effective(self) -> dict[str, Any]:
        return self.values.model_dump(mode="json")


@dataclass
class _Layers:
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, Origin] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, loaded: ValuesDocument) -> None:
        translated = translate_layer(loaded.data, loaded.lines, loaded.source)
        self.notes += translated.notes
        _merge_into(self.data, translated.data, (), self.origins)
        for path, line in translated.lines.items():
            self.origins[path] = Origin(loaded.source, line)

    def origin(self, path: KeyPath) -> Origin | None:
        for end in range(len(path), 0, -1):
            found = self.origins.get(path[:end])
            if found:
                return found
        return None


def _merge_into(
    base: dict[str, Any], overlay: dict[str, Any], path: KeyPath, origins: dict[KeyPath, Origin]
) -> None:
    """Helm's -f merge: maps merge deeply, anything else replaces (null included)."""
    for key, value in overlay.items():
        here = (*path, key)
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value, here, origins)
            continue
        for stale in [p for p in origins if p[: len(here)] == here and p != here]:
            del origins[stale]
        base[key] = copy.deepcopy(value)


def _drop_nulls(data: dict[str, Any]) -> None:
    """Helm's coalescing: a null removes the key, so the default applies."""
    for key in [k for k, v in data.items() if v is None]:
        del data[key]
    for value in data.values():
        if isinstance(value, dict):
            _drop_nulls(value)


# Integers above 2**53 do not survive Helm's float64 values.
MAX_EXACT_INT = 2**53


def _unsafe_text(data: Any, path: KeyPath) -> list[tuple[KeyPath, str]]:
    found: list[tuple[KeyPath, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            problem = formats.yaml_unsafe_character(key)
            if problem:
                found.append(((*path, key), f"key {problem}"))
            found += _unsafe_text(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += _unsafe_text(item, (*path, index))
    elif isinstance(data, str):
        problem = formats.yaml_unsafe_character(data)
        if problem:
            found.append((path, problem))
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_EXACT_INT:
        found.append((path, f"{data} is too large: Helm holds numbers as 64-bit floats and "
                      "would change it; quote it if it is text"))
    return found


def _pydantic_message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (misspelt?)"
    if kind == "missing":
        return "required key is missing"
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def _real_path(data: Any, loc: KeyPath) -> tuple[KeyPath, KeyPath]:
    """Split a pydantic location into the part that exists in the values and the rest.

    The rest is pydantic's own bookkeeping: "[key]" for a bad mapping key, or the name of
    the union member tried ("str", "int", "float"), which is no key of the user's.
    """
    for depth, part in enumerate(loc):
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return loc[:depth], loc[depth:]
        data = data[part]
    return loc, ()


def _pydantic_issues(error: pydantic.ValidationError, data: Any) -> list[tuple[KeyPath, str]]:
    issues: dict[KeyPath, list[str]] = {}
    for err in error.errors():
        loc = tuple(err["loc"])
        path, rest = (loc, ()) if err["type"] == "missing" else _real_path(data, loc)
        message = _pydantic_message(err)
        if rest == ("[key]",):
            message = f"bad key: {message}"
        issues.setdefault(path, [])
        if message not in issues[path]:
            issues[path].append(message)
    out = []
    prefix = "Input should be "
    for path, messages in issues.items():
        if len(messages) > 1 and all(m.startswith(prefix) for m in messages):
            # One value failing every member of a union: say so once.
            out.append((path, prefix + " or ".join(m.removeprefix(prefix) for m in messages)))
        else:
            out += [(path, message) for message in messages]
    return out


def _located(layers: _Layers, path: KeyPath, message: str) -> Issue:
    origin = layers.origin(path)
    return Issue(
        message,
        file=origin.source if origin else None,
        line=origin.line if origin else None,
        key_path=format_path(path),
    )


def load_values(options: ValueOptions) -> LoadedValues:
    """Merge values files (later wins) and --set flags like Helm, then check everything."""
    documents, files = options.documents, options.files
    sets, set_strings = options.sets, options.set_strings
    layers = _Layers()
    for source, text in documents:
        layers.add(parse_values(text, source=source))
    for path in files:
        layers.add(read_values_file(path))
    if sets or set_strings:
        before = copy.deepcopy(layers.data)
        # Like Helm, --set edits the merged user values in place, then --set-string.
        for expression in sets:
            apply_set(layers.data, expression)
        for expression in set_strings:
            apply_set(layers.data, expression, as_string=True)
        if isinstance(layers.data.get("image"), str):
            layers.data["image"] = split_image(layers.data["image"])
        _blame_set(layers, before, layers.data, ())
    # Helm coalesces user values onto the chart's defaults; nulls remove a default.
    data = default_values()
    _merge_into(data, layers.data, (), {})
    _drop_nulls(data)
    problems = _unsafe_text(data, ())
    if problems:
        raise InputError([_located(layers, p, m) for p, m in problems])
    try:
        values = Values.model_validate(data)
    except pydantic.ValidationError as e:
        raise InputError(
            [_located(layers, path, message) for path, message in _pydantic_issues(e, data)]
        ) from e
    crossed = cross_check(values)
    if crossed:
        raise InputError([_located(layers, p, m) for p, m in crossed])
    return LoadedValues(values, layers.notes)


def _blame_set(layers: _Layers, before: Any, after: Any, path: KeyPath) -> None:
    """Paths whose value --set changed are blamed on --set; the rest keep their file."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key, value in after.items():
            _blame_set(layers, before.get(key), value, (*path, key))
        return
    if before != after:
        for stale in [p for p in layers.origins if p[: len(path)] == path]:
            del layers.origins[stale]
        layers.origins[path] = Origin("--set", None)
