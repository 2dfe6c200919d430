"""Check rendered objects against the official Kubernetes OpenAPI schemas, offline.

The schemas come from the kubernetes-validate package (JSON Schema converted from each
Kubernetes release's OpenAPI document, with a strict variant that rejects unknown fields).
Its own `validate()` rebuilds the validator on every call; here one validator per
(version, apiVersion, kind) is built once and reused, which keeps `validate` fast for
hundreds of files.

Custom resources (a kind of an API group Kubernetes itself does not serve, such as
Kubeflow's kubeflow.org/v1 PyTorchJob) have their schema in a CustomResourceDefinition
that only the cluster has: they are not checked here (`is_custom_resource` tells them
apart); the API server checks them when the release is installed or dry-run.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from lmfchart.base.errors import UsageError
from lmfchart.base.keypath import format_path

_PACKAGE = "kubernetes_validate"
_SCHEMA_ROOT = "kubernetes-json-schema"


@dataclass(frozen=True)
class SchemaProblem:
    kind: str
    name: str
    path: tuple[str | int, ...]
    message: str

    def render(self) -> str:
        where = format_path(self.path) if self.path else "(object)"
        return f"{self.kind}/{self.name} {where}: {self.message}"


@functools.cache
def available_versions() -> tuple[str, ...]:
    root = resources.files(_PACKAGE) / _SCHEMA_ROOT
    found = set()
    for entry in root.iterdir():
        match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
        if match:
            found.add((int(match[1]), int(match[2])))
    return tuple(f"{a}.{b}" for a, b in sorted(found))


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


def _schema_dir(version: str) -> str:
    root = resources.files(_PACKAGE) / _SCHEMA_ROOT
    matches = sorted(e.name for e in root.iterdir()
                     if e.name.startswith(f"v{version}.") and e.name.endswith("-local-strict"))
    return matches[-1]


@functools.cache
def _definitions(version: str) -> Any:
    folder = resources.files(_PACKAGE) / _SCHEMA_ROOT / _schema_dir(version)
    return json.loads((folder / "_definitions.json").read_text())


@functools.cache
def _validator(version: str, api_version: str, kind: str) -> Any:
    import jsonschema
    from referencing import Registry, Resource

    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = resources.files(_PACKAGE) / _SCHEMA_ROOT / _schema_dir(version)
    document = folder / f"{kind.lower()}-{group_version}.json"
    if not document.is_file():
        return None
    schema = json.loads(document.read_text())
    # Both documents carry their own $id; refs point from one to the other.
    registry: Registry[Any] = Resource.from_contents(_definitions(version)) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def kubernetes_groups(version: str) -> frozenset[str]:
    """The API groups Kubernetes VERSION serves by itself ("" is the core group)."""
    return frozenset(
        served["group"]
        for definition in _definitions(version)["$defs"].values()
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
    name = str((obj.get("metadata") or {}).get("name", "?"))
    if is_custom_resource(str(obj.get("apiVersion", "")), version):
        return []
    validator = _validator(version, str(obj.get("apiVersion", "")), kind)
    if validator is None:
        return [SchemaProblem(kind, name, (), f"no schema for {obj.get('apiVersion')} {kind} "
                              f"in Kubernetes {version}")]
    problems = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path))):
        problems.append(SchemaProblem(kind, name, tuple(error.absolute_path), error.message))
    return problems
