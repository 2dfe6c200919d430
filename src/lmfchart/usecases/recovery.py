"""A release left `pending-*` by a killed operation, recovered instead of blocking for ever.

Every lmfchart operation holds the release's Lease while it runs, so a pending latest
revision with no live Lease was left by a process that died (or by a killed helm, which
takes no Lease). It is marked `failed`, with the resourceVersion as precondition, and the
operation goes on; with a live Lease the release is busy and nothing is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from lmfchart.usecases.cluster import Cluster
from lmfchart.usecases.lock import ReleaseBusyError, busy_message, held_here, live_holder
from lmfchart.usecases.releases import StoredRecord, rewrite_record

RECOVERED = "Interrupted: recovered by lmfchart"


def recover_interrupted(*, cluster: Cluster, history: list[StoredRecord], release_name: str,
                        namespace: str, dry_run: bool = False,
                        say: Callable[[str], None] | None = None) -> list[StoredRecord]:
    """HISTORY with an interrupted pending latest revision marked failed (in memory only
    with DRY_RUN); raises ReleaseBusyError when a live operation holds the release."""
    if not history or not history[-1].record.status.startswith("pending-"):
        return history
    latest = history[-1]
    record = latest.record
    # Our own Lease never counts: the caller holds it, so it is not "another" operation.
    holder = live_holder(cluster=cluster, release_name=release_name, namespace=namespace)
    if holder is not None and not held_here(holder.holder):
        raise ReleaseBusyError(f"revision {record.version} is {record.status}: "
                               + busy_message(release_name, namespace, holder))
    what = (f"revision {record.version} is {record.status} and no live operation holds the "
            "release: it was interrupted (a killed or disconnected process)")
    if dry_run:
        (say or _quiet)(f"{what}; a real run marks it failed")
        recovered = StoredRecord(replace(record, status="failed", description=RECOVERED),
                                 latest.resource_version)
    else:
        recovered = rewrite_record(cluster=cluster, stored=latest, status="failed",
                                   description=RECOVERED)
        (say or _quiet)(f"{what}; marked it failed")
    return [*history[:-1], recovered]


def _quiet(_line: str) -> None:
    pass
