"""`lmfchart schema` states, for every key, the default a release really gets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.model.expr import map_entry_model
from lmfchart.model.values import default_values

Path = tuple[str, ...]


def _defaults(node: Any, path: Path | None) -> Iterator[tuple[Path | None, Any]]:
    """(values key path, default) for every `default` anywhere in the schema.

    Only `properties` lead to a values key; a default found below `items`, `anyOf` or
    `additionalProperties` has none (path None), which the test refuses.
    """
    if isinstance(node, list):
        for item in node:
            yield from _defaults(item, None)
        return
    if not isinstance(node, dict):
        return
    if "default" in node:
        yield path, node["default"]
    for word, child in node.items():
        if word == "properties" and path is not None:
            for key, sub in child.items():
                yield from _defaults(sub, (*path, key))
        elif word == "patternProperties" and path is not None:
            # Entries of a map (train.NAME): the defaults a new entry gets, under key "*".
            for sub in child.values():
                yield from _defaults(sub, (*path, "*"))
        elif word != "default":
            yield from _defaults(child, None)


def _leaf_keys(node: dict[str, Any], path: Path) -> Iterator[Path]:
    for key, child in node["properties"].items():
        # A free map with checked key names (`extra`) is one value, whatever keys it lists.
        if "properties" in child and "propertyNames" not in child:
            yield from _leaf_keys(child, (*path, key))
        else:
            yield (*path, key)


def _effective(path: Path) -> Any:
    value: Any = default_values()
    for i, key in enumerate(path):
        if key == "*":
            return _entry_default(path[:i], path[i + 1:])
        value = value[key]
    return value


def _entry_default(map_path: Path, key_path: Path) -> Any:
    """What a new entry of the map at `map_path` gets for `key_path`, per the model."""
    model = map_entry_model(".".join(map_path))
    node: Any = model.model_construct().model_dump(mode="json")
    for key in key_path:
        node = node[key]
    return node


def _schema() -> dict[str, Any]:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0, result.output
    schema: dict[str, Any] = json.loads(result.stdout)
    return schema


def test_every_schema_default_is_the_effective_default() -> None:
    found = list(_defaults(_schema(), ()))
    assert found, "the schema states no defaults at all"
    wrong = {".".join(path or ("<no values key>",)): (default, path and _effective(path))
             for path, default in found if path is None or default != _effective(path)}
    assert wrong == {}, "schema default vs effective default"


def test_every_key_states_its_default() -> None:
    schema = _schema()
    stated = {path for path, _ in _defaults(schema, ())}
    missing = [".".join(p) for p in _leaf_keys(schema, ()) if p not in stated]
    assert missing == []
