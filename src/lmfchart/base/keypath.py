"""Dotted key paths as users write them (`ingress.host`, `tolerations[0].key`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Sequence[PathPart]) -> str:
    """Render a path the way Helm's --set would accept it (dots escaped inside keys)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
            continue
        key = part if _PLAIN_KEY.match(part) else part.replace(".", "\\.")
        out += f".{key}" if out else key
    return out or "(top level)"
