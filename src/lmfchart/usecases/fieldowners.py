"""Which field managers own which fields of an object, read from its managedFields, and the
fields an apply as `helm` would take from another manager (a conflict)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lmfchart.usecases.liveobjects import FIELD_MANAGER


@dataclass(frozen=True)
class FieldConflict:
    manager: str
    path: str  # like .spec.template.spec.containers[name=web].image

    def describe(self) -> str:
        return f"{self.path} is set by field manager {self.manager}"


def owned_paths(obj: dict[str, Any]) -> dict[str, set[str]]:
    """Field manager -> the paths of the fields it owns (status subresource entries left out:
    an apply never touches them)."""
    owners: dict[str, set[str]] = {}
    for entry in (obj.get("metadata") or {}).get("managedFields") or []:
        if entry.get("subresource"):
            continue
        paths = owners.setdefault(entry.get("manager") or "(unnamed)", set())
        paths |= _leaf_paths(entry.get("fieldsV1") or {}, "")
    return owners


def taken_fields(live: dict[str, Any], applied: dict[str, Any]) -> list[FieldConflict]:
    """Fields other managers own in LIVE that they no longer own in APPLIED (the result of a
    forced apply as helm): exactly those whose values the apply changes against them."""
    before = owned_paths(live)
    after = owned_paths(applied)
    taken = []
    for manager, paths in sorted(before.items()):
        if manager == FIELD_MANAGER:
            continue
        taken += [FieldConflict(manager, path)
                  for path in sorted(paths - after.get(manager, set()))]
    return taken


def _leaf_paths(fields: dict[str, Any], prefix: str) -> set[str]:
    paths: set[str] = set()
    children = {k: v for k, v in fields.items() if k != "."}
    if not children:
        return {prefix or "."}
    for key, value in children.items():
        path = prefix + _step(key)
        paths |= _leaf_paths(value, path) if isinstance(value, dict) else {path}
    return paths


def _step(key: str) -> str:
    """One fieldsV1 key as a path step: f:name, k:{"name":"x"}, v:"value", i:0."""
    kind, _, rest = key.partition(":")
    if kind == "f":
        return f".{rest}"
    if kind == "i":
        return f"[{rest}]"
    try:
        parsed = json.loads(rest)
    except ValueError:
        parsed = rest
    if kind == "k" and isinstance(parsed, dict):
        return "[" + ",".join(f"{k}={_text(v)}" for k, v in parsed.items()) + "]"
    return f"[={_text(parsed)}]"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
