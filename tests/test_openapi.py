"""Every rendered object passes the official Kubernetes OpenAPI schemas in strict mode."""

from __future__ import annotations

import pytest

from lmfchart import openapi
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import lmf_objects

VERSIONS = ["1.25", "1.30", openapi.default_version()]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("example", [*EXAMPLES, None])
def test_every_object_is_schema_valid(example: str | None, version: str) -> None:
    files = [str(example_values(example))] if example else []
    objects = lmf_objects("lmf", "llm", files=files)
    assert objects
    for obj in objects:
        assert openapi.check_object(obj, version) == [], obj["kind"]


def test_strict_mode_rejects_unknown_fields() -> None:
    problems = openapi.check_object(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"},
         "spec": {"portz": []}},
        openapi.default_version(),
    )
    assert problems and "portz" in problems[0].message


def test_pass_through_values_are_checked_against_the_schema() -> None:
    objects = lmf_objects("lmf", "llm", sets=["affinity.nodeAfinity.x=1"])
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    [problem] = openapi.check_object(deployment, openapi.default_version())
    assert problem.path == ("spec", "template", "spec", "affinity")
    assert "nodeAfinity" in problem.message
