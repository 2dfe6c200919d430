"""Shared fixtures: real helm binaries (fetched from PyPI), golden-file updating."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import binaries

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/values.yaml"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite golden files (and the README values reference) from the current code",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def _tool(fetch: object, what: str) -> Path:
    try:
        return fetch()  # type: ignore[operator, no-any-return]
    except Exception as e:  # network or registry trouble
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"{what} unavailable here: {e}")


@pytest.fixture(scope="session")
def helm4() -> Path:
    return _tool(lambda: binaries.helm(4), "helm v4")


@pytest.fixture(scope="session")
def helm3() -> Path:
    return _tool(lambda: binaries.helm(3), "helm v3")


@pytest.fixture(scope="session", params=[4, 3], ids=["helm4", "helm3"])
def helm(request: pytest.FixtureRequest) -> Path:
    """Every chart must lint and render the same under both Helm majors."""
    return _tool(lambda: binaries.helm(request.param), f"helm v{request.param}")


def example_values(name: str) -> Path:
    return REPO / "examples" / name / "values.yaml"
