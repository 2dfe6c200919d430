"""A release's records as stored in its namespace: read them, write a new revision."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lmfchart.base.errors import ReleaseStateError
from lmfchart.release.record import (
    ReleaseRecord,
    Status,
    record_from_secret,
    record_to_secret,
    secret_name,
)
from lmfchart.usecases.cluster import Cluster


@dataclass(frozen=True)
class StoredRecord:
    """A record and the Secret's resourceVersion, the precondition for rewriting it."""

    record: ReleaseRecord
    resource_version: str | None


def read_history(*, cluster: Cluster, release_name: str, namespace: str) -> list[StoredRecord]:
    """Every record of the release, oldest revision first."""
    secrets = cluster.list_secrets(namespace, labels={"owner": "helm", "name": release_name})
    stored = [
        StoredRecord(record_from_secret(s), (s.get("metadata") or {}).get("resourceVersion"))
        for s in secrets
    ]
    return sorted(stored, key=lambda s: s.record.version)


def latest_or_none(history: list[StoredRecord]) -> ReleaseRecord | None:
    return history[-1].record if history else None


def refuse_pending(history: list[StoredRecord]) -> None:
    """Helm's rule: never start while the latest revision is pending-*."""
    latest = latest_or_none(history)
    if latest is not None and latest.status.startswith("pending-"):
        raise ReleaseStateError(
            f"release {latest.name} in namespace {latest.namespace}: revision "
            f"{latest.version} is {latest.status}: another install, upgrade or rollback is "
            "in progress, or one was interrupted; nothing was changed"
        )


def require_history(history: list[StoredRecord], *, release_name: str,
                    namespace: str) -> ReleaseRecord:
    latest = latest_or_none(history)
    if latest is None:
        raise ReleaseStateError(f"release {release_name} not found in namespace {namespace}")
    return latest


def create_record(*, cluster: Cluster, record: ReleaseRecord) -> StoredRecord:
    """Write a new revision; a concurrent writer of the same revision gets a 409."""
    created = cluster.create_secret(record_to_secret(record, created=True))
    return StoredRecord(record, _resource_version(created))


def rewrite_record(*, cluster: Cluster, stored: StoredRecord, status: Status,
                   description: str | None = None) -> StoredRecord:
    """Change a record's status, only if nobody rewrote it since it was read."""
    record = replace(stored.record, status=status,
                     description=stored.record.description if description is None
                     else description)
    secret = record_to_secret(record, created=False)
    if stored.resource_version is not None:
        secret["metadata"]["resourceVersion"] = stored.resource_version
    written = cluster.replace_secret(secret)
    return StoredRecord(record, _resource_version(written))


def delete_records(*, cluster: Cluster, history: list[StoredRecord]) -> list[str]:
    names = []
    for stored in history:
        name = secret_name(stored.record.name, stored.record.version)
        cluster.delete_secret(stored.record.namespace, name)
        names.append(name)
    return names


def _resource_version(secret: dict[str, Any]) -> str | None:
    version = (secret.get("metadata") or {}).get("resourceVersion")
    return str(version) if version is not None else None
