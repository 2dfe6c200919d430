"""A release's `manifest`: every object it applied, as the YAML stream Helm stores.

Helm prunes on upgrade and deletes on uninstall from this text, so it must hold exactly
the objects applied, each under the `# Source:` line of the template that made it.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from lmfchart.base.errors import ReleaseRecordError
from lmfchart.model.names import CHART_NAME
from lmfchart.yamlio.emit import dump
from lmfchart.yamlio.reading import read_rendered

_TEMPLATES = "templates/"
# Helm splits a manifest at lines that start with `---`.
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (.+)$", re.MULTILINE)


def source_path(template_file: str) -> str:
    """`deployment.yaml` (or `templates/deployment.yaml`) as Helm names its source."""
    return f"{CHART_NAME}/{_TEMPLATES}{template_file.removeprefix(_TEMPLATES)}"


def build_manifest(objects: list[tuple[str, dict[str, Any]]]) -> str:
    """(template file name, object) pairs, in install order -> the manifest Helm writes."""
    return "".join(f"---\n# Source: {source_path(template)}\n{dump(obj)}"
                   for template, obj in objects)


def manifest_entries(manifest: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(source path or None, object) for each object of a stored manifest, in order."""
    entries: list[tuple[str | None, dict[str, Any]]] = []
    for block in _SEPARATOR.split(manifest):
        source = _SOURCE.search(block)
        for obj in _objects(block):
            entries.append((source.group(1).strip() if source else None, obj))
    return entries


def manifest_objects(manifest: str) -> list[dict[str, Any]]:
    """Parse a stored manifest (Helm's or lmfchart's) back into its objects, in order."""
    return _objects(manifest)


def _objects(text: str) -> list[dict[str, Any]]:
    try:
        documents = read_rendered(text)
    except yaml.YAMLError as e:
        raise ReleaseRecordError(f"the release manifest is not valid YAML: {e}") from e
    objects: list[dict[str, Any]] = []
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict) or "kind" not in document:
            raise ReleaseRecordError(
                "the release manifest holds a document that is not a Kubernetes object: "
                f"{str(document)[:80]!r}")
        objects.append(document)
    return objects
