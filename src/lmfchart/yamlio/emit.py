"""Block YAML whose scalars are always unambiguous.

Strings are plain only when they cannot be read as anything else; the rest are written
as JSON (double-quoted YAML), so `yes`, `0777`, `1e3` or `{{` can never
be read as anything else by PyYAML, Helm or kubectl; keys are quoted unless plainly safe.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from lmfchart.yamlio.reading import reads_as_string

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
# What YAML reads as a line break or may not hold at all, even inside double quotes, and
# JSON leaves as it is.
_NOT_PRINTABLE = re.compile("[\\x7f-\\x9f\\u2028\\u2029\\ufeff\\ufffe\\uffff\\ud800-\\udfff]")
_PLAIN_STRING = re.compile(r"^[A-Za-z/][A-Za-z0-9_./@+-]*(:[A-Za-z0-9_./@+-]+)*$")


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("cannot write a non-finite number")
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        # YAML 1.1 (PyYAML) reads 5e-05 as a string: a float needs its dot.
        return text if "." in text else text.replace("e", ".0e", 1)
    if isinstance(value, str):
        if _PLAIN_STRING.match(value) and reads_as_string(value):
            return value
        return _quoted(value)
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def key(name: str) -> str:
    if _PLAIN_KEY.match(name) and reads_as_string(name):
        return name
    return _quoted(name)


def _quoted(text: str) -> str:
    return _NOT_PRINTABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(text, ensure_ascii=False))


def dump(data: Any, indent: int = 0) -> str:
    """A YAML document for `data` (a mapping or list), ending in a newline."""
    return "\n".join(_lines(data, indent)) + "\n"


def _lines(data: Any, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(data, dict):
        if not data:
            return [pad + "{}"]
        for name, value in data.items():
            lines += _entry(pad + key(name) + ":", value, indent)
        return lines
    if isinstance(data, list):
        if not data:
            return [pad + "[]"]
        for item in data:
            if isinstance(item, dict) and item:
                nested = _lines(item, indent + 2)
                lines.append(pad + "- " + nested[0][indent + 2:])
                lines += nested[1:]
            else:
                lines += _entry(pad + "-", item, indent)
        return lines
    return [pad + scalar(data)]


_BLOCK_SAFE = re.compile(r"^[^\s][^\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]*$", re.DOTALL)


def _block(value: str, indent: int) -> list[str] | None:
    """A multi-line string as a literal block (a config file in a ConfigMap stays
    readable), when YAML reads it back unchanged; None: write it as JSON."""
    if "\n" not in value or not _BLOCK_SAFE.match(value) or "\t" in value:
        return None
    body = value.rstrip("\n")
    trailing = len(value) - len(body)
    if trailing > 1:
        return None
    pad = " " * (indent + 2)
    indicator = "|" if trailing == 1 else "|-"
    lines = body.split("\n")
    return [indicator, *[pad + line if line else "" for line in lines]]


def _entry(head: str, value: Any, indent: int) -> list[str]:
    block = _block(value, indent) if isinstance(value, str) else None
    if block is not None:
        return [head + " " + block[0], *block[1:]]
    if isinstance(value, dict) and value:
        return [head, *_lines(value, indent + 2)]
    if isinstance(value, list) and value:
        return [head, *_lines(value, indent + 2)]
    if isinstance(value, dict | list):
        return [head + (" {}" if isinstance(value, dict) else " []")]
    return [head + " " + scalar(value)]
