"""Read values files strictly: one mapping, no duplicate keys, line numbers for every key.

The loader follows Helm's YAML 1.1 reading where PyYAML differs (dates stay strings,
`1e3` is a number, boolean keys become "true"/"false"), so a values file means the same
thing to lmfchart as to `helm -f`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lmfchart.base.errors import InputError
from lmfchart.base.keypath import KeyPath, format_path

# A Helm release record is capped at 1 MiB, so a larger values file can never be installed.
MAX_FILE_BYTES = 1024 * 1024
# Guards against alias bombs ("billion laughs"): aliases share nodes that we would expand.
MAX_NODES = 100_000
# Real values nest a dozen levels at most; deeper means a mistake or an attack.
MAX_DEPTH = 64
_SCALAR_TYPES = (str, int, float, bool, type(None))
_SCALAR_TAGS = {f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "float", "bool", "null")}
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG, _NULL_TAG, _BOOL_TAG = (f"tag:yaml.org,2002:{k}" for k in ("str", "null", "bool"))
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_COLLECTION_TAGS = {MappingNode: _MAP_TAG, SequenceNode: _SEQ_TAG}

# Helm reads values with go-yaml v2 (YAML 1.1 with Go's number syntax). Where PyYAML's
# resolvers differ, these replace them: y/n are booleans, 0o17 is octal, 1e3 is a number,
# 12:30 (sexagesimal in PyYAML) and dates stay strings, a plain `=` is the string "=".
_BOOL = re.compile(r"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE"
                   r"|on|On|ON|off|Off|OFF)$")
_INT = re.compile(r"^[-+]?(?:0b[01_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*)$")
_FLOAT = re.compile(
    # go-yaml drops underscores when a number starts with a digit or a sign, not a dot.
    r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]_*\.[0-9_]*[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|\.[0-9]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_REPLACED = {f"tag:yaml.org,2002:{kind}" for kind in ("bool", "int", "float", "timestamp",
                                                      "value")}


class _HelmLikeLoader(yaml.SafeLoader):
    """SafeLoader reading scalars the way Helm's go-yaml does."""

    bool_values: ClassVar[dict[str, bool]] = {
        **yaml.SafeLoader.bool_values, "y": True, "n": False,
    }

    def construct_yaml_int(self, node: ScalarNode) -> int:
        text = str(self.construct_scalar(node)).replace("_", "")
        sign = -1 if text.startswith("-") else 1
        digits = text.lstrip("+-")
        if digits[:2] in ("0b", "0o", "0x"):
            return sign * int(digits, {"0b": 2, "0o": 8, "0x": 16}[digits[:2]])
        if len(digits) > 1 and digits.startswith("0"):
            if set(digits) <= set("01234567"):
                return sign * int(digits, 8)
            return sign * int(digits.lstrip("0") or "0")  # go-yaml falls back to decimal
        return sign * int(digits)


_HelmLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _first in (
    ("bool", _BOOL, "yYnNtTfFoO"),
    ("int", _INT, "-+0123456789"),
    ("float", _FLOAT, "-+0123456789."),
):
    _HelmLikeLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", _pattern, list(_first))
_HelmLikeLoader.add_constructor("tag:yaml.org,2002:int", _HelmLikeLoader.construct_yaml_int)


_FAST = hasattr(yaml, "CSafeLoader")
# libyaml composed 10,000 levels here; a real values file nests a dozen.
_FAST_NESTING_LIMIT = 2000


class _FastHelmLikeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The same reading on libyaml's C parser: several times faster than PyYAML's own."""

    construct_yaml_int = _HelmLikeLoader.construct_yaml_int
    bool_values = _HelmLikeLoader.bool_values


_FastHelmLikeLoader.yaml_implicit_resolvers = _HelmLikeLoader.yaml_implicit_resolvers
_FastHelmLikeLoader.add_constructor("tag:yaml.org,2002:int", _HelmLikeLoader.construct_yaml_int)


def reads_as_string(text: str) -> bool:
    """Whether `text`, written plain, is read back as that string (not a bool, null, number)."""
    resolved = _RESOLVER.resolve(ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(resolved == "tag:yaml.org,2002:str")


_RESOLVER = _HelmLikeLoader("")


@dataclass
class ValuesDocument:
    """A values document and where each key came from."""

    data: dict[str, Any]
    source: str
    lines: dict[KeyPath, int] = field(default_factory=dict)


def _key_to_string(key: object) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


class _Builder:
    def __init__(self, loader: _HelmLikeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.lines: dict[KeyPath, int] = {}
        self.budget = MAX_NODES
        self.open: list[Node] = []

    def fail(self, message: str, node: Node, path: KeyPath) -> InputError:
        return InputError.single(
            message,
            file=self.source,
            line=node.start_mark.line + 1,
            key_path=format_path(path) if path else None,
        )

    def build(self, node: Node, path: KeyPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise self.fail(
                f"more than {MAX_NODES} YAML nodes (alias expansion?); refusing to expand",
                node,
                path,
            )
        if isinstance(node, MappingNode | SequenceNode):
            if node.tag != _COLLECTION_TAGS[type(node)]:
                raise self.unsupported(node, path)
            if any(node is ancestor for ancestor in self.open):
                raise self.fail("a YAML alias refers to a node that contains it", node, path)
            if len(self.open) >= MAX_DEPTH:
                raise self.fail(f"values nest deeper than {MAX_DEPTH} levels", node, path)
            self.open.append(node)
            try:
                return self.build_collection(node, path)
            finally:
                self.open.pop()
        assert isinstance(node, ScalarNode)
        value = self.scalar(node, path)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail("expected a finite number, not NaN or infinity", node, path)
        return value

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        # Checked before constructing: other tags (!!python/..., !!binary, !foo) never run.
        if node.tag not in _SCALAR_TAGS:
            raise self.unsupported(node, path)
        value = _scalar(self.loader, node)
        if not isinstance(value, _SCALAR_TYPES):
            raise self.unsupported(node, path)
        return value

    def unsupported(self, node: Node, path: KeyPath) -> InputError:
        return self.fail(
            f"unsupported YAML type {node.tag!r}: expected a string, number, "
            "boolean, null, list or mapping",
            node,
            path,
        )

    def build_collection(self, node: MappingNode | SequenceNode, path: KeyPath) -> Any:
        if isinstance(node, MappingNode):
            return self.build_mapping(node, path)
        items = []
        for index, item in enumerate(node.value):
            child = (*path, index)
            self.lines[child] = item.start_mark.line + 1
            items.append(self.build(item, child))
        return items

    def build_mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        explicit: set[str] = set()
        merge_line: int | None = None
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                if merge_line is not None:
                    raise self.fail(f"a second merge key '<<' (first on line {merge_line})",
                                    key_node, path)
                merge_line = key_node.start_mark.line + 1
                for key, value in self.merged(value_node, path).items():
                    if key in explicit:
                        raise self.fail(
                            f"key {key!r} is set above the merge key '<<', which replaces it "
                            "(Helm lets the merge win); put '<<' first", key_node, (*path, key))
                    out[key] = value
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail("a mapping key must be a plain scalar", key_node, path)
            key = _key_to_string(self.scalar(key_node, path))
            child = (*path, key)
            if key in explicit:
                first = self.lines.get(child)
                raise self.fail(
                    f"duplicate key {key!r} (first defined on line {first})", key_node, child
                )
            explicit.add(key)
            self.lines[child] = key_node.start_mark.line + 1
            out[key] = self.build(value_node, child)
        return out

    def merged(self, node: Node, path: KeyPath) -> dict[str, Any]:
        """The keys a merge key brings in: of one mapping, or of a list (first one wins)."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        out: dict[str, Any] = {}
        for source in reversed(sources):
            if not isinstance(source, MappingNode):
                raise self.fail("a merge key '<<' needs a mapping or a list of mappings",
                                source, path)
            out.update(self.build(source, path))
        return out


def parse_values(text: str, *, source: str) -> ValuesDocument:
    """Parse one YAML document that must be a mapping (empty means no values)."""
    if _FAST and _nesting_bound(text) <= _FAST_NESTING_LIMIT:
        try:
            return _parse_values_with(_FastHelmLikeLoader, text, source)
        except InputError:
            # Whatever is wrong, the pure-Python reader says it: the same words and lines
            # as always (libyaml words some problems differently).
            pass
    return _parse_values_with(_HelmLikeLoader, text, source)


def _nesting_bound(text: str) -> int:
    """More than the depth YAML TEXT can nest to: a collection starts a line or opens
    with '-', '?', '[' or '{'. libyaml composes recursively in C, where a deep enough
    document overflows the stack; the pure-Python reader turns that into an error."""
    return sum(text.count(c) for c in "\n-?[{") + 1


def _parse_values_with(reader: type[_HelmLikeLoader], text: str,
                       source: str) -> ValuesDocument:
    loader: _HelmLikeLoader | None = None
    try:
        loader = reader(text)
        try:
            node = loader.get_single_node()
        except yaml.composer.ComposerError as e:
            if "expected a single document" in str(e):
                line = e.problem_mark.line + 1 if e.problem_mark else None
                raise InputError.single(
                    "expected a single YAML document, found more than one ('---')",
                    file=source,
                    line=line,
                ) from e
            raise
        if node is None:
            return ValuesDocument({}, source)
        builder = _Builder(loader, source)
        if isinstance(node, ScalarNode) and loader.construct_object(node) is None:
            return ValuesDocument({}, source)
        if not isinstance(node, MappingNode):
            raise builder.fail(
                f"expected a mapping of values at the top level, found {_kind(node)}", node, ()
            )
        data = builder.build(node, ())
        return ValuesDocument(data, source, builder.lines)
    except RecursionError as e:
        # PyYAML composes nested collections recursively, before our depth check can run.
        raise InputError.single(
            f"values nest deeper than {MAX_DEPTH} levels", file=source, line=_line(loader)
        ) from e
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        problem = e.problem or str(e)
        raise InputError.single(f"invalid YAML: {problem}", file=source, line=line) from e
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1
        raise InputError.single(
            f"invalid YAML: the character #x{e.character:04x} cannot appear in YAML text",
            file=source, line=line) from e
    except yaml.YAMLError as e:
        raise InputError.single(f"invalid YAML: {e}", file=source) from e
    finally:
        if loader is not None:
            loader.dispose()


def _line(loader: _HelmLikeLoader | None) -> int | None:
    """The line the pure-Python reader stopped at (libyaml's reader does not say)."""
    line = getattr(loader, "line", None)
    return line + 1 if isinstance(line, int) else None


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the scalar {node.value!r}" if isinstance(node, ScalarNode) else "something else"


def _decode(raw: bytes, source: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError.single(
            f"not UTF-8 text: byte 0x{raw[e.start]:02x} at offset {e.start} cannot be decoded",
            file=source,
            line=line,
        ) from e


def read_values_file(path: str) -> ValuesDocument:
    """Read and parse a values file named on the command line (`-` is standard input)."""
    if path == "-":
        import sys

        raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        source = "<stdin>"
    else:
        source = path
        file = Path(path)
        try:
            if file.is_dir():
                raise InputError.single("is a directory, expected a values file", file=source)
            with file.open("rb") as handle:
                raw = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError as e:
            raise InputError.single("file not found", file=source) from e
        except PermissionError as e:
            raise InputError.single("permission denied: cannot read the file", file=source) from e
        except OSError as e:
            raise InputError.single(f"cannot read the file: {e.strerror}", file=source) from e
    if len(raw) > MAX_FILE_BYTES:
        raise InputError.single(
            f"file is larger than {MAX_FILE_BYTES // 1024} KiB; a Helm release record "
            "cannot hold that much, so it cannot be a real values file",
            file=source,
        )
    return parse_values(_decode(raw, source), source=source)


def read_rendered(text: str) -> list[Any]:
    """Parse rendered manifests the way Helm and the API server read them."""
    loader = _FastHelmLikeLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            try:
                documents.append(_plain_data(loader, node))
            except _NotPlainError:
                documents.append(loader.construct_document(node))
        return documents
    finally:
        loader.dispose()


class _NotPlainError(Exception):
    """A node the quick builder leaves to PyYAML's constructor (merge keys, other tags)."""


def _plain_data(loader: _HelmLikeLoader, node: Node) -> Any:
    """The data of a document of plain maps, lists and scalars, as PyYAML's constructor
    makes it but without its bookkeeping (most of the time of reading rendered objects)."""
    if isinstance(node, ScalarNode):
        if node.tag not in _SCALAR_TAGS:
            raise _NotPlainError
        return _scalar(loader, node)
    if isinstance(node, SequenceNode):
        if node.tag != _SEQ_TAG:
            raise _NotPlainError
        return [_plain_data(loader, item) for item in node.value]
    if node.tag != _MAP_TAG:
        raise _NotPlainError
    out = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
            raise _NotPlainError
        out[_plain_data(loader, key_node)] = _plain_data(loader, value_node)
    return out


def _scalar(loader: _HelmLikeLoader, node: ScalarNode) -> Any:
    """A scalar with one of the plain tags, as the loader's constructors read it."""
    tag = node.tag
    if tag == _STR_TAG:
        return node.value
    if tag == _NULL_TAG:
        return None
    if tag == _BOOL_TAG:
        return loader.bool_values[node.value.lower()]
    return loader.construct_object(node)
