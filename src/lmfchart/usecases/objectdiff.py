"""One object's live and planned states as a unified diff: fields the server manages left
out, Secret values never shown."""

from __future__ import annotations

import base64
import binascii
import copy
import difflib
from typing import Any

from lmfchart.yamlio.emit import dump

# Written by the server (or by kubectl for its own bookkeeping), never by the chart.
SERVER_METADATA = ("managedFields", "resourceVersion", "uid", "generation",
                   "creationTimestamp", "selfLink", "deletionTimestamp",
                   "deletionGracePeriodSeconds")
SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision",)
# kubectl's copy of what it last applied: for a Secret it holds the data in clear.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """OBJ without what the server manages (status included)."""
    result = copy.deepcopy(obj)
    result.pop("status", None)
    metadata = result.get("metadata") or {}
    for name in SERVER_METADATA:
        metadata.pop(name, None)
    annotations = metadata.get("annotations") or {}
    for name in SERVER_ANNOTATIONS:
        annotations.pop(name, None)
    if "annotations" in metadata and not annotations:
        del metadata["annotations"]
    return result


def masked(live: dict[str, Any] | None, planned: dict[str, Any] | None,
           ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The pair with every Secret value replaced by its size, and a changed value marked as
    changed, so the diff tells what changes without telling any value."""
    if (live or planned or {}).get("kind") != "Secret":
        return live, planned
    old_values = _secret_values(live)
    new_values = _secret_values(planned)
    return (_masked_one(live, old_values, new_values, new=False),
            _masked_one(planned, new_values, old_values, new=True))


def _secret_values(secret: dict[str, Any] | None) -> dict[tuple[str, str], bytes]:
    values: dict[tuple[str, str], bytes] = {}
    if secret is None:
        return values
    for key, value in (secret.get("data") or {}).items():
        try:
            values["data", key] = base64.b64decode(str(value), validate=True)
        except binascii.Error:
            values["data", key] = str(value).encode()
    for key, value in (secret.get("stringData") or {}).items():
        values["data", key] = str(value).encode()
    last_applied = ((secret.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
    if last_applied is not None:
        values["annotation", LAST_APPLIED] = str(last_applied).encode()
    return values


def _masked_one(secret: dict[str, Any] | None, values: dict[tuple[str, str], bytes],
                other: dict[tuple[str, str], bytes], *, new: bool) -> dict[str, Any] | None:
    if secret is None:
        return None
    result = copy.deepcopy(secret)
    result.pop("stringData", None)
    hidden: dict[str, str] = {}
    for (where, key), value in values.items():
        changed = (where, key) in other and other[where, key] != value
        text = f"(hidden: {len(value)} bytes{', changed' if changed and new else ''})"
        if where == "data":
            hidden[key] = text
        else:
            result["metadata"]["annotations"][key] = text
    if hidden:
        result["data"] = dict(sorted(hidden.items()))
    return result


def unified(live: dict[str, Any] | None, planned: dict[str, Any] | None, *,
            title: str) -> str:
    """The unified diff from LIVE to PLANNED (None: the object does not exist on that side);
    empty when they are the same."""
    old, new = masked(None if live is None else comparable(live),
                      None if planned is None else comparable(planned))
    old_lines = dump(old).splitlines() if old is not None else []
    new_lines = dump(new).splitlines() if new is not None else []
    lines = difflib.unified_diff(old_lines, new_lines, fromfile=f"live {title}",
                                 tofile=f"planned {title}", lineterm="", n=3)
    return "\n".join(lines)
