"""One template source, two renderings.

Chart templates are written once in Jinja with a small vocabulary: expressions (a value
reference, the release name and namespace, the name helpers, eq/and/or/not/printf/default;
their core, shared with the cross-checks, is `lmfchart.model.expr`) and statements (emit a
value, a condition, splice a list or map, include a block helper, guard a rule).
`HelmDialect` turns each into Go template text for the chart; `ConcreteDialect` evaluates
it against real values for `template`. Both serialize every value as JSON, which YAML
reads as one scalar or flow collection, so no value can add or alter objects.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import TemplateError
from lmfchart.model.chartenv import CHART_VARIABLES
from lmfchart.model.crosschecks import Rule, violations, volume_in_use, volume_is
from lmfchart.model.expr import (
    NAMESPACE,
    RELEASE_NAME,
    Binding,
    Builtin,
    Call,
    ContentHash,
    Expr,
    Literal,
    Normalized,
    Scope,
    Value,
    and_,
    as_int,
    default,
    entry_key,
    eq,
    go_json,
    go_string,
    go_truth,
    gt,
    has,
    is_number,
    join,
    map_entry_model,
    minus,
    ne,
    not_,
    num,
    or_,
    path_join,
    printf,
    ranging,
    to_json,
    truncated,
    value,
)
from lmfchart.model.names import CHART_NAME

__all__ = ["CHART_NAME", "Expr", "Scope", "Value"]


def _to_json(value: Any) -> str:
    """JSON exactly as Helm's toJson prints it; YAML reads it back unchanged."""
    return go_json(value)


def _normalized_entry(each: Expr, raw: Expr) -> Expr:
    """The entry of a map of sections with its defaults, or the raw entry of a plain map."""
    if isinstance(each, Value):
        try:
            return Normalized(raw, map_entry_model(each.path))
        except TemplateError:
            return raw
    return raw


@dataclass(frozen=True, eq=False)
class Include(Expr):
    """A named helper: `include` in the chart, its definition evaluated otherwise."""

    name: str
    definition: Expr

    def go(self) -> str:
        return f'(include "{CHART_NAME}.{self.name}" $)'

    def eval(self, scope: Scope) -> Any:
        return self.definition.eval(scope)


def trunc63(value: Expr) -> Expr:
    """Kubernetes names stop at 63 characters and must not end in '-'."""
    return truncated(63, value)


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
# The seed's form <release>.<domain>, unless ingress.host names the host outright.
INGRESS_HOST = default(
    printf("%s.%s", RELEASE_NAME, Value("ingress.domain")), Value("ingress.host")
)


def kebab(name: str) -> str:
    """A values key as a Kubernetes name part: hfCache -> hf-cache."""
    return "".join("-" + c.lower() if c.isupper() else c for c in name)


def claim_name(volume: str) -> Expr:
    """The PersistentVolumeClaim the chart makes for a volume of type pvc."""
    return printf("%s-" + kebab(volume), FULLNAME)


def _failure(rule: Rule) -> Expr:
    """`KEY: MESSAGE`, as the chart's `fail` says it."""
    key = ".".join("%s" if isinstance(part, Expr) else part for part in rule.key)
    dynamic = [part for part in rule.key if isinstance(part, Expr)]
    if not rule.key:
        return rule.message
    if not dynamic and isinstance(rule.message, Literal):
        return Literal(f"{key}: {rule.message.value}")
    return printf("%s: %s", printf(key, *dynamic) if dynamic else Literal(key), rule.message)


Body = Callable[[], str]


class Dialect(ABC):
    """The statements templates use; expressions are shared by both dialects."""

    def namespace(self) -> dict[str, Any]:
        return {
            "v": value, "eq": eq, "join": join, "has": has, "num": num, "as_int": as_int,
            "path_join": path_join, "content_hash": lambda *parts: ContentHash(parts),
            "entry_key": entry_key, "each": self.each,
            "let": self.let, "var": Binding, "to_json": to_json, "is_number": is_number,
            "minus": minus, "truncated": truncated, "gt": gt, "ne": ne, "and_": and_,
            "or_": or_, "not_": not_,
            "printf": printf, "default": default, "trunc63": trunc63,
            "release_name": RELEASE_NAME, "namespace": NAMESPACE,
            "release_service": RELEASE_SERVICE, "fullname": FULLNAME, "chart_label": CHART_LABEL,
            "emit": self.emit, "text": self.text, "when": self.when, "unless": self.unless,
            "splice_list": self.splice_list, "splice_map": self.splice_map,
            "splice_pairs": self.splice_pairs, "include_block": self.include_block,
            "ingress_host": INGRESS_HOST, "claim_name": claim_name, "kebab": kebab,
            "volume_in_use": volume_in_use, "volume_is": volume_is,
            "chart_variables": CHART_VARIABLES, "guard": self.guard,
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

    @abstractmethod
    def let(self, name: str, expr: Expr) -> str:
        """Name a value for the rest of the enclosing range: `var(name)` reads it."""

    @abstractmethod
    def each(self, map_path: str, binding: str, caller: Body) -> str:
        """The body once per entry of a map of sections, in key order, with the entry
        (defaults filled in) as `v("@BINDING...")` and its key as `entry_key(BINDING)`."""

    @abstractmethod
    def guard(self, rule: Rule) -> str:
        """Refuse values that break `rule`, with its message."""


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

    def guard(self, rule: Rule) -> str:
        check = ("{{- if " + rule.broken.go() + " }}\n"
                 "{{- fail " + _failure(rule).go() + " }}\n{{- end }}\n")
        if rule.each is None:
            return check
        entry = _normalized_entry(rule.each, Binding("raw"))
        if not isinstance(entry, Normalized):
            return ("{{- range $key, $value := " + rule.each.go() + " }}\n" + check
                    + "{{- end }}\n")
        return ("{{- range $key, $raw := " + rule.each.go() + " }}\n"
                "{{- $value := " + entry.go() + " }}\n" + check + "{{- end }}\n")

    def let(self, name: str, expr: Expr) -> str:
        return "{{- $" + name + " := " + expr.go() + " }}"

    def each(self, map_path: str, binding: str, caller: Body) -> str:
        raw = Binding(binding + "Raw")
        entry = Normalized(raw, map_entry_model(map_path))
        with ranging(binding, map_path):
            body = caller()
        return ("{{- range $" + binding + "Name, " + raw.go() + " := " + Value(map_path).go()
                + " }}\n{{- $" + binding + " := " + entry.go() + " }}\n" + body + "{{- end }}\n")


class ConcreteDialect(Dialect):
    def __init__(self, scope: Scope, blocks: Callable[[str], str]) -> None:
        self.scope = scope
        self.blocks = blocks

    def emit(self, expr: Expr) -> str:
        return _to_json(expr.eval(self.scope))

    def text(self, expr: Expr) -> str:
        return go_string(expr.eval(self.scope))

    def when(self, cond: Expr, caller: Body) -> str:
        return caller() if go_truth(cond.eval(self.scope)) else ""

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

    def let(self, name: str, expr: Expr) -> str:
        found = expr.eval(self.scope)
        self.scope = dataclasses.replace(
            self.scope, bindings={**self.scope.bindings, name: found})
        return ""

    def each(self, map_path: str, binding: str, caller: Body) -> str:
        map_entry_model(map_path)
        found = Value(map_path).eval(self.scope) or {}
        outer = self.scope
        parts: list[str] = []
        try:
            with ranging(binding, map_path):
                for key in sorted(found):
                    bindings = {**outer.bindings, binding: found[key], binding + "Name": key}
                    self.scope = dataclasses.replace(outer, bindings=bindings)
                    parts.append(caller())
        finally:
            self.scope = outer
        return "".join(parts)

    def guard(self, rule: Rule) -> str:
        # load_values already refused such values; reaching this is a bug in lmfchart.
        for at in violations(rule, self.scope):
            raise TemplateError(go_string(_failure(rule).eval(at)))
        return ""
