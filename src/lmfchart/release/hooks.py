"""Hooks: objects the chart renders that a release keeps in its record's `hooks`, for Helm
to create at their event (`helm test` runs the `test` ones), and never applies itself."""

from __future__ import annotations

from typing import Any

from lmfchart.release.manifest import manifest_objects, source_path
from lmfchart.yamlio.emit import dump

HOOK = "helm.sh/hook"
DELETE_POLICY = "helm.sh/hook-delete-policy"
WEIGHT = "helm.sh/hook-weight"


def is_hook(obj: dict[str, Any]) -> bool:
    return HOOK in ((obj.get("metadata") or {}).get("annotations") or {})


def hook_entry(template: str, obj: dict[str, Any]) -> dict[str, Any]:
    """OBJ, made by TEMPLATE, as an entry of a record's `hooks`, in Helm's JSON keys (empty
    ones left out as Helm 4 leaves them out: a hook that never ran has a last_run with an
    empty phase and no times)."""
    metadata = obj.get("metadata") or {}
    annotations = metadata.get("annotations") or {}
    entry: dict[str, Any] = {
        "name": metadata.get("name", ""),
        "kind": obj.get("kind", ""),
        "path": source_path(template),
        "manifest": dump(obj).rstrip("\n"),
        "events": _listed(annotations[HOOK]),
        "last_run": {"phase": ""},
    }
    weight = int(str(annotations.get(WEIGHT, "0")).strip() or 0)
    if weight:
        entry["weight"] = weight
    policies = _listed(annotations.get(DELETE_POLICY, ""))
    if policies:
        entry["delete_policies"] = policies
    return entry


def _listed(annotation: str) -> list[str]:
    return [part.strip() for part in str(annotation).split(",") if part.strip()]


def same_hook(hook: dict[str, Any]) -> dict[str, Any]:
    """What makes two hook entries the same hook: everything but its last run (`helm test`
    writes that) and the manifest's layout (Helm keeps the template's text)."""
    kept = {key: value for key, value in hook.items() if key not in ("last_run", "manifest")}
    return {**kept, "manifest": manifest_objects(str(hook.get("manifest", "")))}
