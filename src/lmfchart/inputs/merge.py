"""Helm's two ways of combining values: merging user layers and coalescing onto defaults.

Merging (`-f` after `-f`, `--set-json '{...}'`): maps merge deeply, anything else replaces,
a null included. Coalescing (user values onto the chart's values.yaml): a user null deletes
the key only where the chart has a default for it; a null with no default stays.
"""

from __future__ import annotations

from typing import Any

from lmfchart.base.keypath import KeyPath


def copy_tree(data: Any) -> Any:
    """A deep copy of values data (maps, lists, scalars): what copy.deepcopy makes, in a
    fraction of its time (no memo, no reductions), as every values file needs a few."""
    if isinstance(data, dict):
        return {key: copy_tree(value) for key, value in data.items()}
    if isinstance(data, list):
        return [copy_tree(item) for item in data]
    return data


def merge_maps(base: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Merge `overlay` into `base` in place, as Helm merges one values file onto the next."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_maps(base[key], value)
        else:
            base[key] = copy_tree(value)


def coalesce(
    defaults: dict[str, Any], user: dict[str, Any]
) -> tuple[dict[str, Any], list[KeyPath]]:
    """User values over the chart defaults; also returns the keys a user null deleted."""
    removed: list[KeyPath] = []
    merged = copy_tree(user)
    _coalesce_into(merged, defaults, (), removed)
    return merged, removed


def _coalesce_into(
    user: dict[str, Any], defaults: dict[str, Any], path: KeyPath, removed: list[KeyPath]
) -> None:
    for key, default in defaults.items():
        if key not in user:
            user[key] = copy_tree(default)
            continue
        value = user[key]
        if value is None:
            del user[key]
            removed.append((*path, key))
        elif isinstance(value, dict) and isinstance(default, dict):
            _coalesce_into(value, default, (*path, key), removed)
        # Otherwise the user's value wins as it is (Helm only warns about a table replaced).
