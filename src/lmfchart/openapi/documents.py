"""The schema documents kubernetes-validate ships, read once per process."""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

_PACKAGE = "kubernetes_validate"
_SCHEMA_ROOT = "kubernetes-json-schema"


def _root() -> Traversable:
    return resources.files(_PACKAGE) / _SCHEMA_ROOT


@functools.cache
def available_versions() -> tuple[str, ...]:
    found = set()
    for entry in _root().iterdir():
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


@functools.cache
def _folder(version: str) -> Traversable:
    """The strict variant's folder: unknown fields are refused, as the API server does."""
    root = _root()
    matches = sorted(e.name for e in root.iterdir()
                     if e.name.startswith(f"v{version}.") and e.name.endswith("-local-strict"))
    return root / matches[-1]


@functools.cache
def definitions(version: str) -> Any:
    """The document every kind's schema refers into."""
    return json.loads((_folder(version) / "_definitions.json").read_text())


@functools.cache
def kind_document(version: str, api_version: str, kind: str) -> Any:
    """The schema document of KIND in API_VERSION, or None where VERSION has none."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    document = _folder(version) / f"{kind.lower()}-{group_version}.json"
    if not document.is_file():
        return None
    return json.loads(document.read_text())
