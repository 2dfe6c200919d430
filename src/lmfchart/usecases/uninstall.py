"""`uninstall`: delete exactly the objects of the release's latest revision, then its records."""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.release.record import secret_name
from lmfchart.usecases.changes import (
    ClusterApplyError,
    ObjectChange,
    manifest_refs,
    remove_object,
)
from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.releases import delete_records, read_history, require_history


@dataclass(frozen=True)
class UninstallResult:
    release_name: str
    namespace: str
    revision: int
    changes: tuple[ObjectChange, ...]
    records: tuple[str, ...]  # record Secrets deleted (or that would be, with dry_run)
    dry_run: bool


def uninstall(*, cluster: Cluster, release_name: str, namespace: str,
              dry_run: bool = False) -> UninstallResult:
    history = read_history(cluster=cluster, release_name=release_name, namespace=namespace)
    latest = require_history(history, release_name=release_name, namespace=namespace)
    changes = []
    for ref in reversed(manifest_refs(latest.manifest, namespace)):
        change = remove_object(cluster, ref, release_name=release_name,
                               namespace=namespace, done="deleted", dry_run=dry_run)
        if change is not None:
            changes.append(change)
    failed = [c for c in changes if c.action == "failed"]
    if failed:
        raise ClusterApplyError(
            release_name, "uninstall stopped; the records are kept, so it can run again",
            failed)
    records = (
        [secret_name(s.record.name, s.record.version) for s in history]
        if dry_run else delete_records(cluster=cluster, history=history)
    )
    return UninstallResult(release_name, namespace, latest.version, tuple(changes),
                           tuple(records), dry_run)
