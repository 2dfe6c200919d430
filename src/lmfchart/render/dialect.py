"""One template source, two renderings.

Chart templates are written once in Jinja with a small vocabulary: expressions (a value
reference, the release name and namespace, the name helpers, eq/and/or/not/printf/default)
and statements (emit a value, a condition, splice a list or map, include a block helper).
`HelmDialect` turns each into Go template text for the chart; `ConcreteDialect` evaluates
it against real values for `template` and `install`. Both serialize every value as JSON,
which YAML reads as one scalar or flow collection, so no value can add or alter objects.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import TemplateError

CHART_NAME = "llama-factory"


@dataclass(frozen=True)
class Scope:
    """What a concrete rendering knows: Helm's .Values, .Release and .Chart."""

    values: Mapping[str, Any]
    release_name: str
    namespace: str
    chart_version: str


def _to_json(value: Any) -> str:
    """JSON as Helm's toJson prints it, in a form YAML reads back unchanged."""
    return json.dumps(_go_numbers(value), ensure_ascii=False, separators=(",", ":"))


def _go_numbers(value: Any) -> Any:
    # Helm holds every number as float64 and prints integral ones without a fraction.
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def _go_truth(value: Any) -> bool:
    return bool(value)


def _go_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<no value>"
    return str(_go_numbers(value))


class Expr(ABC):
    @abstractmethod
    def go(self) -> str:
        """A Go template operand (parenthesized when it is a pipeline)."""

    @abstractmethod
    def eval(self, scope: Scope) -> Any:
        """The value this expression has for real values."""


@dataclass(frozen=True)
class Value(Expr):
    path: str

    def go(self) -> str:
        return "$.Values." + self.path

    def eval(self, scope: Scope) -> Any:
        node: Any = scope.values
        for part in self.path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                raise TemplateError(f"template refers to missing value {self.path!r}")
            node = node[part]
        return node


@dataclass(frozen=True)
class Literal(Expr):
    value: str

    def go(self) -> str:
        return json.dumps(self.value)

    def eval(self, scope: Scope) -> Any:
        return self.value


@dataclass(frozen=True)
class Builtin(Expr):
    """Helm's built-in objects."""

    go_name: str
    read: Callable[[Scope], Any]

    def go(self) -> str:
        return self.go_name

    def eval(self, scope: Scope) -> Any:
        return self.read(scope)


@dataclass(frozen=True)
class Call(Expr):
    """A Go template function call with its Python meaning."""

    name: str
    args: tuple[Expr, ...]
    meaning: Callable[..., Any]

    def go(self) -> str:
        return "(" + " ".join([self.name, *(a.go() for a in self.args)]) + ")"

    def eval(self, scope: Scope) -> Any:
        return self.meaning(*(a.eval(scope) for a in self.args))


@dataclass(frozen=True)
class Include(Expr):
    """A named helper: `include` in the chart, its definition evaluated otherwise."""

    name: str
    definition: Expr

    def go(self) -> str:
        return f'(include "{CHART_NAME}.{self.name}" $)'

    def eval(self, scope: Scope) -> Any:
        return self.definition.eval(scope)


def lit(value: str | Expr) -> Expr:
    return value if isinstance(value, Expr) else Literal(value)


def eq(a: Expr | str, b: Expr | str) -> Expr:
    return Call("eq", (lit(a), lit(b)), lambda x, y: x == y)


def ne(a: Expr | str, b: Expr | str) -> Expr:
    return Call("ne", (lit(a), lit(b)), lambda x, y: x != y)


def _and(*xs: Any) -> Any:
    for x in xs[:-1]:
        if not _go_truth(x):
            return x
    return xs[-1]


def _or(*xs: Any) -> Any:
    for x in xs[:-1]:
        if _go_truth(x):
            return x
    return xs[-1]


def and_(*args: Expr) -> Expr:
    return Call("and", args, _and)


def or_(*args: Expr) -> Expr:
    return Call("or", args, _or)


def not_(a: Expr) -> Expr:
    return Call("not", (a,), lambda x: not _go_truth(x))


def printf(template: str, *args: Expr | str) -> Expr:
    if template.count("%s") != len(args) or "%" in template.replace("%s", ""):
        raise TemplateError(f"printf template {template!r} takes only %s, once per argument")
    return Call(
        "printf", (Literal(template), *map(lit, args)),
        lambda fmt, *xs: fmt % tuple(_go_string(x) for x in xs),
    )


def default(fallback: Expr | str, value: Expr) -> Expr:
    """Sprig's `default FALLBACK VALUE`: VALUE unless it is empty."""
    return Call("default", (lit(fallback), value), lambda f, x: x if _go_truth(x) else f)


def trunc63(value: Expr) -> Expr:
    """Kubernetes names stop at 63 characters and must not end in '-'."""
    inner = Call("trunc", (Builtin("63", lambda s: 63), value), lambda n, s: str(s)[:n])
    return Call("trimSuffix", (Literal("-"), inner), lambda suffix, s: s.removesuffix(suffix))


RELEASE_NAME = Builtin("$.Release.Name", lambda s: s.release_name)
NAMESPACE = Builtin("$.Release.Namespace", lambda s: s.namespace)
RELEASE_SERVICE = Builtin("$.Release.Service", lambda s: "Helm")
CHART_VERSION = Builtin("$.Chart.Version", lambda s: s.chart_version)
CHART_NAME_EXPR = Builtin("$.Chart.Name", lambda s: CHART_NAME)

FULLNAME = Include(
    "fullname",
    trunc63(default(printf(f"%s-{CHART_NAME}", RELEASE_NAME), Value("fullnameOverride"))),
)
CHART_LABEL = Include(
    "chart",
    trunc63(Call(
        "replace", (Literal("+"), Literal("_"), printf("%s-%s", CHART_NAME_EXPR, CHART_VERSION)),
        lambda old, new, s: s.replace(old, new),
    )),
)
SCALAR_HELPERS = (FULLNAME, CHART_LABEL)


Body = Callable[[], str]


class Dialect(ABC):
    """The statements templates use; expressions are shared by both dialects."""

    def namespace(self) -> dict[str, Any]:
        return {
            "v": Value, "eq": eq, "ne": ne, "and_": and_, "or_": or_, "not_": not_,
            "printf": printf, "default": default, "trunc63": trunc63,
            "release_name": RELEASE_NAME, "namespace": NAMESPACE,
            "release_service": RELEASE_SERVICE, "fullname": FULLNAME, "chart_label": CHART_LABEL,
            "emit": self.emit, "text": self.text, "when": self.when, "unless": self.unless,
            "splice_list": self.splice_list, "splice_map": self.splice_map,
            "splice_pairs": self.splice_pairs, "include_block": self.include_block,
            "helm": isinstance(self, HelmDialect),
        }

    @abstractmethod
    def emit(self, expr: Expr) -> str: ...

    @abstractmethod
    def text(self, expr: Expr) -> str: ...

    @abstractmethod
    def when(self, cond: Expr, caller: Body) -> str: ...

    def unless(self, cond: Expr, caller: Body) -> str:
        return self.when(not_(cond), caller)

    @abstractmethod
    def splice_list(self, items: Expr, indent: int) -> str:
        """Items of a list value as block-sequence entries at `indent`."""

    @abstractmethod
    def splice_map(self, entries: Expr, indent: int) -> str:
        """Entries of a map value as block-mapping entries at `indent`."""

    @abstractmethod
    def splice_pairs(self, entries: Expr, indent: int, key: str, value: str) -> str:
        """Entries of a map value as `- {key: K, value: V}` items (env lists)."""

    @abstractmethod
    def include_block(self, name: str, indent: int) -> str: ...


class HelmDialect(Dialect):
    def emit(self, expr: Expr) -> str:
        return "{{ " + expr.go() + " | toJson }}"

    def text(self, expr: Expr) -> str:
        return "{{ " + expr.go() + " }}"

    def when(self, cond: Expr, caller: Body) -> str:
        return "{{- if " + cond.go() + " }}\n" + caller() + "{{- end }}\n"

    def splice_list(self, items: Expr, indent: int) -> str:
        pad = " " * indent
        return "{{- range $item := " + items.go() + " }}\n" + pad + "- {{ toJson $item }}{{- end }}"

    def splice_map(self, entries: Expr, indent: int) -> str:
        pad = " " * indent
        return (
            "{{- range $key, $value := " + entries.go() + " }}\n"
            + pad + "{{ toJson $key }}: {{ toJson $value }}{{- end }}"
        )

    def splice_pairs(self, entries: Expr, indent: int, key: str, value: str) -> str:
        pad = " " * indent
        return (
            "{{- range $key, $value := " + entries.go() + " }}\n"
            + f"{pad}- {key}: {{{{ toJson $key }}}}\n"
            + f"{pad}  {value}: {{{{ toJson $value }}}}{{{{- end }}}}"
        )

    def include_block(self, name: str, indent: int) -> str:
        helper = f"{CHART_NAME}.{name}"
        return '{{- include "' + helper + '" $ | trim | nindent ' + str(indent) + " }}"


class ConcreteDialect(Dialect):
    def __init__(self, scope: Scope, blocks: Callable[[str], str]) -> None:
        self.scope = scope
        self.blocks = blocks

    def emit(self, expr: Expr) -> str:
        return _to_json(expr.eval(self.scope))

    def text(self, expr: Expr) -> str:
        return _go_string(expr.eval(self.scope))

    def when(self, cond: Expr, caller: Body) -> str:
        return caller() if _go_truth(cond.eval(self.scope)) else ""

    def splice_list(self, items: Expr, indent: int) -> str:
        pad = " " * indent
        return "".join(f"\n{pad}- {_to_json(item)}" for item in items.eval(self.scope) or [])

    def splice_map(self, entries: Expr, indent: int) -> str:
        pad = " " * indent
        found = entries.eval(self.scope) or {}
        return "".join(f"\n{pad}{_to_json(k)}: {_to_json(found[k])}" for k in sorted(found))

    def splice_pairs(self, entries: Expr, indent: int, key: str, value: str) -> str:
        pad = " " * indent
        found = entries.eval(self.scope) or {}
        return "".join(
            f"\n{pad}- {key}: {_to_json(k)}\n{pad}  {value}: {_to_json(found[k])}"
            for k in sorted(found)
        )

    def include_block(self, name: str, indent: int) -> str:
        pad = " " * indent
        body = self.blocks(name).strip("\n")
        return "".join(f"\n{pad}{line}" for line in body.split("\n") if line.strip())
