"""Check rendered objects against the official Kubernetes OpenAPI schemas, offline.

The schemas come from the kubernetes-validate package (JSON Schema converted from each
Kubernetes release's OpenAPI document, with a strict variant that rejects unknown fields).
Its own `validate()` rebuilds a jsonschema validator on every call; here each
(version, apiVersion, kind) schema is compiled once into plain Python checks
(`compiler.py`) that say whether an object is valid, and only an invalid object meets
jsonschema, which says what is wrong in its own words. That keeps `validate` fast for
hundreds of files.

Custom resources (a kind of an API group Kubernetes itself does not serve, such as
Kubeflow's kubeflow.org/v1 PyTorchJob) have their schema in a CustomResourceDefinition
that only the cluster has: they are not checked here (`is_custom_resource` tells them
apart); the API server checks them when the release is installed or dry-run.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from lmfchart.base.errors import UsageError
from lmfchart.base.keypath import format_path
from lmfchart.openapi import documents
from lmfchart.openapi.compiler import Check, SchemaCompiler
from lmfchart.openapi.documents import available_versions

__all__ = ["SchemaProblem", "available_versions", "check_object", "default_version",
           "is_custom_resource", "kubernetes_groups", "resolve_version"]


@dataclass(frozen=True)
class SchemaProblem:
    kind: str
    name: str
    path: tuple[str | int, ...]
    message: str

    def render(self) -> str:
        where = format_path(self.path) if self.path else "(object)"
        return f"{self.kind}/{self.name} {where}: {self.message}"


def default_version() -> str:
    return available_versions()[-1]


# What Helm 3 and Helm 4 both read as a Kubernetes version: v1.30, 1.30.2, 1.30.0-rc.1+k3s1.
_KUBE_VERSION = re.compile(
    r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"
)


def resolve_version(given: str | None) -> str:
    """The X.Y whose schemas check `--kube-version given`, spelt as Helm accepts it
    (empty: the newest known); a usage error names the known versions otherwise."""
    if not given:
        return default_version()
    match = _KUBE_VERSION.match(given)
    version = f"{match[1]}.{match[2]}" if match else given
    if version not in available_versions():
        known = ", ".join(available_versions())
        raise UsageError(
            f"--kube-version {given!r}: not one of the known versions ({known}); "
            "write it as Helm does: 1.30, v1.30 or 1.30.2"
        )
    return version


@functools.cache
def _compiler(version: str) -> SchemaCompiler:
    return SchemaCompiler([documents.definitions(version)])


@functools.cache
def _compiled(version: str, api_version: str, kind: str) -> Check | None:
    document = documents.kind_document(version, api_version, kind)
    return None if document is None else _compiler(version).compile(document)


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> Any:
    """jsonschema's validator: it says what is wrong once the compiled check found the
    object invalid (rarely, so it is imported and built only then)."""
    import jsonschema
    from referencing import Registry, Resource

    # Both documents carry their own $id; refs point from one to the other.
    registry: Registry[Any] = Resource.from_contents(documents.definitions(version)) @ Registry()
    return jsonschema.Draft202012Validator(documents.kind_document(version, api_version, kind),
                                           registry=registry)


@functools.cache
def kubernetes_groups(version: str) -> frozenset[str]:
    """The API groups Kubernetes VERSION serves by itself ("" is the core group)."""
    return frozenset(
        served["group"]
        for definition in documents.definitions(version)["$defs"].values()
        for served in definition.get("x-kubernetes-group-version-kind") or ()
    )


def is_custom_resource(api_version: str, version: str) -> bool:
    """Whether API_VERSION belongs to a group only a CustomResourceDefinition can add."""
    group = api_version.rpartition("/")[0]
    return group not in kubernetes_groups(version)


def check_object(obj: dict[str, Any], version: str) -> list[SchemaProblem]:
    """What the schema of Kubernetes VERSION finds wrong in OBJ; nothing for a custom
    resource (its schema is its CRD's)."""
    kind = str(obj.get("kind", "?"))
    metadata = obj.get("metadata")
    name = str(metadata.get("name", "?")) if isinstance(metadata, dict) else "?"
    api_version = str(obj.get("apiVersion", ""))
    if is_custom_resource(api_version, version):
        return []
    check = _compiled(version, api_version, kind)
    if check is None:
        return [SchemaProblem(kind, name, (), f"no schema for {obj.get('apiVersion')} {kind} "
                              f"in Kubernetes {version}")]
    if check(obj):
        return []
    validator = _validator(version, api_version, kind)
    problems = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
        problems.append(SchemaProblem(kind, name, tuple(error.absolute_path), error.message))
    return problems
