"""Expressions over the values, with two meanings: Go template text and a Python value.

A chart template and a cross-check both say things like "storage.data.type is hostPath and
storage.data.hostPath is empty". Written once as an `Expr`, the same statement becomes Go
template text for the chart (`go()`) and is evaluated against real values (`eval()`).

Expressions exist while templates render; they are not values. Asking one for its truth,
its text, its length or its items is a mistake in a template (`{% if v("x") %}` would always
be true), so every such use raises `TemplateError`. Every `v("...")` path is checked against
the values model when it is written, so a misspelt or renamed key fails at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import decimal
import functools
import hashlib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, UnionType
from typing import Any, NoReturn, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from lmfchart.base.errors import TemplateError
from lmfchart.model import formats
from lmfchart.model.values import Values


@dataclass(frozen=True)
class Scope:
    """What a concrete evaluation knows: Helm's .Values, .Release and .Chart, and the
    variables of an enclosing `range` (see `Binding`)."""

    values: Mapping[str, Any]
    release_name: str = ""
    namespace: str = ""
    chart_version: str = ""
    bindings: Mapping[str, Any] = field(default_factory=dict)


def go_numbers(value: Any) -> Any:
    """Helm holds every number as float64 and prints integral ones without a fraction."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [go_numbers(v) for v in value]
    return value


def go_truth(value: Any) -> bool:
    """Go templates' truth: false, 0, "", nil and empty collections are false."""
    return bool(value)


def go_string(value: Any) -> str:
    """A value as Go's fmt `%v` prints it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<no value>"
    return str(go_numbers(value))


def _go_float(number: float) -> str:
    """A float as Go's encoding/json writes it: positional between 1e-6 and 1e21."""
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    if 1e-6 <= abs(number) < 1e21:
        return format(decimal.Decimal(repr(number)), "f")
    text = repr(number)
    return re.sub(r"e-0(\d)$", r"e-\1", text)


_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                    "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_HTML = re.compile("[<>&\u2028\u2029]")
# json.dumps(text, ensure_ascii=False) without building an encoder on every call.
_json_string: Callable[[str], str] = json.encoder.encode_basestring


def go_json(value: Any) -> str:
    """Exactly the text Helm's toJson (Go's encoding/json) writes: map keys sorted, HTML
    characters escaped, floats in Go's notation. Text inside a string (a config file in a
    ConfigMap) and content hashes must match Helm's byte for byte."""
    if isinstance(value, str):
        text = _json_string(value)
        return _GO_HTML.sub(_go_html_escape, text) if _GO_HTML.search(text) else text
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Mapping):
        # Go sorts keys by their UTF-8 bytes: for text keys that is Python's own order.
        keys = (sorted(value) if all(type(k) is str for k in value)
                else sorted(value, key=lambda k: str(k).encode()))
        return "{" + ",".join([go_json(str(k)) + ":" + go_json(value[k]) for k in keys]) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join([go_json(item) for item in value]) + "]"
    raise TemplateError(f"cannot write {value!r} as JSON")


def _go_html_escape(match: re.Match[str]) -> str:
    return _GO_HTML_ESCAPES[match.group()]


def _refuse(expr: Expr, use: str, instead: str) -> NoReturn:
    raise TemplateError(f"{expr.describe()} is a template expression, not a value: {use} it "
                        f"only through {instead}")


class Expr(ABC):
    """A Go template operand and its Python meaning; never a value itself."""

    @abstractmethod
    def go(self) -> str:
        """A Go template operand (parenthesized when it is a pipeline)."""

    @abstractmethod
    def eval(self, scope: Scope) -> Any:
        """The value this expression has for real values."""

    def describe(self) -> str:
        return self.go()

    # Jinja would otherwise print a repr, or take every expression as true. These only raise.
    def __bool__(self) -> bool:  # noqa: PLE0304
        _refuse(self, "test", "when(...), unless(...), and_/or_/not_")

    def __str__(self) -> str:  # noqa: PLE0307
        _refuse(self, "print", "emit(...) or text(...)")

    def __format__(self, spec: str) -> str:
        _refuse(self, "format", "printf(...) with emit(...) or text(...)")

    def __iter__(self) -> NoReturn:
        _refuse(self, "iterate", "splice_list/splice_map/splice_pairs")

    def __len__(self) -> int:  # noqa: PLE0303
        _refuse(self, "measure", "when(...) (an empty value is false)")

    def __eq__(self, other: object) -> bool:
        _refuse(self, "compare", "eq(...) or ne(...)")

    def __ne__(self, other: object) -> bool:
        _refuse(self, "compare", "eq(...) or ne(...)")

    __hash__ = object.__hash__


def entry_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a map's entries, for `dict[str, Model]` (train runs, exports)."""
    if get_origin(annotation) is dict:
        entry = get_args(annotation)[1]
        if isinstance(entry, type) and issubclass(entry, BaseModel):
            return entry
    return None


def _section(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) in (Union, UnionType):
        return None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


@functools.cache
def value_paths() -> frozenset[str]:
    """Every dotted path the values model has; maps with free keys end a path, and the
    entries of a map of sections are `MAP.*.KEY` (`train.*.lora.rank`)."""
    paths: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            paths.add(prefix + name)
            section = _section(info.annotation)
            entry = entry_model(info.annotation)
            if section is not None:
                walk(section, f"{prefix}{name}.")
            elif entry is not None:
                paths.add(f"{prefix}{name}.*")
                walk(entry, f"{prefix}{name}.*.")

    walk(Values, "")
    return frozenset(paths)


@functools.cache
def map_entry_model(path: str) -> type[BaseModel]:
    """The entry model of the map of sections at `path` (`train` -> TrainRun)."""
    node: type[BaseModel] = Values
    parts = path.split(".")
    for i, part in enumerate(parts):
        info = node.model_fields.get(part)
        if info is None:
            break
        if i == len(parts) - 1:
            entry = entry_model(info.annotation)
            if entry is not None:
                return entry
            break
        section = _section(info.annotation)
        if section is None:
            break
        node = section
    raise TemplateError(f"{path} is not a map of sections: a range binds only those")


def check_value_path(path: str) -> None:
    if path in value_paths():
        return
    parts = path.split(".")
    known = [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)
             if ".".join(parts[:n]) in value_paths()]
    if known and not any(p.startswith(known[0] + ".") for p in value_paths()):
        hint = f" ({known[0]} is read whole: the model has no keys below it)"
    else:
        hint = formats.did_you_mean(path, value_paths())
    raise TemplateError(f'v("{path}"): the values model has no key {path}{hint}')


@dataclass(frozen=True, eq=False)
class Value(Expr):
    path: str

    def __post_init__(self) -> None:
        check_value_path(self.path)

    def go(self) -> str:
        return "$.Values." + self.path

    def describe(self) -> str:
        return f'v("{self.path}")'

    def eval(self, scope: Scope) -> Any:
        node: Any = scope.values
        try:
            for part in self.path.split("."):
                node = node[part]
        except (KeyError, TypeError, IndexError):
            # A missing key, or a key under a scalar or a list.
            raise TemplateError(f"template refers to missing value {self.path!r}") from None
        return node


@dataclass(frozen=True, eq=False)
class Literal(Expr):
    value: str

    def go(self) -> str:
        return json.dumps(self.value)

    def eval(self, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True, eq=False)
class Builtin(Expr):
    """Helm's built-in objects."""

    go_name: str
    read: Callable[[Scope], Any]

    def go(self) -> str:
        return self.go_name

    def eval(self, scope: Scope) -> Any:
        return self.read(scope)


@dataclass(frozen=True, eq=False)
class Binding(Expr):
    """A variable of an enclosing `range` ($key, $value)."""

    name: str

    def go(self) -> str:
        return "$" + self.name

    def eval(self, scope: Scope) -> Any:
        return scope.bindings[self.name]


# The ranges open while a template renders: binding name -> the map it ranges over.
_open_ranges: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "open_ranges", default=MappingProxyType({}))


@contextlib.contextmanager
def ranging(binding: str, map_path: str) -> Iterator[None]:
    """Within this block `v("@BINDING.key")` reads a key of the map's current entry."""
    token = _open_ranges.set({**_open_ranges.get(), binding: map_path})
    try:
        yield
    finally:
        _open_ranges.reset(token)


@dataclass(frozen=True, eq=False)
class EntryValue(Expr):
    """A key of the entry an enclosing range binds: `$run.lora.rank` for `@run.lora.rank`.

    The path is checked against the entry's model (`train.*.lora.rank`); the range has
    already filled in the entry's defaults (see `normalized`)."""

    binding: str
    map_path: str
    path: str = ""

    def __post_init__(self) -> None:
        check_value_path(f"{self.map_path}.*" + (f".{self.path}" if self.path else ""))

    def go(self) -> str:
        return "$" + self.binding + (f".{self.path}" if self.path else "")

    def describe(self) -> str:
        return f'v("@{self.binding}' + (f".{self.path}" if self.path else "") + '")'

    def eval(self, scope: Scope) -> Any:
        node: Any = scope.bindings[self.binding]
        for part in self.path.split(".") if self.path else ():
            node = node[part]
        return node


def value(path: str) -> Expr:
    """`v(...)` in templates: a values key, or `@BINDING.key` inside a range."""
    if not path.startswith("@"):
        return Value(path)
    binding, _, rest = path[1:].partition(".")
    ranges = _open_ranges.get()
    if binding not in ranges:
        raise TemplateError(f'v("{path}"): no enclosing range binds @{binding}')
    return EntryValue(binding, ranges[binding], rest)


def go_literal(value: Any) -> str:
    """A Go template operand that evaluates to `value` (a field's default)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # Helm holds every number of the values as float64, and Go's comparisons refuse
        # to compare an int with a float64: defaults are float64 too.
        return repr(float(value))
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "(list" + "".join(" " + go_literal(item) for item in value) + ")"
    if isinstance(value, dict):
        return "(dict" + "".join(f" {json.dumps(k)} {go_literal(v)}"
                                 for k, v in sorted(value.items())) + ")"
    raise TemplateError(f"no Go literal for {value!r}")


def _field_default(info: Any) -> Any:
    made = info.default_factory() if info.default_factory is not None else info.default
    if isinstance(made, BaseModel):
        return made.model_dump(mode="json")
    return None if made is PydanticUndefined else made


def _complete(raw: str, model: type[BaseModel], keys: tuple[str, ...]) -> str:
    parts: list[str] = []
    for name, info in model.model_fields.items():
        section = _section(info.annotation)
        if section is not None:
            parts.append(f'"{name}" ' + _complete(raw, section, (*keys, name)))
            continue
        path = " ".join(json.dumps(k) for k in (*keys, name))
        parts.append(f'"{name}" (dig {path} {go_literal(_field_default(info))} {raw})')
    return "(dict " + " ".join(parts) + ")"


@dataclass(frozen=True, eq=False)
class Normalized(Expr):
    """A map entry with every key its model has, defaults filled in.

    Helm fills defaults from values.yaml, which cannot know the entries of a map a user
    adds (`train.my-run`), so the chart completes each entry itself with Sprig's `dig`.
    lmfchart's own values are complete already: the model filled them in."""

    raw: Expr
    model: type[BaseModel]

    def go(self) -> str:
        return _complete(self.raw.go(), self.model, ())

    def eval(self, scope: Scope) -> Any:
        return self.raw.eval(scope)


@dataclass(frozen=True, eq=False)
class ContentHash(Expr):
    """Eight hex digits of the sha256 of Helm's toJson of the parts."""

    parts: tuple[Expr, ...]

    def go(self) -> str:
        listed = "(list " + " ".join(p.go() for p in self.parts) + ")"
        return f"(trunc 8 (sha256sum (toJson {listed})))"

    def eval(self, scope: Scope) -> Any:
        text = go_json([p.eval(scope) for p in self.parts])
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A Go template function call with its Python meaning."""

    name: str
    args: tuple[Expr, ...]
    meaning: Callable[..., Any]

    def go(self) -> str:
        return "(" + " ".join([self.name, *(a.go() for a in self.args)]) + ")"

    def eval(self, scope: Scope) -> Any:
        return self.meaning(*[a.eval(scope) for a in self.args])


def entry_key(binding: str) -> Expr:
    """The key of the entry an enclosing range binds (`$runName`: the run's name)."""
    return Binding(binding + "Name")


# Helm's built-in objects the templates and the chart's variables read.
RELEASE_NAME = Builtin("$.Release.Name", lambda s: s.release_name)
NAMESPACE = Builtin("$.Release.Namespace", lambda s: s.namespace)


def lit(value: str | Expr) -> Expr:
    return value if isinstance(value, Expr) else Literal(value)


def eq(a: Expr | str, b: Expr | str) -> Expr:
    return Call("eq", (lit(a), lit(b)), lambda x, y: x == y)


def ne(a: Expr | str, b: Expr | str) -> Expr:
    return Call("ne", (lit(a), lit(b)), lambda x, y: x != y)


@dataclass(frozen=True, eq=False)
class Logic(Expr):
    """Go's `and`/`or`: the first operand that decides, later ones left unevaluated."""

    name: str
    args: tuple[Expr, ...]

    def go(self) -> str:
        return "(" + " ".join([self.name, *(a.go() for a in self.args)]) + ")"

    def eval(self, scope: Scope) -> Any:
        stop_on = self.name == "or"
        found: Any = None
        for arg in self.args:
            found = arg.eval(scope)
            if go_truth(found) == stop_on:
                return found
        return found


def and_(*args: Expr) -> Expr:
    return Logic("and", args)


def or_(*args: Expr) -> Expr:
    return Logic("or", args)


def not_(a: Expr) -> Expr:
    return Call("not", (a,), lambda x: not go_truth(x))


def printf(template: str, *args: Expr | str) -> Expr:
    """Go's printf with `%s` (strings) and `%v` (numbers too), once per argument."""
    verbs = template.count("%s") + template.count("%v")
    if verbs != len(args) or "%" in template.replace("%s", "").replace("%v", ""):
        raise TemplateError(f"printf template {template!r} takes only %s and %v, "
                            "once per argument")
    return Call(
        "printf", (Literal(template), *map(lit, args)),
        lambda fmt, *xs: fmt.replace("%v", "%s") % tuple(go_string(x) for x in xs),
    )


def default(fallback: Expr | str, value: Expr) -> Expr:
    """Sprig's `default FALLBACK VALUE`: VALUE unless it is empty."""
    return Call("default", (lit(fallback), value), lambda f, x: x if go_truth(x) else f)


def has_key(mapping: Expr, key: Expr | str) -> Expr:
    return Call("hasKey", (mapping, lit(key)), lambda m, k: k in (m or {}))


def has_suffix(suffix: str, text: Expr) -> Expr:
    return Call("hasSuffix", (Literal(suffix), text), lambda s, t: str(t).endswith(s))


def index(mapping: Expr, key: Expr | str) -> Expr:
    return Call("index", (mapping, lit(key)), lambda m, k: (m or {}).get(k))


def trim_slashes(path: Expr) -> Expr:
    """A path without leading and trailing '/': equal for /a/b and /a/b/."""
    return Call("trimAll", (Literal("/"), path), lambda cut, p: str(p).strip(cut))


def gt(a: Expr, b: Expr) -> Expr:
    return Call("gt", (a, b), lambda x, y: x > y)


@dataclass(frozen=True, eq=False)
class AnyText(Expr):
    """Whether a key or string anywhere in the values holds a match of a character class:
    Go searches the values printed with %v, Python walks them."""

    python: re.Pattern[str]
    go_class: str

    def go(self) -> str:
        return f'(regexMatch {json.dumps(self.go_class)} (printf "%v" $.Values))'

    def eval(self, scope: Scope) -> Any:
        return any(self.python.search(text) for text in _texts(scope.values))


def _texts(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


def join(separator: str, items: Expr) -> Expr:
    return Call("join", (Literal(separator), items),
                lambda sep, xs: sep.join(go_string(x) for x in xs or []))


def has(item: Expr | str, items: Expr) -> Expr:
    """Sprig's `has ITEM LIST`."""
    return Call("has", (lit(item), items), lambda x, xs: x in (xs or []))


def has_prefix(prefix: str, text: Expr) -> Expr:
    return Call("hasPrefix", (Literal(prefix), text), lambda p, t: str(t).startswith(p))


def path_join(base: Expr, relative: Expr) -> Expr:
    """A folder below a mount path, without doubled slashes."""
    trimmed = Call("trimSuffix", (Literal("/"), base), lambda cut, b: str(b).removesuffix(cut))
    return printf("%s/%s", trimmed, relative)


def num(number: float) -> Expr:
    """A number operand, float64 like every number Helm reads from values."""
    return Builtin(go_literal(number), lambda scope: number)


def as_int(number: Expr) -> Expr:
    """An integer for text (env values): Go prints a float64 million as 1e+06."""
    return Call("int", (number,), int)


def to_json(value: Expr) -> Expr:
    """The value as JSON text (a file in a ConfigMap)."""
    return Call("toJson", (value,), go_json)


def is_number(value: Expr) -> Expr:
    """Whether an optional number is set (0 is a value, null is not)."""
    return Call("kindIs", (Literal("float64"), value),
                lambda kind, x: isinstance(x, int | float) and not isinstance(x, bool))


def minus(a: Expr, b: int) -> Expr:
    """An integer difference (replica counts)."""
    return Call("sub", (Call("int", (a,), int), Builtin(str(b), lambda s: b)),
                lambda x, y: x - y)


def truncated(length: int, name: Expr) -> Expr:
    """A name cut to `length` characters, never ending in '-'."""
    inner = Call("trunc", (Builtin(str(length), lambda s: length), name),
                 lambda n, s: str(s)[:n])
    return Call("trimSuffix", (Literal("-"), inner), lambda suffix, s: s.removesuffix(suffix))
