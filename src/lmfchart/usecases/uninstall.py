"""`uninstall`: delete exactly the objects of the release's latest revision, then its records.

With a deletion waiter (`--wait`), the records go only once every deleted object is gone, so
an uninstall that ran out of time can run again (and find the release) when they are."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass

from lmfchart.base.errors import NotReadyError
from lmfchart.release.record import secret_name
from lmfchart.usecases.changes import (
    ClusterApplyError,
    ObjectChange,
    manifest_refs,
    remove_object,
)
from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.deletion import DeletionResult, DeletionWaiter
from lmfchart.usecases.lock import holding
from lmfchart.usecases.releases import delete_records, read_history, require_history


@dataclass(frozen=True)
class UninstallResult:
    release_name: str
    namespace: str
    revision: int
    changes: tuple[ObjectChange, ...]
    records: tuple[str, ...]  # record Secrets deleted (or that would be, with dry_run)
    dry_run: bool
    waited: DeletionResult | None = None


def uninstall(*, cluster: Cluster, release_name: str, namespace: str,
              dry_run: bool = False, wait: DeletionWaiter | None = None) -> UninstallResult:
    """Delete the release's objects, then its records, holding its Lease (not for a dry
    run, which writes nothing)."""
    exclusive = nullcontext() if dry_run else holding(
        cluster=cluster, release_name=release_name, namespace=namespace)
    with exclusive:
        return _uninstall(cluster=cluster, release_name=release_name, namespace=namespace,
                          dry_run=dry_run, wait=wait)


def _uninstall(*, cluster: Cluster, release_name: str, namespace: str,
               dry_run: bool, wait: DeletionWaiter | None) -> UninstallResult:
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
    waited = None
    deleted = [c.ref for c in changes if c.action == "deleted"]
    if wait is not None and deleted and not dry_run:
        waited = wait(deleted)
        if not waited.gone:
            raise NotReadyError(
                f"uninstall of release {release_name} in namespace {namespace}: "
                f"{waited.explanation()}\nthe records are kept: run the uninstall again "
                "once these are gone")
    records = (
        [secret_name(s.record.name, s.record.version) for s in history]
        if dry_run else delete_records(cluster=cluster, history=history)
    )
    return UninstallResult(release_name, namespace, latest.version, tuple(changes),
                           tuple(records), dry_run, waited)
