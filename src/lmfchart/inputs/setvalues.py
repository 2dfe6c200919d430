"""Helm's value flags `--set`, `--set-string`, `--set-file`, `--set-json`, `--set-literal`.

The syntax is Helm's strvals: `a.b=1,list[0].name=x,tags={a,b}`, a backslash escapes the
next character (`a\\.b=1` sets the key "a.b"). Typing follows Helm: true/false/null (any
case), integers without a leading zero and "0" are typed, everything else (floats included)
stays a string. `--set-string` keeps every value a string, `--set-file` reads each value
from the file it names, `--set-json` reads each value as JSON (empty means null), and
`--set-literal` takes everything after the first `=` as one string, commas included.

Like Helm, an expression edits the values in place and may not go through a value of
another type (`a=1,a.b=2`). lmfchart also refuses the few places where Helm silently
replaces or ignores (an empty key, `a[0]=1,a[0].b=2`, `a[0]` with no value).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from lmfchart.base.errors import UsageError
from lmfchart.base.keypath import KeyPath, format_path

MAX_LIST_INDEX = 65536
MAX_NESTING = 30
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
_JSON_SPACE = " \t\n\r"

FileReader = Callable[[str], str]
FLAGS = ("--set", "--set-string", "--set-file", "--set-json", "--set-literal")


def typed_value(text: str, *, as_string: bool) -> Any:
    if as_string:
        return text
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    if lowered == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0":
        digits = text[1:] if text[0] in "+-" else text
        if digits.isascii() and digits.isdigit():
            number = int(text)
            if -(2**63) <= number < 2**63:
                return number
    return text


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


class _Scanner:
    def __init__(self, text: str, *, flag: str, read_file: FileReader | None) -> None:
        self.text = text
        self.pos = 0
        self.flag = flag
        self.literal = flag == "--set-literal"
        self.read_file = read_file

    def error(self, message: str) -> UsageError:
        return UsageError(f"{self.flag} {self.text!r}: {message}")

    def conflict(self, path: KeyPath, existing: Any, wanted: str) -> UsageError:
        return self.error(
            f"{format_path(path)} holds {_kind(existing)}, not {wanted}; Helm refuses to "
            "set a key through a value of another type (set the whole value instead)"
        )

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def until(self, stops: str) -> tuple[str, str | None]:
        """Read up to one of `stops`; returns the text and the stop (None at the end)."""
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char in stops:
                return "".join(out), char
            if char == "\\" and not self.literal:
                if self.pos >= len(self.text):
                    raise self.error("a trailing backslash escapes nothing")
                out.append(self.text[self.pos])
                self.pos += 1
                continue
            out.append(char)
        return "".join(out), None

    def parse_into(self, data: dict[str, Any]) -> None:
        while not self.at_end():
            self.key(data, 0, ())

    def key(self, data: dict[str, Any], depth: int, path: KeyPath) -> None:
        name, stop = self.until("=[." if self.literal else "=[,.")
        here = (*path, name)
        if stop is None:
            raise self.error(f"key {format_path(here)!r} has no value (expected KEY=VALUE)")
        if not name and stop != ",":
            raise self.error("empty key name")
        if stop == ",":
            shown = format_path(here) if name else ""  # helm: key "" has no value
            raise self.error(f"key {shown!r} has no value (cannot end with ',')")
        if stop == "=":
            data[name] = self.value(here)
            return
        if stop == ".":
            # Helm counts nesting by dots: 30 dots (31 keys) pass, the 31st dot fails.
            if depth + 1 > MAX_NESTING:
                raise self.error(f"keys nest deeper than {MAX_NESTING} levels")
            inner = data.setdefault(name, {})
            if not isinstance(inner, dict):
                raise self.conflict(here, inner, "a mapping")
            self.key(inner, depth + 1, here)
            return
        index = self.index()
        items = data.get(name, [])
        if not isinstance(items, list):
            raise self.conflict(here, items, "a list")
        data[name] = self.list_item(items, index, depth, here)

    def index(self) -> int:
        raw, stop = self.until("]")
        # Helm reads the index with Go's strconv.Atoi: ASCII digits and a sign only.
        if stop is None or not _GO_ATOI.fullmatch(raw) or int(raw) < 0:
            raise self.error(f"list index {raw!r} is not a non-negative integer in [...]")
        index = int(raw)
        if index > MAX_LIST_INDEX:
            raise self.error(f"list index {index} is larger than {MAX_LIST_INDEX}")
        return index

    def list_item(self, items: list[Any], index: int, depth: int, path: KeyPath) -> list[Any]:
        rest, stop = self.until("[.=")
        if rest:
            raise self.error(f"unexpected {rest!r} after a list index")
        if stop is None:
            raise self.error("a list index must be followed by '=', '.' or '['")
        here = (*path, index)
        items = items + [None] * (index + 1 - len(items))
        current = items[index]
        if stop == "=":
            items[index] = self.value(here)
        elif stop == ".":
            if current is not None and not isinstance(current, dict):
                raise self.conflict(here, current, "a mapping")
            inner = current if isinstance(current, dict) else {}
            self.key(inner, depth, here)
            items[index] = inner
        else:
            if current is not None and not isinstance(current, list):
                raise self.conflict(here, current, "a list")
            items[index] = self.list_item(current or [], self.index(), depth, here)
        return items

    def value(self, path: KeyPath) -> Any:
        if self.literal:
            rest = self.text[self.pos:]
            self.pos = len(self.text)
            return rest
        if self.flag == "--set-json":
            return self.json_value(path)
        if self.at_end():
            return ""  # Helm sets "" here without reading a value (nor a --set-file file)
        if self.pos < len(self.text) and self.text[self.pos] == "{":
            self.pos += 1
            values: list[Any] = []
            while True:
                raw, stop = self.until(",}")
                if stop is None:
                    raise self.error("a list must end with '}'")
                values.append(self.convert(raw))
                if stop == "}":
                    if self.pos < len(self.text) and self.text[self.pos] == ",":
                        self.pos += 1
                    return values
        raw, _ = self.until(",")
        return self.convert(raw)

    def convert(self, raw: str) -> Any:
        if self.flag == "--set-file":
            assert self.read_file is not None
            return self.read_file(raw)
        return typed_value(raw, as_string=self.flag == "--set-string")

    def skip_empty(self) -> bool:
        """Skip blanks and one comma; whether the value ended there (Helm's emptyVal)."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == ",":
                self.pos += 1
                return True
            if not char.isspace():
                return False
            self.pos += 1
        return True

    def json_value(self, path: KeyPath) -> Any:
        if self.skip_empty():
            return None
        try:
            value, end = _JSON.raw_decode(self.text, self.pos)
        except ValueError as e:
            raise self.error(f"{format_path(path)}: not valid JSON: {e}") from e
        self.pos = end
        self.skip_empty()
        return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_JSON = json.JSONDecoder(parse_constant=_refuse_constant)


def apply_set(
    data: dict[str, Any], expression: str, *, flag: str = "--set",
    read_file: FileReader | None = None,
) -> None:
    """Apply one expression of a value flag to `data` in place, like Helm."""
    if not expression:
        raise UsageError(f"{flag} needs KEY=VALUE, got an empty string")
    _Scanner(expression, flag=flag, read_file=read_file).parse_into(data)


def parse_json_object(expression: str) -> dict[str, Any] | None:
    """`--set-json '{...}'` (Helm 4): the whole object, merged like a values file."""
    text = expression.strip()
    if not text.startswith("{"):
        return None
    try:
        value = _JSON.decode(text)
    except ValueError as e:
        raise UsageError(f"--set-json {expression!r}: not a valid JSON object: {e}") from e
    if not isinstance(value, dict):
        raise UsageError(f"--set-json {expression!r}: expected a JSON object")
    return value
