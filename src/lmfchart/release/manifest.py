"""A release record's `manifest`: the applied objects, one `# Source:` block each."""

from __future__ import annotations

from typing import Any

from lmfchart.model.names import CHART_NAME
from lmfchart.yamlio.emit import dump
from lmfchart.yamlio.reading import read_rendered


def build_manifest(objects: list[tuple[str, dict[str, Any]]]) -> str:
    return "\n".join(f"---\n# Source: {CHART_NAME}/templates/{source}\n{dump(obj)}"
                     for source, obj in objects)


def manifest_objects(manifest: str) -> list[dict[str, Any]]:
    return [doc for doc in read_rendered(manifest) if isinstance(doc, dict) and doc]
