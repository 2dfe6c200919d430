"""The `chart` part of a release record, built from the files `lmfchart render` writes.

Helm stores the whole chart in every revision so that `helm rollback` and
`helm upgrade --reuse-values` can render it again without the chart directory.
"""

from __future__ import annotations

import base64
from typing import Any

from lmfchart.base.errors import ReleaseRecordError
from lmfchart.yamlio.reading import parse_values

# Files Helm's chart loader gives a place of their own; the rest go to `files`.
_CHART_FILE = "Chart.yaml"
_VALUES_FILE = "values.yaml"
_SCHEMA_FILE = "values.schema.json"
_TEMPLATES_DIR = "templates/"


def chart_payload(*, files: dict[str, str]) -> dict[str, Any]:
    """Helm's chart JSON (`pkg/chart/v2` Chart) for a chart given as path -> text."""
    if _CHART_FILE not in files:
        raise ReleaseRecordError(f"the chart has no {_CHART_FILE}; it cannot be recorded")
    metadata = parse_values(files[_CHART_FILE], source=_CHART_FILE).data
    values = parse_values(files.get(_VALUES_FILE, ""), source=_VALUES_FILE).data
    schema = files.get(_SCHEMA_FILE)
    own = {_CHART_FILE, _VALUES_FILE, _SCHEMA_FILE}
    return {
        "metadata": metadata,
        "lock": None,
        "templates": [_file(name, files[name]) for name in sorted(files)
                      if name.startswith(_TEMPLATES_DIR)],
        "values": values,
        "schema": None if schema is None else _base64(schema),
        "files": [_file(name, files[name]) for name in sorted(files)
                  if name not in own and not name.startswith(_TEMPLATES_DIR)],
    }


def chart_metadata(chart: dict[str, Any]) -> dict[str, Any]:
    """The Chart.yaml part of a stored chart (empty when the record holds none)."""
    metadata = chart.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def chart_templates(chart: dict[str, Any]) -> dict[str, str]:
    """Template path -> text of a stored chart (what `helm rollback` renders again)."""
    return {entry["name"]: base64.b64decode(entry["data"]).decode("utf-8")
            for entry in chart.get("templates") or ()}


def _file(name: str, text: str) -> dict[str, str]:
    return {"name": name, "data": _base64(text)}


def _base64(text: str) -> str:
    # Go's []byte fields travel through JSON as standard base64.
    return base64.b64encode(text.encode("utf-8")).decode("ascii")
