"""`status` and `history`: what the release's records say, and whether its objects exist."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lmfchart.usecases.changes import manifest_refs
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.releases import read_history, require_history

_URL = re.compile(r"https?://[^\s]+")


@dataclass(frozen=True)
class ObjectState:
    ref: ObjectRef
    exists: bool


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.release_name, "namespace": self.namespace,
            "revision": self.revision, "status": self.status,
            "last_deployed": self.last_deployed, "description": self.description,
            "url": self.url,
            "objects": [{"apiVersion": o.ref.api_version, "kind": o.ref.kind,
                         "name": o.ref.name, "exists": o.exists} for o in self.objects],
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
    objects = [ObjectState(ref, cluster.get(ref) is not None)
               for ref in manifest_refs(latest.manifest, namespace)]
    url = _URL.search(latest.notes)
    return StatusReport(
        release_name, namespace, latest.version, latest.status, latest.last_deployed,
        latest.description, tuple(objects), url.group(0) if url else None, latest.notes,
    )


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
