"""Where each key of the merged values came from: a file and line, or a flag.

Every layer (a file, or one flag expression) has an order; a later layer wins, which the
seed-layout translation needs when a seed key and its new name come from different layers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lmfchart.base.errors import Issue
from lmfchart.base.keypath import KeyPath, format_path


@dataclass(frozen=True)
class Origin:
    source: str
    """The file name, or the flag (`--set`, `--set-json`, ...)."""
    line: int | None
    order: int
    """Position of the layer among all the user gave; later layers win."""
    from_file: bool = True
    written: KeyPath | None = None
    """The key as the user wrote it, where the seed-layout translation renamed it."""


class Origins:
    def __init__(self) -> None:
        self._by_path: dict[KeyPath, Origin] = {}

    def find(self, path: KeyPath) -> Origin | None:
        """The origin of `path`, or of the nearest enclosing key that has one."""
        for end in range(len(path), -1, -1):
            found = self._by_path.get(path[:end])
            if found:
                return found
        return None

    def forget_below(self, path: KeyPath) -> None:
        for stale in [p for p in self._by_path if p[: len(path)] == path]:
            del self._by_path[stale]

    def forget_value(self, path: KeyPath, value: Any) -> None:
        """Forget `path` and the keys inside `value`, the data it held (fast on big files)."""
        self._by_path.pop(path, None)
        children = value.items() if isinstance(value, dict) else (
            enumerate(value) if isinstance(value, list) else ())
        for key, child in children:
            self.forget_value((*path, key), child)

    def set(self, path: KeyPath, origin: Origin) -> None:
        self._by_path[path] = origin

    def record_file(
        self, base: dict[str, Any], overlay: dict[str, Any], lines: dict[KeyPath, int],
        origin: Origin,
    ) -> None:
        """Blame what `overlay` sets on its file, before it is merged into `base`."""
        self._record(base, overlay, (), lines, origin)

    def _record(
        self, base: Any, overlay: dict[str, Any], path: KeyPath, lines: dict[KeyPath, int],
        origin: Origin,
    ) -> None:
        for key, value in overlay.items():
            here = (*path, key)
            existing = base.get(key) if isinstance(base, dict) else None
            if isinstance(value, dict) and isinstance(existing, dict):
                self._set_line(here, lines, origin)
                self._record(existing, value, here, lines, origin)
                continue
            if isinstance(base, dict) and key in base:
                self.forget_value(here, existing)
            self._record_all(value, here, lines, origin)

    def _record_all(
        self, value: Any, path: KeyPath, lines: dict[KeyPath, int], origin: Origin
    ) -> None:
        self._set_line(path, lines, origin)
        children = value.items() if isinstance(value, dict) else (
            enumerate(value) if isinstance(value, list) else ())
        for key, child in children:
            self._record_all(child, (*path, key), lines, origin)

    def _set_line(self, path: KeyPath, lines: dict[KeyPath, int], origin: Origin) -> None:
        if path in lines:
            self._by_path[path] = replace(origin, line=lines[path])

    def blame_changes(self, before: Any, after: Any, origin: Origin, path: KeyPath = ()) -> None:
        """Keys whose value a flag changed are blamed on that flag; the rest keep theirs."""
        if isinstance(before, dict) and isinstance(after, dict):
            for key, value in after.items():
                if key in before:
                    self.blame_changes(before[key], value, origin, (*path, key))
                else:
                    self._by_path[(*path, key)] = origin
            return
        if not _same(before, after):
            self.forget_value(path, before)
            self._by_path[path] = origin

    def move(self, old: KeyPath, new: KeyPath, *, written: KeyPath) -> None:
        """Re-key what was under `old` to `new`, remembering the key the user wrote."""
        for path in [p for p in self._by_path if p[: len(old)] == old]:
            origin = self._by_path.pop(path)
            self._by_path[new + path[len(old):]] = replace(origin, written=written)

    def alias(self, path: KeyPath, *, written: KeyPath, origin: Origin) -> None:
        self._by_path[path] = replace(origin, written=written)

    def issue(self, path: KeyPath, message: str) -> Issue:
        """A located Issue naming the key as the user wrote it."""
        origin = self.find(path)
        shown = origin.written if origin and origin.written else path
        return Issue(
            message,
            file=origin.source if origin else None,
            line=origin.line if origin else None,
            key_path=format_path(shown),
        )


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (`1 == True` in Python, not in YAML)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
