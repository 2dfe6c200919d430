"""`status` and `history`: what the release's records say, how ready its objects are, and
how far its train and export runs got.

Readiness and reasons are the ones `install --wait` shows: one GET per object, then the
Warning events and pods only for objects that are not ready. Each run adds a pod list and,
while it runs or once it failed, one tail-limited log read (`runreport`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lmfchart.usecases.changes import manifest_refs
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.diagnosis import WarningsOnce
from lmfchart.usecases.liveruns import run_of
from lmfchart.usecases.releases import read_history, require_history
from lmfchart.usecases.runreport import RunReport, report_runs
from lmfchart.usecases.wait import ObjectStatus, judge

_URL = re.compile(r"https?://[^\s]+")
MISSING = "Missing"  # the state of an object the record names but the server does not have


@dataclass(frozen=True)
class ObjectState:
    """One object of the release: its kstatus state (or MISSING), what that means, and
    why it is not ready."""

    ref: ObjectRef
    state: str
    message: str
    reasons: tuple[str, ...] = ()

    @property
    def exists(self) -> bool:
        return self.state != MISSING

    def as_dict(self) -> dict[str, Any]:
        return {"apiVersion": self.ref.api_version, "kind": self.ref.kind,
                "name": self.ref.name, "exists": self.exists, "state": self.state,
                "message": self.message, "reasons": list(self.reasons)}


@dataclass(frozen=True)
class StatusReport:
    release_name: str
    namespace: str
    revision: int
    status: str
    last_deployed: str | None
    description: str
    objects: tuple[ObjectState, ...]
    url: str | None
    notes: str
    runs: tuple[RunReport, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.release_name, "namespace": self.namespace,
            "revision": self.revision, "status": self.status,
            "last_deployed": self.last_deployed, "description": self.description,
            "url": self.url,
            "objects": [o.as_dict() for o in self.objects],
            "runs": [r.as_dict() for r in self.runs],
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Revision:
    revision: int
    updated: str | None
    status: str
    chart: str
    app_version: str
    description: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def status(*, cluster: Cluster, release_name: str, namespace: str) -> StatusReport:
    history = read_history(cluster=cluster, release_name=release_name, namespace=namespace)
    latest = require_history(history, release_name=release_name, namespace=namespace)
    live = [(ref, cluster.get(ref)) for ref in manifest_refs(latest.manifest, namespace)]
    # Objects and runs are explained from one read of the namespace's Warning events.
    warnings = WarningsOnce(cluster)
    objects = _object_states(cluster, live, warnings)
    # The runs of this revision: its train and export Jobs (and PyTorchJobs), read above.
    runs = [run for run in (run_of(obj) for _, obj in live if obj is not None) if run]
    url = _URL.search(latest.notes)
    return StatusReport(
        release_name, namespace, latest.version, latest.status, latest.last_deployed,
        latest.description, tuple(objects), url.group(0) if url else None, latest.notes,
        report_runs(cluster=cluster, runs=runs, warnings=warnings),
    )


def _object_states(cluster: Cluster, live: list[tuple[ObjectRef, dict[str, Any] | None]],
                   warnings: WarningsOnce) -> list[ObjectState]:
    judged = iter(judge(cluster=cluster, with_logs=False, warnings=warnings,
                        live=[(ref, obj) for ref, obj in live if obj is not None]))
    return [ObjectState(ref, MISSING, "not found in the cluster") if obj is None
            else _state_of(next(judged)) for ref, obj in live]


def _state_of(judged: ObjectStatus) -> ObjectState:
    return ObjectState(judged.ref, str(judged.state), judged.message, judged.reasons)


def history(*, cluster: Cluster, release_name: str, namespace: str) -> list[Revision]:
    """Every revision, oldest first, as `helm history` lists them."""
    stored = read_history(cluster=cluster, release_name=release_name, namespace=namespace)
    require_history(stored, release_name=release_name, namespace=namespace)
    revisions = []
    for item in stored:
        record = item.record
        metadata = record.chart.get("metadata") or {}
        revisions.append(Revision(
            record.version, record.last_deployed, record.status,
            f"{metadata.get('name', '?')}-{metadata.get('version', '?')}",
            str(metadata.get("appVersion", "")), record.description,
        ))
    return revisions
