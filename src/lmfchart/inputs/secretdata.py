"""The data of a Secret to create, read from files and standard input, never from flags.

A value given on the command line lands in shell history and in every process listing;
files and standard input do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from lmfchart.base.errors import InputError, UsageError
from lmfchart.model import formats


@dataclass(frozen=True)
class SecretEntry:
    """One key of a Secret and its bytes (never shown: repr leaves them out)."""

    key: str
    data: bytes = field(repr=False)
    source: str
    """Where the bytes came from, for messages: a path or "standard input"."""


def read_secret_entries(*, from_files: Sequence[str], from_stdin: str | None,
                        stdin: BinaryIO) -> list[SecretEntry]:
    """One entry per `KEY=PATH` of FROM_FILES (bytes as they are in the file, binary too),
    and FROM_STDIN's key with standard input (less one final newline, which `echo` and a
    terminal add and no token has)."""
    entries = [_from_file(spec) for spec in from_files]
    if from_stdin is not None:
        _check_key(from_stdin, "--from-stdin")
        data = stdin.read()
        data = data.removesuffix(b"\n").removesuffix(b"\r")
        entries.append(SecretEntry(from_stdin, _not_empty(data, "standard input"),
                                   "standard input"))
    if not entries:
        raise UsageError("give the Secret's data with --from-file KEY=PATH or --from-stdin KEY")
    seen: set[str] = set()
    for entry in entries:
        if entry.key in seen:
            raise UsageError(f"key {entry.key!r} is given twice")
        seen.add(entry.key)
    return entries


def _from_file(spec: str) -> SecretEntry:
    key, equals, path = spec.partition("=")
    if not equals or not path:
        raise UsageError(f"--from-file {spec!r}: expected KEY=PATH")
    _check_key(key, f"--from-file {spec!r}")
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError.single(f"cannot read the file for key {key}: "
                                f"{e.strerror or e}", file=path) from e
    return SecretEntry(key, _not_empty(data, path), path)


def _check_key(key: str, flag: str) -> None:
    problem = formats.data_key(key)
    if problem:
        raise UsageError(f"{flag}: key {problem}")


def _not_empty(data: bytes, source: str) -> bytes:
    if not data:
        raise InputError.single("is empty: a Secret key with no value is a mistake "
                                "(the pod would get an empty token)", file=source)
    return data
