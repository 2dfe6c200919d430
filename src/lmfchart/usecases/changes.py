"""What happened (or would happen) to each object, and removing one safely."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lmfchart.base.errors import ClusterError
from lmfchart.release.manifest import manifest_objects
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.ownership import kept, owner_problem

Action = Literal["created", "changed", "unchanged", "pruned", "kept", "deleted", "failed",
                 "unchecked"]


@dataclass(frozen=True)
class ObjectChange:
    ref: ObjectRef
    action: Action
    message: str = ""

    def describe(self) -> str:
        text = f"{self.ref.kind}/{self.ref.name}: {self.action}"
        return f"{text} ({self.message})" if self.message else text


def manifest_refs(manifest: str, namespace: str) -> list[ObjectRef]:
    """The objects a stored manifest names, in its order; a missing namespace is the
    release's (Helm's charts may leave it out)."""
    refs = []
    for obj in manifest_objects(manifest):
        ref = ObjectRef.of(obj)
        refs.append(ref if ref.namespace
                    else ObjectRef(ref.api_version, ref.kind, namespace, ref.name))
    return refs


def server_message(error: ClusterError, ref: ObjectRef) -> str:
    """The server's words without the KIND/NAME prefix the change already shows."""
    return error.message.removeprefix(f"{ref.kind}/{ref.name}: ")


def left_alone(live: dict[str, Any], *, release_name: str, namespace: str) -> str | None:
    """Why a live object of the release must not be deleted, or None."""
    if kept(live):
        return "helm.sh/resource-policy: keep"
    problem = owner_problem(live, release_name=release_name, namespace=namespace)
    if problem is not None and problem.startswith("belongs to release"):
        return f"left alone: it now {problem}"
    return None


def remove_object(cluster: Cluster, ref: ObjectRef, *, release_name: str, namespace: str,
                  done: Action, dry_run: bool = False) -> ObjectChange | None:
    """Delete REF unless it is gone, marked keep, or now belongs to another release."""
    try:
        live = cluster.get(ref)
        if live is None:
            return None
        reason = left_alone(live, release_name=release_name, namespace=namespace)
        if reason is not None:
            return ObjectChange(ref, "kept", reason)
        cluster.delete(ref, dry_run=dry_run)
    except ClusterError as e:
        return ObjectChange(ref, "failed", server_message(e, ref))
    return ObjectChange(ref, done)


class ClusterApplyError(ClusterError):
    """Some objects were refused: each one named with the server's message."""

    def __init__(self, release_name: str, summary: str, failed: list[ObjectChange]) -> None:
        lines = "\n  ".join(f"{c.ref.kind}/{c.ref.name}: {c.message}" for c in failed)
        super().__init__(f"{summary}:\n  {lines}", kind="release", name=release_name)
        self.failed = failed
