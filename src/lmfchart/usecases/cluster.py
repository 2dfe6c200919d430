"""What the use cases need from a Kubernetes cluster; `lmfchart.kube` implements it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ObjectRef:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> ObjectRef:
        metadata = obj.get("metadata") or {}
        return cls(
            api_version=obj["apiVersion"],
            kind=obj["kind"],
            namespace=metadata.get("namespace"),
            name=metadata["name"],
        )


class Cluster(Protocol):
    def namespace_exists(self, name: str) -> bool: ...
    def create_namespace(self, name: str) -> None: ...
    def get(self, ref: ObjectRef) -> dict[str, Any] | None: ...               # None on 404
    # SSA, field manager "helm", fieldValidation=Strict; returns the server's object
    def apply(self, obj: dict[str, Any], *, dry_run: bool = False,
              force: bool = False) -> dict[str, Any]: ...
    def patch(self, ref: ObjectRef, patch: dict[str, Any], *, strategic: bool = True,
              dry_run: bool = False) -> dict[str, Any]: ...                   # field manager "helm"
    def delete(self, ref: ObjectRef, *, dry_run: bool = False) -> None: ...  # 404 is fine
    def list_secrets(self, namespace: str, *, labels: dict[str, str]) -> list[dict[str, Any]]: ...
    def create_secret(self, secret: dict[str, Any]) -> dict[str, Any]: ...   # 409 -> ConflictError
    # uses metadata.resourceVersion as precondition; 409 -> ConflictError
    def replace_secret(self, secret: dict[str, Any]) -> dict[str, Any]: ...
    def delete_secret(self, namespace: str, name: str) -> None: ...
