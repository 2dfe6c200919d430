"""libyaml's parser reads values files and rendered manifests: what the pure-Python
reader reads; where libyaml fails, the pure-Python reader's own words; where only libyaml
reads a file, what Helm reads from it."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmfchart.base.errors import InputError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.engine import manifest_templates, render_concrete
from lmfchart.render.manifests import _scope
from lmfchart.yamlio import emit, reading
from lmfchart.yamlio.reading import parse_values, read_rendered
from tests.support.charts import helm_run

EXAMPLES = sorted(Path(__file__).resolve().parents[1].glob("examples/*/values.yaml"))


@contextmanager
def pure_python() -> Iterator[None]:
    saved = reading._FAST
    reading._FAST = False
    try:
        yield
    finally:
        reading._FAST = saved


def outcome(text: str) -> tuple[str, Any]:
    try:
        document = parse_values(text, source="values.yaml")
    except InputError as e:
        return "error", [issue.render() for issue in e.issues]
    return "data", (document.data, document.lines)


def assert_same_reading(text: str) -> None:
    assert reading._FAST
    fast = outcome(text)
    with pure_python():
        pure = outcome(text)
    assert fast == pure


@pytest.fixture(scope="module")
def helm_reads(helm4: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The values Helm's templates see for a values file's text (None: Helm refuses it)."""
    chart = tmp_path_factory.mktemp("probe")
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    (chart / "templates" / "dump.yaml").write_text("dump: {{ .Values | toJson | b64enc }}\n")

    def read(text: str) -> Any:
        values = chart / "given.yaml"
        values.write_text(text)
        done = helm_run(helm4, "template", "x", str(chart), "-f", str(values))
        if done.returncode != 0:
            return None
        return json.loads(base64.b64decode(done.stdout.split("dump: ", 1)[1].strip()))

    return read


def assert_same_or_helms_reading(text: str, helm_reads: Any) -> None:
    """libyaml is kinder than PyYAML in a few corners (`|#` without a space, a tab after
    `: `), as Helm's go-yaml is: there the fast reading must be Helm's."""
    fast = outcome(text)
    with pure_python():
        pure = outcome(text)
    if fast != pure:
        assert pure[0] == "error" and fast[0] == "data", (fast, pure)
        assert json.loads(json.dumps(fast[1][0])) == helm_reads(text), text


def test_libyaml_is_there_to_be_used() -> None:
    # Without it every file would quietly take the slow path.
    assert reading._FAST


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_example_reads_the_same(example: Path) -> None:
    assert_same_reading(example.read_text())


@pytest.mark.parametrize("text", [
    "a: 1\na: 2\n",                       # duplicate key, named with both lines
    "a: [1, 2\n",                         # unclosed flow sequence
    "a: b: c\n",                          # mapping values where none may be
    "a:\n\tb: 1\n",                       # a tab for indentation
    "- 1\n- 2\n",                         # not a mapping
    "a: 1\n---\nb: 2\n",                  # two documents
    "a: !!binary aGVsbG8=\n",             # an unsupported tag
    "a: &x [*x]\n",                       # an alias inside itself
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",
    "k: 0o17\nj: 0777\nm: 1e3\nd: 2026-01-01\nt: 12:30\ny: y\nn: ~\n",
    "a: \"\\x41\\u00e9\"\nb: 'it''s'\nc: |\n  two\n  lines\n",
    "a: \x07\n",                          # a control character
    "a: .\nb: -.\nc: ._\nd: +.e1\n",         # dots without digits are strings
    "",
    "# only a comment\n",
])
def test_edge_cases_read_the_same(text: str) -> None:
    assert_same_reading(text)


def test_a_control_character_is_named_with_its_line() -> None:
    with pytest.raises(InputError) as raised:
        parse_values("a: 1\nb: \x07\n", source="values.yaml")
    assert [issue.render() for issue in raised.value.issues] == [
        "values.yaml:2: invalid YAML: the character #x0007 cannot appear in YAML text"]


def test_deep_nesting_is_refused_not_a_crash() -> None:
    # libyaml composes recursively in C: a document this deep would overflow its stack.
    text = "a: " + "[" * 200_000 + "]" * 200_000 + "\n"
    with pytest.raises(InputError, match="nest deeper than"):
        parse_values(text, source="deep.yaml")


YAML_PIECES = st.sampled_from([
    "a", "b", "1", "-1", "0x1F", "1e3", ".5", "y", "no", "~", "null", "true", "2026-01-01",
    ":", ": ", "- ", "-", "[", "]", "{", "}", ",", "#", "'", '"', "|", ">", "&x ", "*x",
    "!!str ", "? ", "<<: ", "\n", "\n  ", "\n    ", " ", "\t", "\\", "é", "%", "@",
])


@pytest.mark.helm
@pytest.mark.parametrize("text", ["true: |#x\n", "a<<: \t\n", "a: 1 \t\nb: |#c\n  x\n"])
def test_where_only_libyaml_reads_a_file_it_reads_what_helm_reads(
        text: str, helm_reads: Any) -> None:
    with pure_python():
        assert outcome(text)[0] == "error"
    assert outcome(text)[0] == "data"
    assert_same_or_helms_reading(text, helm_reads)


@pytest.mark.helm
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(YAML_PIECES, max_size=40).map("".join))
def test_random_texts_read_the_same_or_as_helm_reads_them(text: str, helm_reads: Any) -> None:
    assert_same_or_helms_reading(text, helm_reads)


VALUES_DATA = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=8), VALUES_DATA, max_size=5),
       st.sampled_from([None, True, False]))
def test_dumped_data_reads_the_same(data: dict[str, Any], flow: bool | None) -> None:
    assert_same_reading(yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True))


def old_reading(text: str) -> list[Any]:
    return list(yaml.load_all(text, Loader=reading._FastHelmLikeLoader))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.name)
def test_rendered_manifests_read_as_the_constructor_reads_them(example: Path) -> None:
    scope = _scope(load_values(ValueOptions(files=(str(example),))).values, "lmf", "llm")
    for name in manifest_templates():
        text = render_concrete(name, scope)
        assert read_rendered(text) == old_reading(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=8), VALUES_DATA, max_size=5), max_size=3))
def test_emitted_documents_read_as_the_constructor_reads_them(
        documents: list[dict[str, Any]]) -> None:
    text = "".join("---\n" + emit.dump(document) for document in documents)
    assert read_rendered(text) == old_reading(text) == documents


def test_documents_beyond_plain_data_still_read() -> None:
    text = "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n---\nk: !!binary aGk=\n"
    assert read_rendered(text) == old_reading(text)
