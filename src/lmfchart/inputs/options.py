"""Helm's value flags as one object, so every command takes them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ValueOptions:
    """`-f`, `--set` and `--set-string`, in the order the user gave each of them."""

    files: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    set_strings: tuple[str, ...] = ()
    # (source name, YAML text) read before `files`: for callers that already hold the text.
    documents: tuple[tuple[str, str], ...] = field(default=())
