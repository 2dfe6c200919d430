"""The template dialect on its own, without helm: each construct in both renderings, the
mistakes it refuses (located by template and line), and its whitespace.

The Helm rendering is checked as the Go template text the dialect promises; that this text
means in Helm what the concrete rendering computes is checked against the real helm binary
by test_helm_conformance.py.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import jinja2
import pytest

from lmfchart.base.errors import TemplateError
from lmfchart.model.crosschecks import RULES
from lmfchart.model.expr import Literal, Scope, Value, and_, has_key, or_, value_paths
from lmfchart.model.values import Values, default_values
from lmfchart.render import engine
from lmfchart.render.chartfiles import chart_files
from lmfchart.render.dialect import ConcreteDialect, Dialect, HelmDialect
from lmfchart.render.engine import (
    LocatedTemplateError,
    build_environment,
    render_with,
    templates_dir,
)


def _values(**changes: Any) -> dict[str, Any]:
    values = default_values()
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = values
        for part in parents:
            node = node[part]
        node[last] = value
    return values


def _concrete(**changes: Any) -> ConcreteDialect:
    scope = Scope(values=_values(**changes), release_name="lmf", namespace="llm",
                  chart_version="1.0.0")
    return ConcreteDialect(scope, lambda block: "")


def _render(tmp_path: Path, source: str, dialect: Dialect) -> str:
    (tmp_path / "t.j2").write_text(source, encoding="utf-8")
    env = build_environment(jinja2.FileSystemLoader([str(tmp_path), str(templates_dir())]))
    return render_with(env, "t.j2", dialect)


# --- each construct, both renderings ---------------------------------------------------------


def test_emit_is_json_in_both(tmp_path: Path) -> None:
    source = 'tag: {{ emit(v("image.tag")) }}\nport: {{ emit(v("service.port")) }}\n'
    assert _render(tmp_path, source, HelmDialect()) == (
        "tag: {{ $.Values.image.tag | toJson }}\nport: {{ $.Values.service.port | toJson }}\n")
    # Helm's numbers are float64; integral ones print without a fraction.
    assert _render(tmp_path, source, _concrete(image__tag="v1\n---", service__port=80.0)) == (
        'tag: "v1\\n---"\nport: 80\n')


def test_text_prints_like_go(tmp_path: Path) -> None:
    source = '{{ text(v("service.port")) }} {{ text(v("ingress.enabled")) }} {{ text(namespace) }}'
    assert _render(tmp_path, source, HelmDialect()) == (
        "{{ $.Values.service.port }} {{ $.Values.ingress.enabled }} {{ $.Release.Namespace }}")
    assert _render(tmp_path, source, _concrete(service__port=80.0)) == "80 false llm"


def test_when_and_unless(tmp_path: Path) -> None:
    source = ('a\n{% call when(v("ingress.enabled")) %}\n  on\n{% endcall %}\n'
              '{% call unless(v("ingress.enabled")) %}\n  off\n{% endcall %}\nb\n')
    assert _render(tmp_path, source, HelmDialect()) == (
        "a\n{{- if $.Values.ingress.enabled }}\n  on\n{{- end }}\n"
        "{{- if (not $.Values.ingress.enabled) }}\n  off\n{{- end }}\nb\n")
    assert _render(tmp_path, source, _concrete(ingress__enabled=True)) == "a\n  on\nb\n"
    assert _render(tmp_path, source, _concrete()) == "a\n  off\nb\n"


def test_splices(tmp_path: Path) -> None:
    source = ('l:{{ splice_list(v("args"), 2) }}\nm:{{ splice_map(v("podLabels"), 2) }}\n'
              'p:{{ splice_pairs(v("env"), 2, "name", "value") }}\n')
    assert _render(tmp_path, source, HelmDialect()) == (
        "l:{{- range $item := $.Values.args }}\n  - {{ toJson $item }}{{- end }}\n"
        "m:{{- range $key, $value := $.Values.podLabels }}\n"
        "  {{ toJson $key }}: {{ toJson $value }}{{- end }}\n"
        "p:{{- range $key, $value := $.Values.env }}\n"
        "  - name: {{ toJson $key }}\n    value: {{ toJson $value }}{{- end }}\n")
    concrete = _concrete(args=["--x", "y: z"], podLabels={"b": "2", "a": "1"},
                         env={"B": "2", "A": "1"})
    # Maps come out in key order, as Go's range gives them.
    assert _render(tmp_path, source, concrete) == (
        'l:\n  - "--x"\n  - "y: z"\nm:\n  "a": "1"\n  "b": "2"\n'
        'p:\n  - name: "A"\n    value: "1"\n  - name: "B"\n    value: "2"\n')
    assert _render(tmp_path, source, _concrete()) == "l:\nm:\np:\n"


def test_include_block(tmp_path: Path) -> None:
    source = 'labels:{{ include_block("labels", 4) }}\nnext: 1\n'
    assert _render(tmp_path, source, HelmDialect()) == (
        'labels:{{- include "llama-factory.labels" $ | trim | nindent 4 }}\nnext: 1\n')
    # The block's lines, indented as `trim | nindent` gives them; empty lines are dropped.
    scope = Scope(values=_values(), release_name="lmf", namespace="llm")
    concrete = ConcreteDialect(scope, lambda name: f"\n{name}/a: 1\n\n{name}/b: 2\n")
    assert _render(tmp_path, source, concrete) == (
        "labels:\n    labels/a: 1\n    labels/b: 2\nnext: 1\n")


def test_expressions_evaluate_like_go(tmp_path: Path) -> None:
    source = ('{{ text(default("dflt", v("ingress.host"))) }}|'
              '{{ text(printf("%s-%v", release_name, v("gpu.count"))) }}|'
              '{{ text(and_(v("ingress.host"), v("image.tag"))) }}|'
              '{{ text(or_(v("ingress.host"), v("image.tag"))) }}|'
              '{{ text(not_(v("ingress.host"))) }}|{{ text(eq(v("hub.source"), "openmind")) }}|'
              '{{ text(fullname) }}')
    assert _render(tmp_path, source, _concrete(gpu__count=2.0)) == (
        "dflt|lmf-2||0.9.4|true|false|lmf-llama-factory")
    assert _render(tmp_path, source, HelmDialect()) == (
        '{{ (default "dflt" $.Values.ingress.host) }}|'
        '{{ (printf "%s-%v" $.Release.Name $.Values.gpu.count) }}|'
        "{{ (and $.Values.ingress.host $.Values.image.tag) }}|"
        "{{ (or $.Values.ingress.host $.Values.image.tag) }}|"
        "{{ (not $.Values.ingress.host) }}|{{ (eq $.Values.hub.source \"openmind\") }}|"
        '{{ (include "llama-factory.fullname" $) }}')


def test_and_or_stop_at_the_deciding_operand() -> None:
    """Like Go's and/or: later operands are not evaluated once the result is known."""
    scope = Scope(values=_values())
    missing = has_key(Value("env"), Value("image.tag"))  # would be fine, but never needed
    assert and_(Literal(""), missing).eval(scope) == ""
    assert or_(Literal("x"), missing).eval(scope) == "x"


def test_guard_fails_in_helm_and_refuses_in_concrete(tmp_path: Path) -> None:
    rule = next(r for r in RULES if r.key == ("storage", "data", "hostPath"))
    source = "{{ guard(rule) }}"
    env = build_environment(jinja2.DictLoader({"t.j2": source}))
    env.globals["rule"] = rule
    helm = render_with(env, "t.j2", HelmDialect())
    assert helm == (
        '{{- if (and (eq $.Values.storage.data.type "hostPath") '
        "(not $.Values.storage.data.hostPath)) }}\n"
        '{{- fail "storage.data.hostPath: type hostPath needs hostPath, an absolute folder '
        'on the node" }}\n{{- end }}\n')
    assert render_with(env, "t.j2", _concrete()) == ""
    broken = _concrete(storage__data__type="hostPath")
    with pytest.raises(TemplateError, match=r"storage\.data\.hostPath: type hostPath needs"):
        render_with(env, "t.j2", broken)


def test_guard_over_map_entries_binds_key_and_value() -> None:
    rule = next(r for r in RULES if r.each is not None)
    env = build_environment(jinja2.DictLoader({"t.j2": "{{ guard(rule) }}"}))
    env.globals["rule"] = rule
    helm = render_with(env, "t.j2", HelmDialect())
    assert helm.startswith("{{- range $key, $value := $.Values.resources.requests }}\n")
    assert helm.endswith("{{- end }}\n{{- end }}\n")
    requests = {"cpu": "500m", "memory": "1Gi"}
    ok = _concrete(resources__requests=requests, resources__limits={"cpu": 0.5})
    assert render_with(env, "t.j2", ok) == ""
    over = _concrete(resources__requests=requests, resources__limits={"cpu": "499m"})
    with pytest.raises(TemplateError, match=r"resources\.requests\.cpu: request 500m is more "
                       "than the limit 499m"):
        render_with(env, "t.j2", over)


# --- mistakes the dialect refuses -------------------------------------------------------------

MISUSES = [
    ('{% if v("ingress.enabled") %}x{% endif %}', "test it only through when"),
    ('{{ v("image.tag") }}', "print it only through emit"),
    ('{{ "image: " ~ v("image.tag") }}', "print it only through emit"),
    ('{{ "%s" | format(v("image.tag")) }}', "print it only through emit"),
    ('{% for item in v("args") %}{{ item }}{% endfor %}', "iterate it only through splice"),
    ('{{ v("args") | length }}', "measure it only through when"),
    ('{% if v("hub.source") == "openmind" %}x{% endif %}', "compare it only through eq"),
    ('{{ emit(printf("%d", v("gpu.count"))) }}', "takes only %s and %v"),
]


@pytest.mark.parametrize(("line", "message"), MISUSES, ids=[m[1] for m in MISUSES])
@pytest.mark.parametrize("dialect", [HelmDialect(), _concrete()], ids=["helm", "concrete"])
def test_misuse_is_refused_at_its_line(
    line: str, message: str, dialect: Dialect, tmp_path: Path
) -> None:
    source = "first: line\nsecond: line\n" + line + "\n"
    with pytest.raises(LocatedTemplateError) as caught:
        _render(tmp_path, source, dialect)
    assert str(caught.value).startswith("t.j2:3: "), caught.value
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("path", "hint"),
    [("ingress.enabeld", "did you mean 'ingress.enabled'?"),
     ("image.tagg", "did you mean 'image.tag'?"),
     # A map with free keys, and a plain value, end a path.
     ("env.HF_HOME", "env is read whole: the model has no keys below it"),
     ("storage.data.type.name", "storage.data.type is read whole: the model has no keys "
      "below it")],
)
def test_unknown_value_path_is_refused_at_its_line(path: str, hint: str, tmp_path: Path) -> None:
    source = f'a: 1\n{{{{ emit(v("{path}")) }}}}\n'
    with pytest.raises(LocatedTemplateError) as caught:
        _render(tmp_path, source, HelmDialect())
    assert str(caught.value) == (
        f't.j2:2: v("{path}"): the values model has no key {path} ({hint})')


def _templates_with_edit(tmp_path: Path, name: str, old: str, new: str) -> tuple[Path, int]:
    """A copy of the chart's templates with `old` replaced on its one line of `name`."""
    copy = tmp_path / "templates"
    shutil.copytree(templates_dir(), copy)
    lines = (copy / name).read_text().splitlines(keepends=True)
    [number] = [i for i, text in enumerate(lines, 1) if old in text]
    lines[number - 1] = lines[number - 1].replace(old, new)
    (copy / name).write_text("".join(lines))
    return copy, number


def test_a_renamed_key_in_a_real_template_fails_at_once(tmp_path: Path) -> None:
    """One key renamed in a real template: the Helm rendering (every branch) stops at the
    template and line, naming the path."""
    copy, number = _templates_with_edit(tmp_path, "pod.j2", '~ ".pullPolicy"',
                                        '~ ".pullPolicyy"')
    env = build_environment(jinja2.FileSystemLoader(str(copy)))
    with pytest.raises(LocatedTemplateError) as caught:
        render_with(env, "manifests/deployment.yaml.j2", HelmDialect())
    assert str(caught.value).startswith(f'pod.j2:{number}: v("image.pullPolicyy"): '), (
        caught.value)


def test_a_mistake_in_a_block_helper_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Block helpers are called outside a template render (for _helpers.tpl): same report."""
    copy, number = _templates_with_edit(tmp_path, "helpers.j2", 'emit(v("image.tag"))',
                                        'v("image.tag")')
    monkeypatch.setattr(engine, "environment",
                        lambda: build_environment(jinja2.FileSystemLoader(str(copy))))
    with pytest.raises(LocatedTemplateError) as caught:
        engine.helm_helpers()
    assert str(caught.value).startswith(f'helpers.j2:{number}: v("image.tag") is a template '
                                        "expression, not a value: print it"), caught.value


def test_the_chart_reads_every_value_and_only_known_ones() -> None:
    """Rendering the chart constructs every v() path (all branches); each one exists, and
    every key of the model is read by some template or guard."""
    text = "".join(chart_files(Values()).values())
    used = set(re.findall(r"\$\.Values\.([A-Za-z0-9_.]+)", text))
    # Entries of a map of sections are read through the range's variable ($run.lora.rank).
    for binding, map_path in (("run", "train"), ("export", "export"), ("value", "train"),
                              ("value", "export")):
        used |= {f"{map_path}.*.{key}"
                 for key in re.findall(rf"\${binding}\.([A-Za-z0-9_.]+)", text)
                 if f"{map_path}.*.{key}" in value_paths()}
    assert used <= value_paths()
    sections = {p.rsplit(".", 1)[0] for p in value_paths() if "." in p}
    # `rerun` only changes the Job's content hash, which reads the whole entry.
    hashed_only = {"train.*.rerun", "export.*.rerun"}
    assert value_paths() - sections - used == hashed_only



# --- whitespace -------------------------------------------------------------------------------


def test_blocks_end_without_a_newline(tmp_path: Path) -> None:
    """A shared block is called on a line of its own; that line supplies the newline."""
    source = ('{% import "pod.j2" as pod with context %}\nbefore: 1\n'
              '{{ pod.optional("runtimeClassName", "runtimeClassName", 6) }}\nafter: 2\n')
    assert _render(tmp_path, source, HelmDialect()) == (
        "before: 1\n{{- if $.Values.runtimeClassName }}\n"
        "      runtimeClassName: {{ $.Values.runtimeClassName | toJson }}\n{{- end }}\n"
        "after: 2\n")
    assert _render(tmp_path, source, _concrete(runtimeClassName="nvidia")) == (
        'before: 1\n      runtimeClassName: "nvidia"\nafter: 2\n')
    # A block with nothing to say leaves an empty line, which YAML ignores.
    assert _render(tmp_path, source, _concrete()) == "before: 1\n\nafter: 2\n"


def test_statement_lines_leave_no_trace(tmp_path: Path) -> None:
    """trim_blocks and lstrip_blocks: a line holding only `{% ... %}` disappears."""
    source = "a:\n  {% for n in [1, 2] %}\n  - {{ n }}\n  {% endfor %}\nb: 1\n"
    assert _render(tmp_path, source, HelmDialect()) == "a:\n  - 1\n  - 2\nb: 1\n"

