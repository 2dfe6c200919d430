"""What the use cases need from a Kubernetes cluster; `lmfchart.kube` implements it.

The use cases take a `Cluster` as a parameter, so they never import the kubernetes client
and their logic can be tested without a server. Every method raises
`lmfchart.base.errors.ClusterError` (or its `ConflictError`) when the server refuses or
cannot be reached.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ObjectRef:
    """Which object: its apiVersion, kind, namespace (None for cluster-scoped) and name."""

    api_version: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        """The reference of a manifest or of an object the server returned."""
        metadata = obj.get("metadata") or {}
        return cls(
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            namespace=metadata.get("namespace"),
            name=metadata["name"],
        )


class Cluster(Protocol):
    """The operations install, upgrade, status, history and uninstall are built from."""

    def namespace_exists(self, name: str) -> bool:
        """Whether namespace NAME exists."""
        ...

    def create_namespace(self, name: str) -> None:
        """Create namespace NAME."""
        ...

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The live object, or None on 404."""
        ...

    def serves(self, api_version: str, kind: str) -> bool:
        """Whether the server serves KIND of API_VERSION (a custom resource's only once
        its CustomResourceDefinition is installed)."""
        ...

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False,
              force: bool = False) -> dict[str, Any]:
        """Server-side apply as field manager "helm" with fieldValidation=Strict (creates
        the object when it is missing); returns the server's object."""
        ...

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create the object (a plain create, not an apply); one that exists already (409)
        raises ConflictError."""
        ...

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Replace the object, with its metadata.resourceVersion as the precondition; a newer
        version on the server (409) raises ConflictError."""
        ...

    def patch(self, ref: ObjectRef, patch: dict[str, Any], *, strategic: bool = True,
              dry_run: bool = False) -> dict[str, Any]:
        """A strategic-merge patch (or a JSON merge patch) as field manager "helm"."""
        ...

    def delete(self, ref: ObjectRef, *, dry_run: bool = False) -> None:
        """Delete the object; one that is already gone (404) is fine."""
        ...

    def list_secrets(self, namespace: str, *, labels: dict[str, str]) -> list[dict[str, Any]]:
        """The Secrets of NAMESPACE carrying every one of LABELS."""
        ...

    def create_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        """Create the Secret; one that exists already (409) raises ConflictError."""
        ...

    def replace_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        """Replace the Secret, with its metadata.resourceVersion as the precondition; a
        newer version on the server (409) raises ConflictError."""
        ...

    def delete_secret(self, namespace: str, name: str) -> None:
        """Delete the Secret; one that is already gone (404) is fine."""
        ...

    def list_objects(self, api_version: str, kind: str, namespace: str, *,
                     label_selector: str | None = None,
                     field_selector: str | None = None) -> list[dict[str, Any]]:
        """The objects of KIND in NAMESPACE matching the selectors (Kubernetes' own
        syntax), in one request; each with its apiVersion and kind."""
        ...

    def pod_log_tail(self, namespace: str, pod: str, container: str, *, lines: int | None,
                     previous: bool) -> str:
        """The last LINES lines the container wrote (all of them when LINES is None; of its
        previous run when PREVIOUS: the one that crashed); "" for a pod on no node yet."""
        ...

    def follow_pod_log(self, namespace: str, pod: str, container: str, *,
                       lines: int | None) -> Iterator[str]:
        """The container's lines (without their newline) as it writes them, starting with
        its last LINES (all when None); ends when the container stops."""
        ...
