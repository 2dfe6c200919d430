"""The README's values reference is generated from the model and must stay in sync."""

from __future__ import annotations

import re

from lmfchart.model.valuesdoc import reference_table
from tests.conftest import REPO

START, END = "<!-- values-reference:start -->", "<!-- values-reference:end -->"


def test_values_reference_is_current(update_golden: bool) -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + r"\n.*?" + re.escape(END), re.DOTALL)
    current = f"{START}\n{reference_table()}{END}"
    if update_golden:
        text = pattern.sub(lambda _: current, text)
        readme.write_text(text, encoding="utf-8")
    assert current in text, "README values reference is stale: run with --update-golden"


def test_readme_starts_with_the_two_fresh_machine_commands() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    block = lines[lines.index("```bash") + 1:lines.index("```")]
    assert len(block) == 2
    assert "lmfchart render -f examples/" in block[0]
    assert block[1].endswith("scripts/check")
