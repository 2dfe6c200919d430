"""Helm's `--set` syntax: `a.b=1,list[0].name=x,tags={a,b}`, typed like Helm's strvals.

Typing follows Helm: true/false/null (any case), integers without a leading zero, "0";
everything else, floats included, stays a string. `--set-string` keeps every value a string.
A backslash escapes the next character (`a\\.b=1` sets the key "a.b").
"""

from __future__ import annotations

from typing import Any

from lmfchart.base.errors import UsageError

MAX_LIST_INDEX = 65536
MAX_NESTING = 30


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


class _Scanner:
    def __init__(self, text: str, *, as_string: bool, flag: str) -> None:
        self.text = text
        self.pos = 0
        self.as_string = as_string
        self.flag = flag

    def error(self, message: str) -> UsageError:
        return UsageError(f"{self.flag} {self.text!r}: {message}")

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
            if char == "\\":
                if self.pos >= len(self.text):
                    raise self.error("a trailing backslash escapes nothing")
                out.append(self.text[self.pos])
                self.pos += 1
                continue
            out.append(char)
        return "".join(out), None

    def parse_into(self, data: dict[str, Any]) -> None:
        while not self.at_end():
            self.key(data, 0)

    def key(self, data: dict[str, Any], depth: int) -> None:
        name, stop = self.until("=[,.")
        if stop is None:
            raise self.error(f"key {name!r} has no value (expected KEY=VALUE)")
        if not name and stop != ",":
            raise self.error("empty key name")
        if stop == ",":
            raise self.error(f"key {name!r} has no value (cannot end with ',')")
        if stop == "=":
            data[name] = self.value()
            return
        if stop == ".":
            # The key after this dot sits at level depth + 2 (the first key is level 1).
            if depth + 2 > MAX_NESTING:
                raise self.error(f"keys nest deeper than {MAX_NESTING} levels")
            inner = data.get(name)
            if not isinstance(inner, dict):
                inner = {}
            self.key(inner, depth + 1)
            data[name] = inner
            return
        index = self.index()
        existing = data.get(name)
        items = existing if isinstance(existing, list) else []
        data[name] = self.list_item(items, index, depth)

    def index(self) -> int:
        raw, stop = self.until("]")
        if stop is None or not raw.isdigit():
            raise self.error(f"list index {raw!r} is not a non-negative integer in [...]")
        index = int(raw)
        if index > MAX_LIST_INDEX:
            raise self.error(f"list index {index} is larger than {MAX_LIST_INDEX}")
        return index

    def list_item(self, items: list[Any], index: int, depth: int) -> list[Any]:
        rest, stop = self.until("[.=")
        if rest:
            raise self.error(f"unexpected {rest!r} after a list index")
        if stop is None:
            raise self.error("a list index must be followed by '=', '.' or '['")
        items = items + [None] * (index + 1 - len(items))
        if stop == "=":
            items[index] = self.value()
        elif stop == ".":
            inner = items[index] if isinstance(items[index], dict) else {}
            self.key(inner, depth + 1)
            items[index] = inner
        else:
            nested = items[index] if isinstance(items[index], list) else []
            items[index] = self.list_item(nested, self.index(), depth)
        return items

    def value(self) -> Any:
        if self.pos < len(self.text) and self.text[self.pos] == "{":
            self.pos += 1
            values: list[Any] = []
            while True:
                raw, stop = self.until(",}")
                if stop is None:
                    raise self.error("a list must end with '}'")
                values.append(typed_value(raw, as_string=self.as_string))
                if stop == "}":
                    if self.pos < len(self.text) and self.text[self.pos] == ",":
                        self.pos += 1
                    return values
        raw, _ = self.until(",")
        return typed_value(raw, as_string=self.as_string)


def apply_set(data: dict[str, Any], expression: str, *, as_string: bool = False) -> None:
    """Apply one `--set` (or `--set-string`) expression to `data` in place, like Helm."""
    flag = "--set-string" if as_string else "--set"
    if not expression:
        raise UsageError(f"{flag} needs KEY=VALUE, got an empty string")
    _Scanner(expression, as_string=as_string, flag=flag).parse_into(data)
