"""Durations the way Helm's `--timeout` reads and prints them (Go's time.Duration)."""

from __future__ import annotations

import re

from lmfchart.base.errors import UsageError

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
          "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str, *, flag: str = "--timeout") -> float:
    """Seconds in TEXT such as `300s`, `5m`, `1h30m`, `1.5h` (a unit on every number, as
    Go's time.ParseDuration wants; `0` alone is allowed)."""
    stripped = text.strip()
    if stripped.lstrip("+") == "0":
        return 0.0
    body = stripped.lstrip("+")
    position, seconds = 0, 0.0
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise UsageError(f"{flag} {text!r}: not a duration; use a number and a unit "
                             f"for each part, like 300s, 5m or 1h30m")
        seconds += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if not body:
        raise UsageError(f"{flag}: empty duration; use a number and a unit, like 5m")
    return seconds


def format_duration(seconds: float) -> str:
    """Whole seconds as Go prints a time.Duration: 1h2m3s, 5m0s, 30s."""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
