"""Deploying a revision: apply its objects server-side as helm, prune what the previous
revision had and this one lacks, and record the outcome the way helm does. Shared by
install (upgrade) and rollback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lmfchart.base.errors import ClusterError, ConflictError
from lmfchart.release.record import ReleaseRecord
from lmfchart.usecases.changes import (
    ClusterApplyError,
    ObjectChange,
    manifest_refs,
    remove_object,
    server_message,
)
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.liveobjects import (
    RECREATE_PATCH,
    client_side_takeover,
    needs_recreate_switch,
    unchanged,
)
from lmfchart.usecases.releases import StoredRecord, create_record, rewrite_record

Progress = Callable[[str], None]


def stale_refs(previous_manifest: str | None, objects: list[dict[str, Any]],
               namespace: str) -> list[ObjectRef]:
    """Objects of the previous revision that OBJECTS no longer has, in reverse order."""
    if previous_manifest is None:
        return []
    wanted = {ObjectRef.of(obj) for obj in objects}
    return [ref for ref in reversed(manifest_refs(previous_manifest, namespace))
            if ref not in wanted]


def deploy_revision(
    *, cluster: Cluster, record: ReleaseRecord, objects: list[dict[str, Any]],
    previous_manifest: str | None, history: list[StoredRecord],
    live: dict[ObjectRef, dict[str, Any] | None] | None = None,
    adopted: frozenset[ObjectRef] = frozenset(), done_description: str | None = None,
    say: Progress | None = None, settle: Callable[[StoredRecord], None] | None = None,
) -> list[ObjectChange]:
    """Write RECORD (a pending-* revision), apply OBJECTS, prune, then mark the revision
    deployed and the deployed ones before it superseded. When an object is refused the
    revision is recorded failed (the deployed one stays deployed) and ClusterApplyError
    names each refused object. SETTLE (install's --wait) runs between the apply and the
    record's `deployed`; it records the pending revision failed itself when it raises."""
    tell = say or (lambda _line: None)
    pending = create_record(cluster=cluster, record=record)
    changes = []
    for obj in objects:
        ref = ObjectRef.of(obj)
        current = live[ref] if live is not None else cluster.get(ref)
        change = apply_object(cluster, obj, current, force=ref in adopted)
        tell(change.describe())
        changes.append(change)
    if not _failed(changes):
        for ref in stale_refs(previous_manifest, objects, record.namespace):
            pruned = remove_object(cluster, ref, release_name=record.name,
                                   namespace=record.namespace, done="pruned")
            if pruned is not None:
                tell(pruned.describe())
                changes.append(pruned)
    failed = _failed(changes)
    if failed:
        rewrite_record(cluster=cluster, stored=pending, status="failed",
                       description="; ".join(c.describe() for c in failed))
        raise ClusterApplyError(
            record.name, f"revision {record.version} failed (recorded as failed)", failed)
    if settle is not None:
        settle(pending)
    rewrite_record(cluster=cluster, stored=pending, status="deployed",
                   description=done_description)
    for stored in history:
        if stored.record.status == "deployed":
            rewrite_record(cluster=cluster, stored=stored, status="superseded")
    return changes


def _failed(changes: list[ObjectChange]) -> list[ObjectChange]:
    return [c for c in changes if c.action == "failed"]


def apply_object(cluster: Cluster, obj: dict[str, Any], current: dict[str, Any] | None, *,
                 force: bool) -> ObjectChange:
    ref = ObjectRef.of(obj)
    try:
        if current is not None:
            switched = (cluster.patch(ref, RECREATE_PATCH)
                        if needs_recreate_switch(current, obj) else current)
            _take_over_client_side_fields(cluster, ref, switched)
        applied = cluster.apply(obj, force=force)
    except ClusterError as e:
        return ObjectChange(ref, "failed", server_message(e, ref))
    if current is None:
        return ObjectChange(ref, "created")
    return ObjectChange(ref, "unchanged" if unchanged(current, applied) else "changed")


def _take_over_client_side_fields(cluster: Cluster, ref: ObjectRef,
                                  current: dict[str, Any] | None, attempts: int = 5) -> None:
    # Controllers write status meanwhile (moving the resourceVersion): read again and retry.
    for attempt in range(attempts):
        if attempt:
            current = cluster.get(ref)
        takeover = client_side_takeover(current) if current is not None else None
        if takeover is None:
            return
        try:
            cluster.patch(ref, takeover, strategic=False)
            return
        except ConflictError:
            if attempt == attempts - 1:
                raise
