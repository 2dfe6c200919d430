"""Kubernetes quantities as numbers, in Python and as a Go template helper, from one table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lmfchart.model.expr import Expr, Scope
from lmfchart.model.names import CHART_NAME

SCALES: dict[str, Decimal] = {
    "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30), "Ti": Decimal(2**40),
    "Pi": Decimal(2**50), "Ei": Decimal(2**60),
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10**3),
    "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
    "E": Decimal(10**18),
}
HELPER = "quantity"


def quantity_value(quantity: str | int | float) -> Decimal:
    """The number a (format-checked) Kubernetes quantity stands for."""
    text = str(quantity)
    # Binary suffixes end in "i", which no decimal suffix is: at most one suffix matches.
    for suffix, scale in SCALES.items():
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * scale
    return Decimal(text)


def go_helper() -> str:
    """The same computation as a named Go template helper (floats: exact enough to compare)."""
    scales = " ".join(f'"{suffix}" {float(scale)!r}' for suffix, scale in SCALES.items())
    return (
        f'{{{{- define "{CHART_NAME}.{HELPER}" -}}}}\n'
        "{{- $text := toString . -}}\n"
        "{{- $number := $text -}}\n"
        "{{- $scale := 1.0 -}}\n"
        f"{{{{- range $suffix, $factor := dict {scales} -}}}}\n"
        "{{- if hasSuffix $suffix $text -}}\n"
        "{{- $number = trimSuffix $suffix $text -}}\n"
        "{{- $scale = $factor -}}\n"
        "{{- end -}}\n"
        "{{- end -}}\n"
        "{{- mulf (float64 $number) $scale -}}\n"
        "{{- end }}\n"
    )


@dataclass(frozen=True, eq=False)
class Quantity(Expr):
    """The number a quantity value stands for, comparable with `gt`."""

    quantity: Expr

    def go(self) -> str:
        return f'(float64 (include "{CHART_NAME}.{HELPER}" {self.quantity.go()}))'

    def eval(self, scope: Scope) -> Any:
        return quantity_value(self.quantity.eval(scope))
