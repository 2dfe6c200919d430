"""The schema documents kubernetes-validate ships, read once per process."""

from __future__ import annotations

import functools
import json
import re
from importlib.util import find_spec
from pathlib import Path
from typing import Any

_PACKAGE = "kubernetes_validate"
_SCHEMA_ROOT = "kubernetes-json-schema"


@functools.cache
def _root() -> Path:
    # Found, not imported: importing kubernetes_validate imports jsonschema (50 ms).
    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / _SCHEMA_ROOT


@functools.cache
def available_versions() -> tuple[str, ...]:
    found = set()
    for entry in _root().iterdir():
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


@functools.cache
def _folder(version: str) -> Path:
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
