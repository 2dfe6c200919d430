"""Problems in the merged values, as located Issues naming the key the user wrote.

Three sources: text Helm or YAML would change, keys a null removed that the chart's
schema requires, and pydantic's errors (translated into the user's words).
"""

from __future__ import annotations

from typing import Any

import pydantic

from lmfchart.base.errors import Issue
from lmfchart.base.keypath import KeyPath
from lmfchart.inputs.origins import Origins
from lmfchart.model import formats
from lmfchart.model.schema import values_schema

# Integers above 2**53 do not survive Helm's float64 values.
MAX_EXACT_INT = 2**53


def unsafe_text(data: Any, path: KeyPath = ()) -> list[tuple[KeyPath, str]]:
    found: list[tuple[KeyPath, str]] = []
    if isinstance(data, dict):
        for key, value in data.items():
            problem = formats.yaml_unsafe_character(key)
            if problem:
                found.append(((*path, key), f"key {problem}"))
            found += unsafe_text(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found += unsafe_text(item, (*path, index))
    elif isinstance(data, str):
        problem = formats.yaml_unsafe_character(data)
        if problem:
            found.append((path, problem))
    elif isinstance(data, int) and not isinstance(data, bool) and abs(data) > MAX_EXACT_INT:
        found.append((path, f"{data} is too large: Helm holds numbers as 64-bit floats and "
                      "would change it; quote it if it is text"))
    return found


def removed_required(removed: list[KeyPath]) -> list[tuple[KeyPath, str]]:
    """Keys a null deleted from the defaults that the chart's schema requires."""
    found = []
    for path in removed:
        parent: Any = values_schema()
        for part in path[:-1]:
            parent = parent.get("properties", {}).get(part, {})
        if path[-1] in parent.get("required", ()):
            found.append((path, "required key removed by a null: Helm deletes a default "
                          "that a null overrides, and the chart needs this key; remove the "
                          "null to keep the default, or give a value"))
    return found


def _pydantic_message(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key (misspelt?)"
    if kind == "missing":
        return "required key is missing"
    message: str = error["msg"]
    return message.removeprefix("Value error, ")


def _real_path(data: Any, loc: KeyPath) -> tuple[KeyPath, KeyPath, Any]:
    """Split a pydantic location into the part that exists in the values and the rest.

    The rest is pydantic's own bookkeeping: "[key]" for a bad mapping key, or the name of
    the union member tried ("str", "int", "float"), which is no key of the user's. Also
    returns the value found at the real path.
    """
    for depth, part in enumerate(loc):
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (in_list or (isinstance(data, dict) and part in data)):
            return loc[:depth], loc[depth:], data
        data = data[part]
    return loc, (), data


def pydantic_issues(error: pydantic.ValidationError, data: Any) -> list[tuple[KeyPath, str]]:
    issues: dict[KeyPath, list[str]] = {}
    nulls: set[KeyPath] = set()
    for err in error.errors():
        loc: KeyPath = tuple(err["loc"])
        path: KeyPath
        rest: KeyPath
        if err["type"] == "missing":
            path, rest, value = loc, (), ...
        else:
            path, rest, value = _real_path(data, loc)
        message = _pydantic_message(err)
        if rest == ("[key]",):
            message = f"bad key: {message}"
        elif value is None:
            nulls.add(path)
        issues.setdefault(path, [])
        if message not in issues[path]:
            issues[path].append(message)
    out = []
    prefix = "Input should be "
    for path, found in issues.items():
        messages = found
        if len(found) > 1 and all(m.startswith(prefix) for m in found):
            # One value failing every member of a union: say so once.
            messages = [prefix + " or ".join(m.removeprefix(prefix) for m in found)]
        if path in nulls:
            # Helm keeps a null that overrides no default; the chart cannot use it.
            messages = [f"null is not allowed here (a null only removes a chart default, "
                        f"and this key has none): {m}" for m in messages]
        out += [(path, message) for message in messages]
    return out


def located(origins: Origins, problems: list[tuple[KeyPath, str]]) -> list[Issue]:
    return [origins.issue(path, message) for path, message in problems]
