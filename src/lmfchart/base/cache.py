"""Where lmfchart keeps things between runs: outside any repository, per user."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """`$LMFCHART_CACHE`, else `$XDG_CACHE_HOME/lmfchart`, else `~/.cache/lmfchart`."""
    explicit = os.environ.get("LMFCHART_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "lmfchart"
