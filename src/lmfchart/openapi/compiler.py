"""Compile the Kubernetes JSON schemas into plain Python checks that answer valid or not.

jsonschema walks a schema afresh for every object (descending, evolving validators,
resolving `$ref`s through the registry), which costs half a millisecond per rendered
object. Here each schema node becomes one closure, once: `$ref`s are resolved at compile
time to the very closure of their target, so every kind of one Kubernetes version shares
the compiled ObjectMeta, PodSpec, ... The verdict is Draft 2020-12's, as jsonschema gives
it without a format checker; what exactly is wrong is still jsonschema's to say.

Only the keywords the shipped schemas use are understood. Any other keyword would be one
this compiler skips while jsonschema checks it, so it stops compilation (exit 4) instead.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin

from lmfchart.base.errors import EXIT_INTERNAL, LmfchartError

Check = Callable[[Any], bool]
Schema = Mapping[str, Any] | bool

# Keywords that only describe: jsonschema checks nothing for them ("format" included, as
# no format checker is given). "x-..." vendor extensions (x-kubernetes-list-type, ...)
# are annotations too: jsonschema never validates an extension keyword.
_ANNOTATIONS = frozenset({"description", "format", "$schema"})
# Keywords whose checks are below; nothing else may occur in a schema.
_CHECKED = frozenset({"type", "enum", "properties", "additionalProperties", "required",
                      "items", "oneOf", "$ref"})
_ROOT_ONLY = frozenset({"$id", "$defs"})
_KNOWN = _CHECKED | _ANNOTATIONS
_KNOWN_AT_ROOT = _KNOWN | _ROOT_ONLY

_CLASSES: dict[str, type] = {
    "string": str, "object": dict, "array": list, "boolean": bool}


class SchemaCompileError(LmfchartError):
    """A schema uses what the compiler does not understand: lmfchart's own bug to fix."""

    exit_code = EXIT_INTERNAL


def _accept(instance: Any) -> bool:
    return True


def _reject(instance: Any) -> bool:
    return False


def _is_integer(instance: Any) -> bool:
    # As jsonschema: a bool is no integer, a float with no fraction (1.0) is one.
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


def _is_number(instance: Any) -> bool:
    return isinstance(instance, numbers.Number) and not isinstance(instance, bool)


class _Later:
    """Stands for a definition still being compiled: only recursive `$ref`s go through it."""

    __slots__ = ("check",)

    def __init__(self) -> None:
        self.check: Check = _accept

    def __call__(self, instance: Any) -> bool:
        return self.check(instance)


class SchemaCompiler:
    """Compiles schemas of one set of documents (by `$id`), sharing every compiled `$ref`
    target between them."""

    def __init__(self, shared: Sequence[Mapping[str, Any]] = ()) -> None:
        self._documents: dict[str, Mapping[str, Any]] = {}
        self._compiled: dict[tuple[str, str], Check] = {}
        self._compiling: dict[tuple[str, str], _Later] = {}
        self._refs: dict[tuple[str, str], str] = {}
        for document in shared:
            self._documents[_document_id(document)] = document

    def compile(self, document: Mapping[str, Any]) -> Check:
        """The check of DOCUMENT, whose `$ref`s may point into itself and into the
        shared documents."""
        uri = _document_id(document)
        self._documents[uri] = document
        return self._target(uri, "")

    def _target(self, uri: str, pointer: str) -> Check:
        key = (uri, pointer)
        found = self._compiled.get(key)
        if found is not None:
            return found
        later = self._compiling.get(key)
        if later is not None:
            return later
        later = self._compiling[key] = _Later()
        try:
            check = self._node(_resolve(self._document(uri), pointer, uri), uri,
                               root=not pointer)
        finally:
            del self._compiling[key]
        later.check = check
        self._compiled[key] = check
        return check

    def _document(self, uri: str) -> Mapping[str, Any]:
        try:
            return self._documents[uri]
        except KeyError:
            raise SchemaCompileError(f"schema $ref to an unknown document {uri!r}") from None

    def _node(self, schema: Schema, base: str, *, root: bool = False) -> Check:
        if schema is True:
            return _accept
        if schema is False:
            return _reject
        if not isinstance(schema, Mapping):
            raise SchemaCompileError(f"unsupported schema {schema!r} in {base}")
        keywords = [k for k in schema if k not in _ANNOTATIONS and not k.startswith("x-")]
        unknown = sorted(k for k in keywords if k not in (_KNOWN_AT_ROOT if root else _KNOWN))
        if unknown:
            raise SchemaCompileError(
                f"schema keyword(s) {', '.join(map(repr, unknown))} in {base} are not "
                "understood by lmfchart's schema compiler")
        # Most nodes are a bare type or a bare $ref: those need no closure of their own.
        if keywords == ["type"]:
            return _type_check(_type_names(schema["type"]))
        if keywords == ["$ref"]:
            return self._target(*self._ref_target(base, str(schema["$ref"])))
        checks: list[Check] = []
        types = _types(schema)
        object_part = self._object_part(schema, base)
        items = self._node(schema["items"], base) if "items" in schema else None
        if object_part is not None and types is not None and types <= {"object", "null"}:
            # The commonest node (a struct or a map, maybe null) in one closure.
            checks.append(_object_or_null(object_part, nullable="null" in types))
        elif items is not None and types is not None and types <= {"array", "null"}:
            checks.append(_list_or_null(items, nullable="null" in types))
        else:
            if types is not None:
                checks.append(_type_check(types))
            if object_part is not None:
                checks.append(_when_object(object_part))
            if items is not None:
                checks.append(_when_list(_every(items)))
        if "enum" in schema:
            checks.append(_enum(schema["enum"], base))
        if "oneOf" in schema:
            checks.append(_one_of([self._node(s, base) for s in schema["oneOf"]]))
        if "$ref" in schema:
            checks.append(self._target(*self._ref_target(base, str(schema["$ref"]))))
        return _all(checks)

    def _ref_target(self, base: str, ref: str) -> tuple[str, str]:
        """(document URI, JSON pointer) of REF in BASE. Thousands of refs name a couple
        of documents: each document part is joined to its base once."""
        document, _, pointer = ref.partition("#")
        key = (base, document)
        uri = self._refs.get(key)
        if uri is None:
            uri = self._refs[key] = urldefrag(urljoin(base, document))[0] if document else base
        return uri, pointer

    def _object_part(self, schema: Mapping[str, Any], base: str) -> Check | None:
        """The check of an object's members (None: the schema says nothing about them)."""
        if not {"properties", "additionalProperties", "required"} & schema.keys():
            return None
        properties = {name: self._node(sub, base)
                      for name, sub in (schema.get("properties") or {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is False else self._node(extra, base)
        return _members(properties, extra_check, frozenset(schema.get("required") or ()))


def _document_id(document: Mapping[str, Any]) -> str:
    uri = document.get("$id")
    if not isinstance(uri, str) or not uri:
        raise SchemaCompileError("a schema document without its $id")
    return urldefrag(uri)[0]


def _resolve(document: Mapping[str, Any], pointer: str, uri: str) -> Schema:
    node: Any = document
    if pointer:
        if not pointer.startswith("/"):
            raise SchemaCompileError(f"unsupported $ref fragment {pointer!r} in {uri}")
        for escaped in pointer[1:].split("/"):
            token = unquote(escaped).replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or token not in node:
                raise SchemaCompileError(f"$ref {uri}#{pointer} points at nothing")
            node = node[token]
    if not isinstance(node, (Mapping, bool)):
        raise SchemaCompileError(f"$ref {uri}#{pointer} is not a schema")
    return node


def _types(schema: Mapping[str, Any]) -> frozenset[str] | None:
    return _type_names(schema["type"]) if "type" in schema else None


def _type_names(given: Any) -> frozenset[str]:
    types = frozenset([given] if isinstance(given, str) else given)
    unknown = types - {*_CLASSES, "integer", "number", "null"}
    if unknown:
        raise SchemaCompileError(f"unknown schema type(s) {sorted(unknown)}")
    return types


@functools.cache
def _type_check(types: frozenset[str]) -> Check:
    classes = tuple(_CLASSES[t] for t in sorted(types & _CLASSES.keys()))
    nullable = "null" in types
    numeric = (_is_number if "number" in types
               else _is_integer if "integer" in types else None)
    if numeric is None:
        if nullable:
            return lambda x: x is None or isinstance(x, classes)
        return lambda x: isinstance(x, classes)
    number_check: Check = numeric

    def check(instance: Any) -> bool:
        if instance is None:
            return nullable
        return isinstance(instance, classes) or number_check(instance)
    return check


def _members(properties: dict[str, Check], extra: Check | None,
             required: frozenset[str]) -> Check:
    """Checks a dict's members: named ones by PROPERTIES, the others by EXTRA (None: none
    may be there), and the REQUIRED names present."""
    get = properties.get

    def check(instance: dict[Any, Any]) -> bool:
        for key, value in instance.items():
            member = get(key)
            if member is None:
                if extra is None or not extra(value):
                    return False
            elif not member(value):
                return False
        return instance.keys() >= required
    return check


def _object_or_null(members: Check, *, nullable: bool) -> Check:
    if nullable:
        return lambda x: members(x) if isinstance(x, dict) else x is None
    return lambda x: isinstance(x, dict) and members(x)


def _when_object(members: Check) -> Check:
    return lambda x: members(x) if isinstance(x, dict) else True


def _every(item: Check) -> Check:
    return lambda instance: all(map(item, instance))


def _list_or_null(item: Check, *, nullable: bool) -> Check:
    every = _every(item)
    if nullable:
        return lambda x: every(x) if isinstance(x, list) else x is None
    return lambda x: isinstance(x, list) and every(x)


def _when_list(every: Check) -> Check:
    return lambda x: every(x) if isinstance(x, list) else True


def _enum(values: Any, base: str) -> Check:
    # The shipped schemas enumerate strings only; jsonschema compares those by ==.
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise SchemaCompileError(f"enum of other than strings in {base}: {values!r}")
    allowed = frozenset(values)
    return lambda x: isinstance(x, str) and x in allowed


def _one_of(choices: list[Check]) -> Check:
    def check(instance: Any) -> bool:
        matched = False
        for choice in choices:
            if choice(instance):
                if matched:
                    return False
                matched = True
        return matched
    return check


def _all(checks: list[Check]) -> Check:
    checks = [c for c in checks if c is not _accept]
    if not checks:
        return _accept
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    return lambda x: all(each(x) for each in checks)
