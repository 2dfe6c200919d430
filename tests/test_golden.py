"""Golden files: what users get for the seed values and every example, reviewed as diffs.

Regenerate only on purpose: `python -m pytest tests/test_golden.py --update-golden`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.chartfiles import chart_files
from lmfchart.render.manifests import render_objects, to_yaml_stream
from tests.conftest import EXAMPLES, REPO, example_values

GOLDEN = REPO / "tests" / "golden"


def _compare(path: Path, actual: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"{path} is missing: run pytest with --update-golden"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs from the rendered output; if the change is intended, "
        "rerun with --update-golden and review the diff"
    )


@pytest.mark.parametrize("example", EXAMPLES)
def test_template_output_matches_golden(example: str, update_golden: bool) -> None:
    release = load_values(ValueOptions(files=(str(example_values(example)),)))
    text = to_yaml_stream(render_objects(release.values, release_name="lmf", namespace="llm"))
    _compare(GOLDEN / f"{example}.template.yaml", text, update_golden)


@pytest.mark.parametrize("example", EXAMPLES)
def test_chart_values_match_golden(example: str, update_golden: bool) -> None:
    files = chart_files(load_values(ValueOptions(files=(str(example_values(example)),))).values)
    _compare(GOLDEN / f"{example}.values.yaml", files["values.yaml"], update_golden)


def test_seed_chart_templates_match_golden(update_golden: bool) -> None:
    files = chart_files(load_values(ValueOptions(files=(str(example_values("seed")),))).values)
    for name in ("templates/deployment.yaml", "templates/_helpers.tpl", "Chart.yaml"):
        _compare(GOLDEN / "seed-chart" / name, files[name], update_golden)
