"""lmfchart reads a values file exactly as Helm does (YAML 1.1 the go-yaml way)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from lmfchart.inputs.setvalues import apply_set
from lmfchart.yamlio import emit as yamlemit
from lmfchart.yamlio.reading import parse_values
from tests.support.charts import helm_run

pytestmark = pytest.mark.helm

SCALARS = [
    "Y", "n", "yes", "On", "OFF", "TRUE", "false", "~", "null", "NULL", "", "0o17", "0x1F",
    "0b101", "0777", "1_000", "+12", "-7", "1e3", "2E-2", ".5", "1.", "12:30", "2026-01-01",
    "2026-01-01T10:00:00Z", "=", "<<x", "0", "-0", "1.5e+3", "abc", "'quoted'", '"dq"',
    ".", "-.", "._", "+.e1", "1._", "._5", "-._5", ".5e3",
]


def _helm_values(helm: Path, tmp_path: Path, *flags: str) -> dict[str, Any]:
    """The values a template sees, from a throwaway chart that prints them as JSON."""
    chart = tmp_path / "probe"
    if not chart.exists():
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
        (chart / "templates" / "dump.yaml").write_text("dump: {{ .Values | toJson | b64enc }}\n")
    done = helm_run(helm, "template", "x", str(chart), *flags)
    assert done.returncode == 0, done.stderr
    encoded = done.stdout.split("dump: ", 1)[1].strip()
    return json.loads(base64.b64decode(encoded))  # type: ignore[no-any-return]


SETS = [
    "a.b=1,c=true", "d[1].x=09", "tags={a,b,3}", "k\\.x=v", "f=1.5", "n=null", "e=",
    "list[0]=first", "list[2]=third", "deep.er.key=FALSE", "big=9223372036854775807",
    "neg=-5", "zero=0", "lead=007", "sp=a b", "nested[0][1]=x",
]


def test_set_flags_build_the_same_values_as_helm(helm: Path, tmp_path: Path) -> None:
    flags = [part for expression in SETS for part in ("--set", expression)]
    flags += ["--set-string", "s=12,t=true"]
    ours: dict[str, Any] = {}
    for expression in SETS:
        apply_set(ours, expression)
    apply_set(ours, "s=12,t=true", flag="--set-string")
    theirs = _helm_values(helm, tmp_path, *flags)
    assert ours == theirs


def test_scalars_read_like_helm(helm: Path, tmp_path: Path) -> None:
    text = "".join(f"k{i}: {s}\n" for i, s in enumerate(SCALARS))
    values = tmp_path / "values.yaml"
    values.write_text(text)
    helm_view = _helm_values(helm, tmp_path, "-f", str(values))
    ours = parse_values(text, source="values.yaml").data
    for index, scalar in enumerate(SCALARS):
        key = f"k{index}"
        assert ours.get(key) == helm_view.get(key), f"{scalar!r}: {ours.get(key)!r}"
        assert _kind(ours.get(key)) == _kind(helm_view.get(key)), scalar


def _kind(value: object) -> str:
    # Helm holds every number as float64; int or float does not matter, number does.
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


@pytest.mark.parametrize("text", ["y", "No", "on", "0777", "1e3", "12:30", "2026-01-01", "=",
                                  "null", "~", "-", "a: b", "{{ x }}", " lead", "#"])
def test_emitted_strings_read_back_as_strings(text: str) -> None:
    assert parse_values(f"k: {yamlemit.scalar(text)}\n", source="t").data == {"k": text}
