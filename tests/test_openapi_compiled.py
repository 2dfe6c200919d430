"""The compiled schema checks give jsonschema's verdict, object for object.

The oracle is jsonschema itself (Draft 2020-12, as kubernetes-validate runs it), built at
test time from kubernetes-validate's own schema files; lmfchart's compiled checks must say
valid exactly where it does: on every object rendered from every example, and on
generated mutations of them (unknown fields at any depth, wrong scalar types, bools for
integers, floats, nulls, missing required keys, bad enum values, lists for maps, ...).
"""

from __future__ import annotations

import copy
import functools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource

from lmfchart import openapi
from lmfchart.base.errors import EXIT_INTERNAL
from lmfchart.openapi import documents
from lmfchart.openapi.compiler import Check, SchemaCompileError, SchemaCompiler
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import lmf_objects

SCHEMAS = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
OLDEST, NEWEST = openapi.available_versions()[0], openapi.available_versions()[-1]
VERSIONS = [OLDEST, "1.30", NEWEST]


def strict_folder(version: str) -> Path:
    [folder] = sorted(SCHEMAS.glob(f"v{version}.*-local-strict"))[-1:]
    return folder


@functools.cache
def oracle(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """jsonschema's validator, wired as kubernetes-validate's own `validate` wires it."""
    folder = strict_folder(version)
    # File names as kubernetes-validate spells them: networking.k8s.io/v1 -> networking-v1.
    group, _, ver = api_version.rpartition("/")
    group_version = f"{group.split('.')[0]}-{ver}" if group else ver
    schema = json.loads((folder / f"{kind.lower()}-{group_version}.json").read_text())
    definitions = json.loads((folder / "_definitions.json").read_text())
    registry: Registry[Any] = Resource.from_contents(definitions) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def compiled(version: str, api_version: str, kind: str) -> Check:
    check = openapi._compiled(version, api_version, kind)
    assert check is not None
    return check


def same_verdict(obj: dict[str, Any], version: str,
                 schema: tuple[str, str] | None = None) -> None:
    """SCHEMA: the (apiVersion, kind) whose schema checks OBJ (OBJ's own if None)."""
    api_version, kind = schema or (obj["apiVersion"], obj["kind"])
    expected = oracle(version, api_version, kind).is_valid(obj)
    assert compiled(version, api_version, kind)(obj) is expected, (version, obj)
    if (obj.get("apiVersion"), obj.get("kind")) != (api_version, kind):
        return
    # And what `validate` reports is jsonschema's own: the same errors, or none.
    errors = sorted(oracle(version, api_version, kind).iter_errors(obj),
                    key=lambda e: list(map(str, e.path)))
    assert [(p.path, p.message) for p in openapi.check_object(obj, version)] == [
        (tuple(e.absolute_path), e.message) for e in errors]


@functools.cache
def example_objects() -> tuple[dict[str, Any], ...]:
    objects = []
    for example in [*EXAMPLES, None]:
        files = [str(example_values(example))] if example else []
        objects += lmf_objects("lmf", "llm", files=files)
    return tuple(o for o in objects if not openapi.is_custom_resource(o["apiVersion"], NEWEST))


@pytest.mark.parametrize("version", VERSIONS)
def test_every_rendered_object_gets_jsonschemas_verdict(version: str) -> None:
    objects = example_objects()
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "Job", "ConfigMap"}
    for obj in objects:
        same_verdict(obj, version)


# ---- mutations of rendered objects --------------------------------------------------

Path_ = tuple[str | int, ...]


def nodes(value: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from nodes(sub, (*path, key))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from nodes(sub, (*path, index))


def at(obj: Any, path: Path_) -> Any:
    for part in path:
        obj = obj[part]
    return obj


SCALARS = st.sampled_from([
    None, True, False, 0, 1, -7, 8080, 2**40, 1.0, 8080.0, 0.5, 1e3, "", "x", "80", "http",
    "1.5", "500m", "2Gi", "Always", "TCP", "Bogus", "ClusterIP", "true",
])
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["name", "value", "port", "x", "spec", "items"]), inner,
                      max_size=3),
    max_leaves=6,
)


@functools.cache
def known_keys() -> tuple[str, ...]:
    """Every field name the examples use: a misplaced one is as unknown as a typo."""
    return tuple(sorted({str(p[-1]) for o in example_objects() for p, _ in nodes(o)
                         if p and isinstance(p[-1], str)}))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[dict[str, Any], tuple[str, str]]:
    """A rendered object changed once or twice, and the (apiVersion, kind) it had: its
    schema (the only enums in Kubernetes' schemas are those of apiVersion and kind)."""
    obj = copy.deepcopy(draw(st.sampled_from(example_objects())))
    schema = (obj["apiVersion"], obj["kind"])
    for _ in range(draw(st.integers(1, 2))):
        path, value = draw(st.sampled_from(list(nodes(obj))[1:]))
        parent = at(obj, path[:-1])
        how = draw(st.sampled_from(["replace", "add", "delete", "wrap"]))
        if how == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif how == "add" and isinstance(value, dict):
            key = draw(st.sampled_from(known_keys()) | st.text(min_size=1, max_size=12))
            value[key] = draw(JSON_VALUES)
        elif how == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            # A map where a list is expected, a list where a map or a scalar is.
            parent[path[-1]] = [value] if not isinstance(value, list) else dict(
                enumerate(value))
    return obj, schema


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=mutated())
def test_mutated_objects_get_jsonschemas_verdict(
        version: str, case: tuple[dict[str, Any], tuple[str, str]]) -> None:
    same_verdict(*case[:1], version, case[1])


INT_OR_STRING = [8080, "http", "8080", 8080.0, 8080.5, None, True, [], {}, ""]


@pytest.mark.parametrize("version", [OLDEST, NEWEST])
@pytest.mark.parametrize("value", INT_OR_STRING, ids=repr)
def test_int_or_string_and_quantity_fields(version: str, value: Any) -> None:
    """A Service's targetPort (IntOrString: oneOf string|null, integer|null, so a null is
    valid under both and so invalid) and a container's CPU limit (Quantity: oneOf
    string|null, number|null)."""
    objects = example_objects()
    service = copy.deepcopy(next(o for o in objects if o["kind"] == "Service"))
    service["spec"]["ports"][0]["targetPort"] = value
    same_verdict(service, version)
    deployment = copy.deepcopy(next(o for o in objects if o["kind"] == "Deployment"))
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "limits": {"cpu": value}}
    same_verdict(deployment, version)


def test_validating_valid_files_never_imports_jsonschema() -> None:
    """jsonschema (and kubernetes-validate's package, which imports it: 50 ms) is loaded
    only to word the errors of an invalid object."""
    files = [str(example_values(e)) for e in EXAMPLES]
    script = f"""
import sys
from typer.testing import CliRunner
from lmfchart.cli import app
result = CliRunner().invoke(app, ["validate", *{files!r}])
assert result.exit_code == 0, result.output
print(sorted(m for m in sys.modules if m.split(".")[0] in ("jsonschema", "kubernetes_validate")))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# ---- every shipped schema compiles ----------------------------------------------------

@pytest.mark.parametrize("version", openapi.available_versions())
def test_every_shipped_kind_compiles(version: str) -> None:
    """No schema of any version uses a keyword the compiler does not know (it would stop
    with SchemaCompileError): what the compiler skips, jsonschema skips too."""
    compiler = SchemaCompiler([documents.definitions(version)])
    for path in sorted(strict_folder(version).glob("*.json")):
        # all.json, a oneOf of every definition without an $id of its own, is no kind.
        if path.name in ("_definitions.json", "all.json"):
            continue
        document = json.loads(path.read_text())
        assert callable(compiler.compile(document)), path.name


# ---- semantics that bite, on small schemas ---------------------------------------------

def synthetic(schema: dict[str, Any], definitions: dict[str, Any] | None = None
              ) -> tuple[Check, jsonschema.Draft202012Validator]:
    draft = "https://json-schema.org/draft/2020-12/schema"
    document = {"$id": "https://lmfchart.test/kind", "$schema": draft, **schema}
    shared = {"$id": "https://lmfchart.test/defs", "$schema": draft, "$defs": definitions or {}}
    registry: Registry[Any] = Resource.from_contents(shared) @ Registry()
    return (SchemaCompiler([shared]).compile(document),
            jsonschema.Draft202012Validator(document, registry=registry))


INSTANCES = [None, True, False, 0, 1, -1, 1.0, 1.5, 2**70, "", "a", "b", "1", [], [1],
             ["a"], [None], {}, {"a": 1}, {"a": "x"}, {"b": None}, {"a": "x", "b": 2},
             {"a": None}, {1: "x"}]
SCHEMAS_THAT_BITE = {
    "integer": {"type": "integer"},
    "integer-or-null": {"type": ["integer", "null"]},
    "number": {"type": "number"},
    "boolean-or-null": {"type": ["boolean", "null"]},
    "string-enum": {"type": ["string", "null"], "enum": ["a"]},
    "enum-alone": {"enum": ["a", "1"]},
    "int-or-string": {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]},
    "number-or-string": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "strict-struct": {"type": "object", "properties": {"a": {"type": "string"}},
                      "additionalProperties": False, "required": ["a"]},
    "nullable-struct": {"type": ["object", "null"], "properties": {"a": {"type": "string"}},
                        "additionalProperties": False},
    "map": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
    "untyped-members": {"properties": {"a": {"type": "integer"}}, "required": ["b"]},
    "list": {"type": ["array", "null"], "items": {"type": "string"}},
    "untyped-items": {"items": {"type": "integer"}},
    "array-or-string": {"type": ["array", "string"], "items": {"type": "integer"}},
    "nothing": {},
    "false-members": {"properties": {"a": False}, "additionalProperties": {"type": "null"}},
    "ref": {"$ref": "/defs#/$defs/a"},
    "ref-and-type": {"$ref": "/defs#/$defs/a", "type": ["object", "null"],
                     "x-kubernetes-map-type": "atomic"},
}


@pytest.mark.parametrize("name", sorted(SCHEMAS_THAT_BITE))
def test_small_schemas_get_jsonschemas_verdict(name: str) -> None:
    check, validator = synthetic(SCHEMAS_THAT_BITE[name], {
        "a": {"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}},
              "additionalProperties": {"type": "string"}}})
    for instance in INSTANCES:
        assert check(instance) is validator.is_valid(instance), instance


def test_recursive_definitions_compile_and_check_at_every_depth() -> None:
    """JSONSchemaProps refers to itself; so does this: compilation must end."""
    check, validator = synthetic({"$ref": "/defs#/$defs/node"}, {
        "node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"},
                                                  "n": {"type": "integer"}},
                 "additionalProperties": False}})
    deep: dict[str, Any] = {"n": 1}
    for _ in range(30):
        deep = {"child": deep, "n": 2}
    for instance in [deep, {"child": {"child": {"n": "x"}}}, {"child": {"m": 1}}]:
        assert check(instance) is validator.is_valid(instance)


# ---- what the compiler does not understand stops it -------------------------------------

@pytest.mark.parametrize(("schema", "said"), [
    ({"type": "string", "pattern": "^a"}, "'pattern'"),
    ({"properties": {"a": {"type": "integer", "minimum": 0}}}, "'minimum'"),
    ({"items": {"anyOf": [{"type": "string"}]}}, "'anyOf'"),
    ({"$ref": "/defs#/$defs/uses-allOf"}, "'allOf'"),
    ({"type": "strnig"}, "unknown schema type"),
    ({"items": [{"type": "string"}]}, "unsupported schema"),
    ({"enum": [1, "a"]}, "enum of other than strings"),
    ({"$ref": "/elsewhere#/$defs/a"}, "unknown document"),
    ({"$ref": "/defs#/$defs/missing"}, "points at nothing"),
])
def test_an_unknown_keyword_stops_compilation(schema: dict[str, Any], said: str) -> None:
    with pytest.raises(SchemaCompileError) as raised:
        synthetic(schema, {"uses-allOf": {"allOf": [{"type": "string"}]}})
    assert said in raised.value.message
    assert raised.value.exit_code == EXIT_INTERNAL
