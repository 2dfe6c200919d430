"""Every rendered object passes the official Kubernetes OpenAPI schemas in strict mode."""

from __future__ import annotations

from typing import Any

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


@pytest.mark.parametrize("nodes", [1, 3])
def test_rendered_pytorchjobs_pass_the_training_operators_crd_schema(
        nodes: int, pytorchjob_schema: dict[str, Any]) -> None:
    """Offline, with the CRD's own schema (strict as the server is); the e2e tests have the
    API server check them too (tests/e2e/test_workloads.py)."""
    import jsonschema

    objects = lmf_objects("lmf", "llm", files=[str(example_values("fine-tuning"))], sets=[
        f"train.kf.model=Qwen/Qwen3-0.6B,train.kf.datasets={{identity}},train.kf.nodes={nodes}",
        "train.kf.engine=pytorchjob,train.kf.gpus=2"])
    [job] = [o for o in objects if o["kind"] == "PyTorchJob"]
    jsonschema.validate(job, pytorchjob_schema)
    assert sorted(job["spec"]["pytorchReplicaSpecs"]) == (
        ["Master", "Worker"] if nodes > 1 else ["Master"])
    # Kubernetes' own schemas have nothing to say about it: its schema is the CRD's.
    assert openapi.check_object(job, openapi.default_version()) == []
    assert openapi.is_custom_resource(job["apiVersion"], openapi.default_version())
