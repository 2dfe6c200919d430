"""The values a chart's templates see are Helm's, for every value flag: the real helm decides.

The oracle is a chart with no schema whose only template prints `.Values` as JSON, and
whose values.yaml holds lmfchart's defaults, so coalescing over defaults is exercised.
For every case, both helm majors run it: where helm accepts, `helm_values` must equal
what helm printed; where helm refuses, lmfchart must refuse too. Where lmfchart is
stricter on purpose (the README lists these), helm 4 must accept and lmfchart must refuse
with the clear message given in the case.

Inputs come from Helm's own unit tests (pkg/strvals parser and literal parser, coalescing,
the values loader) and from lmfchart's own cases; expected values always come from helm.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lmfchart.base.errors import LmfchartError
from lmfchart.inputs.layers import helm_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.model.values import default_values
from lmfchart.yamlio.reading import parse_values
from tests.conftest import example_values
from tests.support.charts import helm_run

pytestmark = pytest.mark.helm

SEED = str(example_values("seed"))


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    """helm's value flags; `{dir}` stands for the folder holding `files`."""
    files: dict[str, str] = field(default_factory=dict)
    stricter: str | None = None
    """Helm accepts this; lmfchart refuses on purpose, with this in its message."""
    helm4_only: bool = False
    chart_values: str | None = None
    """The oracle chart's values.yaml, when not lmfchart's defaults."""


def _set(*expressions: str, flag: str = "--set") -> tuple[str, ...]:
    return tuple(part for expression in expressions for part in (flag, expression))


# Helm's pkg/strvals/parser_test.go (TestParseSet, TestParseInto, TestParseIntoString).
STRVALS = [
    Case("strvals-typed", _set("name1=null,f=false,t=true")),
    Case("strvals-two", _set("name1=value1,name2=value2")),
    Case("strvals-trailing-comma", _set("name1=value1,name2=value2,")),
    Case("strvals-commas", _set("name1=value1,,,,name2=value2,")),
    Case("strvals-empty-value", _set("name1=,name2=value2")),
    Case("strvals-leading-zeros", _set("leading_zeros=00009")),
    Case("strvals-zero", _set("zero_int=0")),
    Case("strvals-long-int", _set("long_int=1234567890")),
    Case("strvals-bool", _set("boolean=true")),
    Case("strvals-null", _set("is_null=null")),
    Case("strvals-no-value-1", _set("name1,name2=")),
    Case("strvals-no-value-2", _set("name1,name2=value2")),
    Case("strvals-no-value-3", _set("name1,name2=value2\\")),
    Case("strvals-no-value-4", _set("name1,name2")),
    Case("strvals-escaped-comma", _set("name1=one\\,two,name2=three\\,four")),
    Case("strvals-escaped-equals", _set("name1=one\\=two,name2=three\\=four")),
    Case("strvals-spaces", _set("name1=one two three,name2=three two one")),
    Case("strvals-nested", _set("outer.inner=value")),
    Case("strvals-nested-3", _set("outer.middle.inner=value")),
    Case("strvals-nested-siblings", _set("outer.inner1=value,outer.inner2=value2")),
    Case("strvals-nested-mixed", _set("outer.inner1=value,outer.middle.inner=value")),
    Case("strvals-map-no-value", _set("name1.name2")),
    Case("strvals-map-no-value-2", _set("name1.name2,name1.name3")),
    Case("strvals-map-empty-value", _set("name1.name2=")),
    Case("strvals-map-empty-key", _set("name1.=name2")),
    Case("strvals-map-empty-key-comma", _set("name1.,name2")),
    Case("strvals-list-value", _set("name1={value1,value2}")),
    Case("strvals-two-list-values", _set("name1={value1,value2},name2={value1,value2}")),
    Case("strvals-int-list", _set("name1={1021,902}")),
    Case("strvals-nested-list-value", _set("name1.name2={value1,value2}")),
    Case("strvals-unclosed-list", _set("name1={1021,902")),
    Case("strvals-index", _set("list[0]=foo")),
    Case("strvals-index-map", _set("list[0].foo=bar")),
    Case("strvals-index-map-2", _set("list[0].foo=bar,list[0].hello=world")),
    Case("strvals-negative-index", _set("list[0].foo=bar,list[-30].hello=world")),
    Case("strvals-two-indexes", _set("list[0]=foo,list[1]=bar")),
    Case("strvals-two-indexes-comma", _set("list[0]=foo,list[1]=bar,")),
    Case("strvals-sparse", _set("list[0]=foo,list[3]=bar")),
    Case("strvals-negative-index-2", _set("list[0]=foo,list[-20]=bar")),
    Case("strvals-illegal", _set("illegal[0]name.foo=bar")),
    Case("strvals-index-no-value", _set("noval[0]"), stricter="must be followed by"),
    Case("strvals-index-empty", _set("noval[0]=")),
    Case("strvals-nested-index", _set("nested[0][0]=1")),
    Case("strvals-nested-index-sparse", _set("nested[1][1]=1")),
    Case("strvals-list-of-maps", _set("name1.name2[0].foo=bar,name1.name2[1].foo=bar")),
    Case("strvals-list-of-maps-rev", _set("name1.name2[1].foo=bar,name1.name2[0].foo=bar")),
    Case("strvals-list-of-maps-sparse", _set("name1.name2[1].foo=bar")),
    Case("strvals-garbage", _set("]={}].")),
    Case("strvals-string-long-int", _set("long_int_string=1234567890", flag="--set-string")),
    Case("strvals-string-bool", _set("boolean=true", flag="--set-string")),
    Case("strvals-string-null", _set("is_null=null", flag="--set-string")),
    Case("strvals-string-zero", _set("zero=0", flag="--set-string")),
    Case("strvals-into", ("-f", "{dir}/got.yaml",
                          *_set("outer.inner1=value1,outer.inner3=value3,outer.inner4=4")),
         files={"got.yaml": "outer: {inner1: overwrite, inner2: value2}\n"}),
    Case("strvals-into-lists", _set("listOuter[0][0].type=listValue",
                                    "listOuter[0][0].status=alive")),
    Case("strvals-into-lists-2", _set("listOuter[0][0].type=listValue",
                                      "listOuter[1][0].status=alive")),
    Case("strvals-into-lists-3", ("-f", "{dir}/got.yaml",
                                  *_set("listOuter[0][1][0].type=listValue",
                                        "listOuter[0][0][1].status=alive")),
         files={"got.yaml": "listOuter: [[[{exited: old}]]]\n"}),
    Case("strvals-into-string", ("-f", "{dir}/got.yaml",
                                 *_set("outer.inner1=1,outer.inner3=3", flag="--set-string")),
         files={"got.yaml": "outer: {inner1: overwrite, inner2: value2}\n"}),
]

# TestParseJSON and TestParseFile, same file.
JSON_AND_FILE = [
    Case("json-scalars", ("-f", "{dir}/got.yaml", *_set(
        'outer.inner1="1",outer.inner3=3,outer.inner4=true,outer.inner5="true"',
        flag="--set-json")), files={"got.yaml": "outer: {inner1: overwrite, inner2: value2}\n"}),
    Case("json-objects", ("-f", "{dir}/got.yaml", *_set(
        'outer.inner1={"a":"1","b":2,"c":[1,2,3]},outer.inner3=["new value 1","new value 2"],'
        'outer.inner4={"aa":"1","bb":2,"cc":[1,2,3]},outer.inner5=[{"A":"1","B":2,"C":[1,2,3]}]',
        flag="--set-json")),
        files={"got.yaml": "outer: {inner1: {x: overwrite}, inner2: value2, inner3: [o]}\n"}),
    Case("json-null-and-empty", ("-f", "{dir}/got.yaml", *_set(
        'outer.inner1=,outer.inner3={"aa":"1","bb":2,"cc":[1,2,3]},outer.inner3.cc[1]=null',
        flag="--set-json")), files={"got.yaml": "outer: {inner1: {x: overwrite}}\n"}),
    Case("json-syntax-error", _set(
        'outer.inner1={"a":"1"},outer.inner5={"A":"1","B":2,"C":[1,2,3]}]', flag="--set-json")),
    Case("json-blanks", _set("a=", ' b= 3 , c="x"', flag="--set-json")),
    Case("json-invalid", _set("a={nope}", flag="--set-json")),
    Case("json-object", _set('{"a": {"b": 1}, "env": {"X": "y"}}', flag="--set-json"),
         helm4_only=True),
    Case("json-object-null-default", _set('{"shm": {"sizeLimit": null}}', flag="--set-json"),
         helm4_only=True),
    Case("file-value", _set("name1={dir}/path1", flag="--set-file"),
         files={"path1": "value1"}),
    Case("file-list", _set("a={{dir}/path1,{dir}/path2}", flag="--set-file"),
         files={"path1": "one\n", "path2": "two: 2\n"}),
    Case("file-empty", _set("a=", flag="--set-file")),
    Case("file-missing", _set("a={dir}/missing", flag="--set-file")),
    Case("file-into-map", _set("env.CONFIG={dir}/c.txt", flag="--set-file"),
         files={"c.txt": "line 1\nline 2, with a comma\n"}),
]

# pkg/strvals/literal_parser_test.go.
LITERAL = [
    Case("literal-plain", _set("name1=value1", flag="--set-literal")),
    Case("literal-commas", _set("name1=value1,name2=value2", flag="--set-literal")),
    Case("literal-equals", _set("name1=value1=value2", flag="--set-literal")),
    Case("literal-empty", _set("name1=", flag="--set-literal")),
    Case("literal-nested", _set("outer.inner=value", flag="--set-literal")),
    Case("literal-nested-3", _set("outer.middle.inner=value", flag="--set-literal")),
    Case("literal-no-value", _set("name1", flag="--set-literal")),
    Case("literal-map-no-value", _set("name1.name2", flag="--set-literal")),
    Case("literal-list-syntax", _set("name1={value1,value2}", flag="--set-literal")),
    Case("literal-index", _set("list[0]=foo", flag="--set-literal")),
    Case("literal-index-map", _set("list[0].foo=bar,baz", flag="--set-literal")),
    Case("literal-nested-index", _set("nested[1][1]=1", flag="--set-literal")),
    Case("literal-negative-index", _set("list[-1]=foo", flag="--set-literal")),
    Case("literal-backslash", _set("a=b\\,c\\", flag="--set-literal")),
    Case("literal-comma-key", _set("a,b=c", flag="--set-literal")),
    Case("literal-into", ("-f", "{dir}/got.yaml", *_set("outer.inner1=1,outer.inner3=3",
                                                         flag="--set-literal")),
         files={"got.yaml": "outer: {inner1: overwrite, inner2: value2}\n"}),
]

# Coalescing onto the chart's defaults (pkg/chart/common/util/coalesce_test.go's themes:
# a null removes a default, a null without a default stays, maps merge, non-maps win).
COALESCE = [
    Case("null-without-default-stays", _set("env.FOO=null")),
    Case("null-removes-default-cpu", _set("resources.limits.cpu=null")),
    Case("null-removes-fixed-key", _set("image.tag=null")),
    Case("null-removes-section", _set("storage=null")),
    Case("null-new-key", _set("newkey=null,affinity.nodeAffinity=null")),
    Case("nested-nulls-in-file", ("-f", "{dir}/n.yaml",), files={"n.yaml": (
        "storage:\n  data:\n    size: null\n    extra: null\n"
        "affinity:\n  nodeAffinity: null\nresources:\n  requests: {cpu: null}\n")}),
    Case("null-then-value", ("-f", "{dir}/a.yaml", "-f", "{dir}/b.yaml"),
         files={"a.yaml": "gpu: {count: null}\n", "b.yaml": "gpu: {count: 2}\n"}),
    Case("value-then-null", ("-f", "{dir}/a.yaml", "-f", "{dir}/b.yaml"),
         files={"a.yaml": "gpu: {count: 2}\n", "b.yaml": "gpu: {count: null}\n"}),
    Case("map-over-scalar-default", _set("shm.sizeLimit.x=1")),
    Case("scalar-over-map-default", _set("resources=1")),
    Case("list-replaces-list", _set("command[1]=x")),
    Case("json-null-default", _set("shm.sizeLimit=null", flag="--set-json")),
    Case("empty-map-over-default", ("-f", "{dir}/e.yaml"), files={"e.yaml": "probes: {}\n"}),
]

# The values loader: files merge deeply, later wins; YAML the way go-yaml reads it.
FILES = [
    Case("files-merge", ("-f", "{dir}/a.yaml", "-f", "{dir}/b.yaml"), files={
        "a.yaml": "a: {b: 1, c: [1, 2]}\nd: x\n", "b.yaml": "a: {c: [3]}\nd: {e: 1}\n"}),
    Case("files-empty", ("-f", "{dir}/empty.yaml"), files={"empty.yaml": "# nothing\n"}),
    # pkg/chart/common/values_test.go (ReadValues).
    Case("files-read-values", ("-f", "{dir}/v.yaml"), files={"v.yaml": (
        'poet: "Coleridge"\ntitle: "Rime of the Ancient Mariner"\n'
        'stanza: ["at", "length", "did", "cross", "an", "Albatross"]\n\n'
        'mariner:\n  with: "crossbow"\n  shot: "ALBATROSS"\n\n'
        'water:\n  water:\n    where: "everywhere"\n    nor: "any drop to drink"\n')}),
    Case("files-zero-length", ("-f", "{dir}/z.yaml"), files={"z.yaml": ""}),
    Case("merge-key-override", ("-f", "{dir}/m.yaml"), files={
        "m.yaml": "base: &base {p: 1, q: 2}\nd: {<<: *base, q: 3}\n"}),
    Case("merge-key-list", ("-f", "{dir}/m.yaml"), files={
        "m.yaml": "a: &a {p: 1, q: 2}\nb: &b {q: 20, r: 30}\nf:\n  <<: [*a, *b]\n  s: 5\n"}),
    Case("merge-key-nested", ("-f", "{dir}/m.yaml"), files={"m.yaml": (
        "x-env: &env {A: '1', B: '2'}\nenv:\n  <<: *env\n  B: '3'\n")}),
    Case("merge-key-after-explicit", ("-f", "{dir}/m.yaml"), files={
        "m.yaml": "base: &base {p: 1, q: 2}\ne: {q: 4, <<: *base}\n"},
         stricter="put '<<' first"),
    Case("duplicate-key", ("-f", "{dir}/d.yaml"), files={"d.yaml": "k: 1\nk: 2\n"},
         stricter="duplicate key 'k'"),
    Case("multi-document", ("-f", "{dir}/d.yaml"), files={"d.yaml": "a: 1\n---\nb: 2\n"},
         stricter="expected a single YAML document"),
    Case("yaml-local-tag", ("-f", "{dir}/t.yaml"), files={"t.yaml": "a: !custom x\n"},
         stricter="unsupported YAML type"),
    Case("yaml-binary", ("-f", "{dir}/t.yaml"), files={"t.yaml": "a: !!binary aGVsbG8=\n"},
         stricter="unsupported YAML type"),
    Case("yaml-set", ("-f", "{dir}/t.yaml"), files={"t.yaml": "b: !!set {x, y}\n"},
         stricter="unsupported YAML type"),
    Case("merge-key-twice", ("-f", "{dir}/m.yaml"), files={
        "m.yaml": "a: &a {p: 1}\nb: &b {q: 2}\nc:\n  <<: *a\n  <<: *b\n"},
         stricter="a second merge key"),
    Case("yaml-scalars", ("-f", "{dir}/s.yaml"), files={"s.yaml": (
        "a: yes\nb: 0x1F\nc: 1e3\nd: 2026-01-01\ne: ~\nf: '012'\ng: 1.50\n")}),
]

# lmfchart's own: Helm fails through a value of another type, refuses odd index digits,
# applies the flags in its order; seed-layout files as Helm sees them.
OURS = [
    Case("conflict-scalar-then-map", _set("a=1,a.b=2")),
    Case("conflict-file-then-set", ("-f", "{dir}/a.yaml", *_set("a.b=1")),
         files={"a.yaml": "a: x\n"}),
    Case("conflict-nested-list", _set("a[0]=1,a[0][0]=2")),
    Case("conflict-across-flags", ("--set", "a=1", "--set-string", "a.b=x")),
    Case("conflict-null-then-map", _set("a=null,a.b=1")),
    Case("conflict-map-then-list", _set("env.A=1,env[0]=2")),
    Case("conflict-default-not-involved", _set("gpu.count.x=1")),
    Case("conflict-list-item-map", _set("a[0]=1,a[0].b=2"), stricter="holds 1, not a mapping"),
    Case("index-arabic-digit", _set("a[\u0661]=x")),
    Case("index-plus", _set("a[+1]=x")),
    Case("index-space", _set("a[ 1]=x")),
    Case("index-too-large", _set("a[65537]=x")),
    Case("index-largest", _set("a[2]=x,b[0]=y")),
    Case("index-leading-zero", _set("a[01]=x")),
    Case("index-unclosed", _set("a[1=x"), stricter="is not a non-negative integer"),
    Case("index-after-index-garbage", _set("a[0]x=1")),
    Case("nesting-30", _set(".".join(f"k{i}" for i in range(31)) + "=1")),
    Case("nesting-31", _set(".".join(f"k{i}" for i in range(32)) + "=1")),
    Case("empty-braces", _set("a={}")),
    Case("braces-then-key", _set("a={x,y}b=1")),
    Case("unescaped-comma", _set("a=x,y")),
    Case("spaces-in-key", _set("a b.c d=e f")),
    Case("typed-edge", _set("a=+12,b=-0,c=1.0,d=TRUE,e=Null,f=0x1F,g=9223372036854775808")),
    Case("json-kinds", _set('a=[1,"x",null],b="x,y",c=1.5,d=false,e={}', flag="--set-json")),
    Case("json-spaced-key", _set("a = 1", flag="--set-json")),
    Case("json-nan", _set("a=NaN", flag="--set-json")),
    Case("json-index", _set('a[1]={"b":2}', flag="--set-json")),
    Case("set-into-file-list", ("-f", "{dir}/l.yaml", *_set("l[1].b=3,l[3]=z")),
         files={"l.yaml": "l: [{a: 1}, {a: 2}]\n"}),
    Case("set-list-over-file-map", ("-f", "{dir}/m.yaml", *_set("m[0]=1")),
         files={"m.yaml": "m: {a: 1}\n"}),
    Case("empty-key", _set("=1"), stricter="empty key name"),
    Case("empty-key-nested", _set(".b=1"), stricter="empty key name"),
    Case("trailing-backslash", _set("x=a\\"), stricter="trailing backslash"),
    Case("order-literal-last", ("--set-literal", "a=lit", "--set", "a=set",
                                "--set-json", "a=1", "--set-string", "b=s", "--set", "b=t")),
    Case("order-file-after-string", ("--set-file", "a={dir}/f", "--set-string", "a=s"),
         files={"f": "from file"}),
    Case("seed-file", ("-f", SEED)),
    Case("seed-file-set-seed-keys", ("-f", SEED, *_set(
        "imagePullPolicy=Always,ingress.ingressDomain=example.com,volume.hfcache=/x"))),
    Case("seed-file-overlay", ("-f", SEED, "-f", "{dir}/o.yaml"),
         files={"o.yaml": "ingress: {domain: example.org}\nimage: {tag: v1}\n"}),
]

# TestCoalesceValues and TestCoalesceTables, with their chart values as the defaults
# (the top chart only: lmfchart charts have no subcharts).
MOBY_DEFAULTS = """\
back: exists
bottom: exists
front: exists
left: exists
name: moby
nested: {boat: true}
override: bad
right: exists
scope: moby
top: nope
global:
  nested2: {l0: moby}
pequod:
  boat: maybe
  ahab:
    boat: maybe
    nested: {boat: maybe}
"""
MOBY_USER = """\
top: yup
bottom: null
right: Null
left: NULL
front: ~
back: ""
nested:
  boat: null
global:
  name: Ishmael
  subject: Queequeg
  nested:
    boat: true
pequod:
  boat: null
  global:
    name: Stinky
    harpooner: Tashtego
    nested: {boat: false, sail: true, foo2: null}
  ahab:
    scope: whale
    boat: null
    nested: {foo: true, boat: null}
    object: null
"""
TABLES_DEFAULTS = """\
occupation: whaler
address: {state: MA, street: 234 Spouter Inn Ct., country: US}
details: empty
boat: {mast: true}
hole: black
"""
TABLES_USER = """\
name: Ishmael
address: {street: 123 Spouter Inn Ct., city: Nantucket, country: null}
details: {friends: [Tashtego]}
boat: pequod
hole: null
"""
HELM_CHARTS = [
    Case("coalesce-values", ("-f", "{dir}/user.yaml"), files={"user.yaml": MOBY_USER},
         chart_values=MOBY_DEFAULTS),
    Case("coalesce-values-set", _set("nested.boat=null,pequod.ahab.nested.boat=false"),
         chart_values=MOBY_DEFAULTS),
    Case("coalesce-tables", ("-f", "{dir}/user.yaml"), files={"user.yaml": TABLES_USER},
         chart_values=TABLES_DEFAULTS),
    Case("coalesce-tables-none", (), chart_values=TABLES_DEFAULTS),
    # TestToRenderValues.
    Case("render-values", ("-f", "{dir}/o.yaml"), files={
        "o.yaml": "name: Haroun\nwhere: {city: Baghdad, date: 809 CE}\n"},
         chart_values="name: al Rashid\nwhere: {city: Basrah, title: caliph}\n"),
]

CASES = STRVALS + JSON_AND_FILE + LITERAL + COALESCE + FILES + OURS + HELM_CHARTS

_FLAGS = {"-f": "files", "--set": "sets", "--set-string": "set_strings",
          "--set-json": "set_jsons", "--set-file": "set_files", "--set-literal": "set_literals"}


def _options(args: list[str]) -> ValueOptions:
    grouped: dict[str, list[str]] = {name: [] for name in _FLAGS.values()}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        grouped[_FLAGS[flag]].append(value)
    return ValueOptions(**{name: tuple(values) for name, values in grouped.items()})


def _chart(folder: Path, values_yaml: str) -> Path:
    (folder / "templates").mkdir(parents=True)
    (folder / "Chart.yaml").write_text("apiVersion: v2\nname: oracle\nversion: 0.1.0\n")
    (folder / "values.yaml").write_text(values_yaml)
    (folder / "templates" / "values.yaml").write_text("dump: {{ toJson .Values | b64enc }}\n")
    return folder


@pytest.fixture(scope="module")
def oracle_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # JSON is YAML that every reader reads alike.
    return _chart(tmp_path_factory.mktemp("oracle"), json.dumps(default_values(), indent=1))


def _helm(helm: Path, chart: Path, args: list[str]) -> tuple[dict[str, Any] | None, str]:
    done = helm_run(helm, "template", "x", str(chart), *args)
    if done.returncode != 0:
        return None, done.stderr
    encoded = done.stdout.split("dump: ", 1)[1].strip()
    return json.loads(base64.b64decode(encoded)), ""


def _ours(args: list[str], defaults: dict[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    try:
        return helm_values(_options(args), defaults=defaults), ""
    except LmfchartError as e:
        return None, e.message


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_values_equal_helms(
    case: Case, helm: Path, helm4: Path, oracle_chart: Path, tmp_path: Path
) -> None:
    if case.helm4_only and helm != helm4:
        pytest.skip("Helm 3 has no --set-json '{...}' (whole-object form)")
    for name, text in case.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    args = [arg.replace("{dir}", str(tmp_path)) for arg in case.args]
    chart, defaults = oracle_chart, None
    if case.chart_values is not None:
        chart = _chart(tmp_path / "chart", case.chart_values)
        defaults = parse_values(case.chart_values, source="values.yaml").data
    theirs, helm_error = _helm(helm, chart, args)
    ours, our_error = _ours(args, defaults)
    if case.stricter is not None:
        # Each is a case Helm 4 accepts (Helm 3 refuses a few of them too).
        if helm == helm4:
            assert theirs is not None, f"helm refuses, so this is no stricter case: {helm_error}"
        assert ours is None, "lmfchart accepts what it means to refuse"
        assert case.stricter in our_error
    elif theirs is None:
        assert ours is None, f"helm refuses ({helm_error.strip()}), lmfchart accepts: {ours}"
    else:
        assert our_error == "", f"helm accepts, lmfchart refuses: {our_error}"
        assert ours == theirs

