"""Comparing a live object with what an apply returns, and the two repairs an upgrade of a
Helm 3 (client-side apply) or seed-chart release needs before a server-side apply."""

from __future__ import annotations

import copy
from typing import Any

FIELD_MANAGER = "helm"
# Lets a Deployment go from RollingUpdate (what the API server defaults) to Recreate: an
# apply cannot drop the defaulted `rollingUpdate`, `retainKeys` does.
RECREATE_PATCH: dict[str, Any] = {
    "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}},
}


def unchanged(live: dict[str, Any], applied: dict[str, Any]) -> bool:
    """True when applying would store exactly what is live (timestamps of managers aside)."""
    return _comparable(live) == _comparable(applied)


def holds(live: Any, wanted: Any) -> bool:
    """True when LIVE already has every field WANTED sets, with the same value.

    Server defaults add fields (fine); a list must match item by item, so an item another
    manager added or a value the server normalized (`0.5` to `500m`) counts as a change,
    which only costs the full check.
    """
    if isinstance(wanted, dict):
        return isinstance(live, dict) and all(
            holds(live[key], value) if key in live else _omitted(value)
            for key, value in wanted.items())
    if isinstance(wanted, list):
        return (isinstance(live, list) and len(live) == len(wanted)
                and all(holds(a, b) for a, b in zip(live, wanted, strict=True)))
    if isinstance(live, str) and isinstance(wanted, int) and not isinstance(wanted, bool):
        return live == str(wanted)  # a quantity given as a number comes back as text
    return type(live) is type(wanted) and bool(live == wanted)


def _omitted(value: Any) -> bool:
    # The API server leaves zero values out (`initialDelaySeconds: 0`, empty maps).
    return (value in (0, "", None, [], {}) and not isinstance(value, bool)) or value is False


def applied_by_helm(live: dict[str, Any]) -> bool:
    """Whether `helm` owns fields of LIVE through server-side apply (not client-side)."""
    entries = (live.get("metadata") or {}).get("managedFields") or []
    return any(e.get("manager") == FIELD_MANAGER and e.get("operation") == "Apply"
               for e in entries) and not any(_is_helm_update(e) for e in entries)


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    for entry in (result.get("metadata") or {}).get("managedFields") or []:
        entry.pop("time", None)
    return result


def needs_recreate_switch(live: dict[str, Any], desired: dict[str, Any]) -> bool:
    if desired.get("kind") != "Deployment":
        return False
    wanted = ((desired.get("spec") or {}).get("strategy") or {}).get("type")
    current = (live.get("spec") or {}).get("strategy") or {}
    return wanted == "Recreate" and (
        current.get("type") == "RollingUpdate" or "rollingUpdate" in current
    )


def client_side_takeover(live: dict[str, Any]) -> dict[str, Any] | None:
    """A merge patch that moves the fields `helm` owns by client-side "Update" into its
    server-side "Apply" entry (as Helm 4 does once per release first applied by Helm 3),
    so the apply does not conflict with helm's own past; None when there is nothing to move.
    The resourceVersion makes the patch fail if the object changed since it was read."""
    metadata = live.get("metadata") or {}
    entries = metadata.get("managedFields") or []
    updates = [e for e in entries if _is_helm_update(e)]
    if not updates:
        return None
    applies = [e for e in entries
               if e.get("manager") == FIELD_MANAGER and e.get("operation") == "Apply"]
    merged: dict[str, Any] = copy.deepcopy(applies[0]["fieldsV1"]) if applies else {}
    for entry in updates:
        _union(merged, entry.get("fieldsV1") or {})
    apply_entry = {
        **(applies[0] if applies else {}),
        "manager": FIELD_MANAGER, "operation": "Apply", "apiVersion": live["apiVersion"],
        "fieldsType": "FieldsV1", "fieldsV1": merged,
    }
    apply_entry.pop("subresource", None)
    others = [e for e in entries if not _is_helm_update(e) and e not in applies]
    return {"metadata": {"managedFields": [*others, apply_entry],
                         "resourceVersion": metadata.get("resourceVersion")}}


def _is_helm_update(entry: dict[str, Any]) -> bool:
    return (entry.get("manager") == FIELD_MANAGER and entry.get("operation") == "Update"
            and not entry.get("subresource"))


def _union(into: dict[str, Any], more: dict[str, Any]) -> None:
    for key, value in more.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _union(into[key], value)
        else:
            into.setdefault(key, copy.deepcopy(value))
