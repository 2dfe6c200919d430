"""`rollback`: deploy a stored revision again as a new one, the way `helm rollback` does, so
helm 3 and 4 read the result as their own and can roll it back again."""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.base.errors import ReleaseStateError
from lmfchart.release.manifest import manifest_objects
from lmfchart.release.record import ReleaseRecord, rfc3339
from lmfchart.usecases.applying import Progress, deploy_revision
from lmfchart.usecases.changes import ObjectChange
from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.lock import holding
from lmfchart.usecases.ownership import owned
from lmfchart.usecases.releases import StoredRecord, read_history, refuse_pending, require_history


@dataclass(frozen=True)
class RollbackResult:
    release_name: str
    namespace: str
    target: int  # the revision rolled back to
    revision: int  # the new revision written
    changes: tuple[ObjectChange, ...]


def rollback(*, cluster: Cluster, release_name: str, namespace: str,
             revision: int | None = None, progress: Progress | None = None) -> RollbackResult:
    """Roll back to REVISION (default: the one before the latest), holding the Lease."""
    with holding(cluster=cluster, release_name=release_name, namespace=namespace):
        return _rollback(cluster=cluster, release_name=release_name, namespace=namespace,
                         revision=revision, progress=progress)


def _rollback(*, cluster: Cluster, release_name: str, namespace: str,
              revision: int | None, progress: Progress | None) -> RollbackResult:
    history = read_history(cluster=cluster, release_name=release_name, namespace=namespace)
    current = require_history(history, release_name=release_name, namespace=namespace)
    refuse_pending(history)
    target = _target(history, current, revision)
    objects = [owned(_in_namespace(obj, namespace), release_name=release_name,
                     namespace=namespace) for obj in manifest_objects(target.manifest)]
    changes = deploy_revision(
        cluster=cluster, record=_rollback_record(current, target), objects=objects,
        previous_manifest=current.manifest, history=history, say=progress,
    )
    return RollbackResult(release_name, namespace, target.version, current.version + 1,
                          tuple(changes))


def _target(history: list[StoredRecord], current: ReleaseRecord,
            revision: int | None) -> ReleaseRecord:
    wanted = current.version - 1 if revision is None else revision
    if wanted < 1:
        raise ReleaseStateError(
            f"release {current.name} has only revision {current.version}: nothing to roll "
            "back to")
    for stored in history:
        if stored.record.version == wanted:
            return stored.record
    kept = ", ".join(str(s.record.version) for s in history)
    raise ReleaseStateError(
        f"release {current.name} in namespace {current.namespace} has no revision {wanted} "
        f"(revisions kept: {kept})")


def _in_namespace(obj: dict[str, object], namespace: str) -> dict[str, object]:
    # A chart may leave the namespace out; helm puts the object in the release's.
    metadata = obj.setdefault("metadata", {})
    if isinstance(metadata, dict):
        metadata.setdefault("namespace", namespace)
    return obj


def _rollback_record(current: ReleaseRecord, target: ReleaseRecord) -> ReleaseRecord:
    """What helm writes: the target's chart, values, manifest, hooks and notes as revision
    current+1, first deployed when the release was."""
    return ReleaseRecord(
        name=current.name, namespace=current.namespace, version=current.version + 1,
        status="pending-rollback", config=target.config, manifest=target.manifest,
        chart=target.chart, first_deployed=current.first_deployed or rfc3339(),
        last_deployed=rfc3339(), deleted=None,
        description=f"Rollback to {target.version}", notes=target.notes,
        apply_method="ssa", hooks=list(target.hooks),
        extra_labels=dict(target.extra_labels),
    )
