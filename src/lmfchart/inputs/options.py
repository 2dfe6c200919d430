"""Helm's value flags as one object, so every command takes them the same way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ValueLayer:
    """Values a command builds itself rather than reads from a file: messages about them
    name SOURCE (the flag that set them, such as `--epochs`, or the release they came from)."""

    source: str
    data: dict[str, Any]


@dataclass(frozen=True)
class ValueOptions:
    """`-f` and the `--set*` flags, each in the order the user gave them."""

    files: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    set_strings: tuple[str, ...] = ()
    set_jsons: tuple[str, ...] = ()
    set_files: tuple[str, ...] = ()
    set_literals: tuple[str, ...] = ()
    # (source name, YAML text) read before `files`: for callers that already hold the text.
    documents: tuple[tuple[str, str], ...] = field(default=())
    # Under everything the user gave (a release's values, as `helm upgrade --reuse-values`
    # keeps them), and over it all (a command's own flags, such as `train --epochs`).
    before_files: tuple[ValueLayer, ...] = ()
    after_flags: tuple[ValueLayer, ...] = ()

    def flags(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The `--set*` flags in the order Helm applies them (after every file)."""
        return (
            ("--set-json", self.set_jsons),
            ("--set", self.sets),
            ("--set-string", self.set_strings),
            ("--set-file", self.set_files),
            ("--set-literal", self.set_literals),
        )
