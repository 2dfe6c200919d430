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

import difflib
import functools
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from pydantic import BaseModel

from lmfchart.base.errors import TemplateError
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


@functools.cache
def value_paths() -> frozenset[str]:
    """Every dotted path the values model has; maps with free keys end a path."""
    paths: set[str] = set()

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, info in model.model_fields.items():
            paths.add(prefix + name)
            if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
                walk(info.annotation, f"{prefix}{name}.")

    walk(Values, "")
    return frozenset(paths)


def check_value_path(path: str) -> None:
    if path in value_paths():
        return
    parts = path.split(".")
    known = [".".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)
             if ".".join(parts[:n]) in value_paths()]
    close = difflib.get_close_matches(path, value_paths(), n=1)
    if known and not any(p.startswith(known[0] + ".") for p in value_paths()):
        hint = f" ({known[0]} is read whole: the model has no keys below it)"
    else:
        hint = f" (did you mean {close[0]!r}?)" if close else ""
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
        for part in self.path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise TemplateError(f"template refers to missing value {self.path!r}")
            node = node[part]
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


@dataclass(frozen=True, eq=False)
class Call(Expr):
    """A Go template function call with its Python meaning."""

    name: str
    args: tuple[Expr, ...]
    meaning: Callable[..., Any]

    def go(self) -> str:
        return "(" + " ".join([self.name, *(a.go() for a in self.args)]) + ")"

    def eval(self, scope: Scope) -> Any:
        return self.meaning(*(a.eval(scope) for a in self.args))


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
