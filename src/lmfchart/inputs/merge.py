"""Helm's two ways of combining values: merging user layers and coalescing onto defaults.

Merging (`-f` after `-f`, `--set-json '{...}'`): maps merge deeply, anything else replaces,
a null included. Coalescing (user values onto the chart's values.yaml): a user null deletes
the key only where the chart has a default for it; a null with no default stays.
"""

from __future__ import annotations

import copy
from typing import Any

from lmfchart.base.keypath import KeyPath


def merge_maps(base: dict[str, Any], overlay: dict[str, Any]) -> None:
    """Merge `overlay` into `base` in place, as Helm merges one values file onto the next."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_maps(base[key], value)
        else:
            base[key] = copy.deepcopy(value)


def coalesce(
    defaults: dict[str, Any], user: dict[str, Any]
) -> tuple[dict[str, Any], list[KeyPath]]:
    """User values over the chart defaults; also returns the keys a user null deleted."""
    removed: list[KeyPath] = []
    merged = copy.deepcopy(user)
    _coalesce_into(merged, defaults, (), removed)
    return merged, removed


def _coalesce_into(
    user: dict[str, Any], defaults: dict[str, Any], path: KeyPath, removed: list[KeyPath]
) -> None:
    for key, default in defaults.items():
        if key not in user:
            user[key] = copy.deepcopy(default)
            continue
        value = user[key]
        if value is None:
            del user[key]
            removed.append((*path, key))
        elif isinstance(value, dict) and isinstance(default, dict):
            _coalesce_into(value, default, (*path, key), removed)
        # Otherwise the user's value wins as it is (Helm only warns about a table replaced).
