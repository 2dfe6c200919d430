"""Helm's release record, as Helm 3 and 4 store it in a Secret `sh.helm.release.v1.NAME.vN`."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from lmfchart.base.errors import LmfchartError

Status = Literal["unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling",
                 "pending-install", "pending-upgrade", "pending-rollback"]
SECRET_TYPE = "helm.sh/release.v1"
# Helm's own labels on a record Secret; every other label is the user's and is kept.
SYSTEM_LABELS = ("name", "owner", "status", "version", "createdAt", "modifiedAt")


class ReleaseRecordError(LmfchartError):
    """A record Secret that cannot be read as a Helm release."""


@dataclass
class ReleaseRecord:
    name: str
    namespace: str
    version: int
    status: Status
    config: dict[str, Any]
    manifest: str
    chart: dict[str, Any]
    first_deployed: str | None
    last_deployed: str | None
    deleted: str | None
    description: str
    notes: str
    apply_method: str | None = "ssa"
    hooks: list[dict[str, Any]] = field(default_factory=list)
    extra_labels: dict[str, str] = field(default_factory=dict)


def secret_name(release_name: str, version: int) -> str:
    return f"sh.helm.release.v1.{release_name}.v{version}"


def record_to_secret(record: ReleaseRecord, *, created: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"description": record.description, "status": record.status,
                            "notes": record.notes}
    # Helm 3 cannot decode "" as a time: leave an unset time out.
    for key in ("first_deployed", "last_deployed", "deleted"):
        value = getattr(record, key)
        if value:
            info[key] = value
    body: dict[str, Any] = {
        "name": record.name, "info": info, "chart": record.chart, "config": record.config,
        "manifest": record.manifest, "version": record.version,
        "namespace": record.namespace,
    }
    if record.hooks:
        body["hooks"] = record.hooks
    if record.apply_method:
        body["apply_method"] = record.apply_method
    packed = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    labels = {**record.extra_labels, "name": record.name, "owner": "helm",
              "status": record.status, "version": str(record.version),
              "createdAt" if created else "modifiedAt": str(int(time.time()))}
    return {
        "apiVersion": "v1", "kind": "Secret", "type": SECRET_TYPE,
        "metadata": {"name": secret_name(record.name, record.version),
                     "namespace": record.namespace, "labels": labels},
        "data": {"release": base64.b64encode(packed.encode()).decode()},
    }


def record_from_secret(secret: dict[str, Any]) -> ReleaseRecord:
    name = (secret.get("metadata") or {}).get("name", "?")
    try:
        packed = base64.b64decode(base64.b64decode(secret["data"]["release"]))
        if packed[:2] == b"\x1f\x8b":
            packed = gzip.decompress(packed)
        body = json.loads(packed)
    except (KeyError, TypeError, ValueError, binascii.Error, OSError, zlib.error) as e:
        raise ReleaseRecordError(f"Secret {name}: not a Helm release record ({e})") from e
    info = body.get("info") or {}
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return ReleaseRecord(
        name=body["name"], namespace=body.get("namespace", ""), version=int(body["version"]),
        status=info.get("status", "unknown"), config=body.get("config") or {},
        manifest=body.get("manifest", ""), chart=body.get("chart") or {},
        first_deployed=info.get("first_deployed") or None,
        last_deployed=info.get("last_deployed") or None, deleted=info.get("deleted") or None,
        description=info.get("description", ""), notes=info.get("notes", ""),
        apply_method=body.get("apply_method"), hooks=body.get("hooks") or [],
        extra_labels={k: v for k, v in labels.items() if k not in SYSTEM_LABELS},
    )


def chart_payload(*, files: dict[str, str]) -> dict[str, Any]:
    def b64(text: str) -> str:
        return base64.b64encode(text.encode()).decode()

    special = ("Chart.yaml", "values.yaml", "values.schema.json")
    return {
        "metadata": yaml.safe_load(files["Chart.yaml"]),
        "lock": None,
        "templates": [{"name": path, "data": b64(text)} for path, text in sorted(files.items())
                      if path.startswith("templates/")],
        "values": yaml.safe_load(files["values.yaml"]) or {},
        "schema": b64(files["values.schema.json"]) if "values.schema.json" in files else None,
        "files": [{"name": path, "data": b64(text)} for path, text in sorted(files.items())
                  if path not in special and not path.startswith("templates/")],
    }
