"""One revision of a Helm release as the Secret `helm` 3 and 4 store it, both ways.

The Secret is `sh.helm.release.v1.<name>.v<revision>`, type `helm.sh/release.v1`, with
the labels Helm selects on, and `data.release` = base64(gzip(JSON)); the Secret API
base64-encodes that once more. The JSON keys are those of Helm's `pkg/release/v1`.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, cast, get_args

from lmfchart.base.errors import ReleaseRecordError
from lmfchart.release.chart import chart_metadata, chart_payload

__all__ = [
    "MAX_RECORD_BYTES",
    "SECRET_TYPE",
    "STATUSES",
    "SYSTEM_LABELS",
    "ReleaseRecord",
    "Status",
    "chart_payload",
    "record_from_secret",
    "record_labels",
    "record_to_secret",
    "rfc3339",
    "secret_name",
]

Status = Literal["unknown", "deployed", "uninstalled", "superseded", "failed", "uninstalling",
                 "pending-install", "pending-upgrade", "pending-rollback"]
STATUSES: tuple[str, ...] = get_args(Status)
SECRET_TYPE = "helm.sh/release.v1"
OWNER = "helm"
# Labels Helm sets itself; any other label on a record is the user's and is kept.
SYSTEM_LABELS = ("name", "owner", "status", "version", "createdAt", "modifiedAt")
# A Secret holds at most 1 MiB (helm/helm#6711): Helm fails on bigger records too.
MAX_RECORD_BYTES = 1024 * 1024
# A record that inflates past this is not one Helm could have written; don't exhaust memory.
_MAX_JSON_BYTES = 64 * MAX_RECORD_BYTES
_GZIP_MAGIC = b"\x1f\x8b\x08"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_TIMES = ("first_deployed", "last_deployed", "deleted")
# Go's zero time, which some writers put where they mean "unset".
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_Fail = Callable[[str], ReleaseRecordError]


@dataclass
class ReleaseRecord:
    """One revision of a release; field names follow Helm's JSON where they can."""

    name: str
    namespace: str
    version: int
    status: Status
    config: dict[str, Any]            # user-supplied values (what `helm get values` shows)
    manifest: str                     # `---\n# Source: <chart>/templates/X\n<yaml>` blocks
    chart: dict[str, Any]             # Helm's chart JSON (see `chart_payload`)
    first_deployed: str | None        # RFC3339; None when unset (never "")
    last_deployed: str | None
    deleted: str | None
    description: str
    notes: str
    apply_method: str | None = "ssa"  # Helm 4 upgrades server-side only after "ssa"
    hooks: list[dict[str, Any]] = field(default_factory=list)
    extra_labels: dict[str, str] = field(default_factory=dict)   # user labels Helm keeps

    @property
    def secret_name(self) -> str:
        return secret_name(self.name, self.version)

    @property
    def chart_name(self) -> str:
        return str(chart_metadata(self.chart).get("name", ""))

    @property
    def chart_version(self) -> str:
        return str(chart_metadata(self.chart).get("version", ""))

    @property
    def app_version(self) -> str:
        return str(chart_metadata(self.chart).get("appVersion", ""))


def secret_name(release_name: str, version: int) -> str:
    return f"sh.helm.release.v1.{release_name}.v{version}"


def rfc3339(moment: datetime | None = None) -> str:
    """A timestamp Helm 3 and 4 both parse (UTC, microseconds); now when not given."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record_labels(release_name: str) -> dict[str, str]:
    """The label selector that finds every record of one release."""
    return {"name": release_name, "owner": OWNER}


# -- writing ------------------------------------------------------------------------------


def record_to_secret(record: ReleaseRecord, *, created: bool,
                     now: int | None = None) -> dict[str, Any]:
    """The full Secret body for RECORD; `created` picks Helm's createdAt or modifiedAt label
    (Unix seconds, `now` or the current time)."""
    where = _where(record.namespace, record.secret_name)
    _check_writable(record, where)
    payload = base64.b64encode(gzip.compress(_record_json(record, where), compresslevel=9,
                                             mtime=0))
    if len(payload) > MAX_RECORD_BYTES:
        raise ReleaseRecordError(
            f"release record {where} would be {len(payload)} bytes after compression, over "
            f"the {MAX_RECORD_BYTES} bytes (1 MiB) a Secret can hold; Helm cannot store it "
            "either: make the values or the files the chart carries smaller")
    stamp = "createdAt" if created else "modifiedAt"
    labels = {
        **record.extra_labels,
        "name": record.name,
        "owner": OWNER,
        "status": record.status,
        "version": str(record.version),
        stamp: str(int(time.time()) if now is None else now),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": record.secret_name, "namespace": record.namespace,
                     "labels": labels},
        "type": SECRET_TYPE,
        "data": {"release": base64.b64encode(payload).decode("ascii")},
    }


def _check_writable(record: ReleaseRecord, where: str) -> None:
    problems: list[str] = []
    if not record.name:
        problems.append("the release name is empty")
    if not record.namespace:
        problems.append("the namespace is empty")
    if record.version < 1:
        problems.append(f"revision {record.version} is not a positive number")
    if record.status not in STATUSES:
        problems.append(f"status {record.status!r} is not one of {', '.join(STATUSES)}")
    reserved = sorted(set(record.extra_labels) & set(SYSTEM_LABELS))
    if reserved:
        problems.append(f"labels {', '.join(reserved)} are reserved for Helm's own use")
    for key in _TIMES:
        stamp = getattr(record, key)
        if stamp is not None and stamp != "" and not _is_rfc3339(stamp):
            problems.append(f"{key} {stamp!r} is not an RFC 3339 time")
    if problems:
        raise ReleaseRecordError(f"release record {where} cannot be written: "
                                 + "; ".join(problems))


def _record_json(record: ReleaseRecord, where: str) -> bytes:
    # Key order and omitted empties as Helm 4's encoding/json writes them: an unset time is
    # left out (omitzero), never "", which not every reader of Helm records accepts.
    info = _without_empty({
        "first_deployed": record.first_deployed,
        "last_deployed": record.last_deployed,
        "deleted": record.deleted,
        "description": record.description,
        "status": record.status,
        "notes": record.notes,
    })
    release = _without_empty({
        "name": record.name,
        "info": info,
        "chart": record.chart,
        "config": record.config,
        "manifest": record.manifest,
        "hooks": record.hooks,
        "version": record.version,
        "namespace": record.namespace,
        "apply_method": record.apply_method,
    })
    try:
        return json.dumps(release, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise ReleaseRecordError(f"release record {where} cannot be written as JSON: {e}") from e


def _without_empty(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value not in (None, "", {}, [])}


# -- reading ------------------------------------------------------------------------------


def record_from_secret(secret: dict[str, Any]) -> ReleaseRecord:
    """Decode a release Secret written by Helm 3, Helm 4 or lmfchart (gzipped or not)."""
    metadata = secret.get("metadata") or {}
    where = _where(metadata.get("namespace"), metadata.get("name"))

    def fail(why: str) -> ReleaseRecordError:
        return ReleaseRecordError(f"release record {where} cannot be read: {why}")

    release = _decode_json(secret, fail)
    info = release.get("info")
    if not isinstance(info, dict):
        raise fail("it has no `info` object")
    status = info.get("status", "unknown")
    if status not in STATUSES:
        raise fail(f"unknown status {status!r} (expected one of {', '.join(STATUSES)})")
    version = release.get("version", 0)
    if type(version) is not int or version < 1:
        raise fail(f"`version` is {version!r}, expected a revision number from 1")
    name = _typed(release, "name", str, "", fail)
    if not name:
        raise fail("it names no release")
    labels = metadata.get("labels") or {}
    return ReleaseRecord(
        name=name,
        namespace=_typed(release, "namespace", str, "", fail) or metadata.get("namespace", ""),
        version=version,
        status=cast(Status, status),
        config=_typed(release, "config", dict, {}, fail),
        manifest=_typed(release, "manifest", str, "", fail),
        chart=_typed(release, "chart", dict, {}, fail),
        first_deployed=_time(info, "first_deployed", fail),
        last_deployed=_time(info, "last_deployed", fail),
        deleted=_time(info, "deleted", fail),
        description=_typed(info, "description", str, "", fail),
        notes=_typed(info, "notes", str, "", fail),
        apply_method=_typed(release, "apply_method", str, "", fail) or None,
        hooks=_typed(release, "hooks", list, [], fail),
        extra_labels={key: value for key, value in labels.items() if key not in SYSTEM_LABELS},
    )


def _decode_json(secret: dict[str, Any], fail: _Fail) -> dict[str, Any]:
    data = (secret.get("data") or {}).get("release")
    if not isinstance(data, str) or not data:
        raise fail("the Secret has no data.release")
    try:
        # Once for the Secret API's own encoding, once for Helm's.
        helm_text = base64.b64decode(data, validate=True)
        raw = base64.b64decode(helm_text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise fail(f"data.release is not base64 ({e})") from e
    if raw.startswith(_GZIP_MAGIC):
        raw = _gunzip(raw, fail)
    try:
        release = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"the record is not JSON ({e})") from e
    if not isinstance(release, dict):
        raise fail(f"the record is a JSON {type(release).__name__}, expected an object")
    return release


def _gunzip(raw: bytes, fail: _Fail) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, _MAX_JSON_BYTES)
    except zlib.error as e:
        raise fail(f"the gzip data is corrupt ({e})") from e
    if inflater.unconsumed_tail:
        raise fail(f"it inflates to more than {_MAX_JSON_BYTES} bytes")
    if not inflater.eof:
        raise fail("the gzip data is truncated")
    return out


def _typed(source: dict[str, Any], key: str, kind: type, default: Any, fail: _Fail) -> Any:
    value = source.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        raise fail(f"`{key}` is a JSON {type(value).__name__}, expected {kind.__name__}")
    return value


def _time(info: dict[str, Any], key: str, fail: _Fail) -> str | None:
    # Helm 3 writes an unset time as "": read it (and Go's zero time) as unset.
    value = _typed(info, key, str, "", fail)
    if value and not _is_rfc3339(value):
        raise fail(f"info.{key} {value!r} is not an RFC 3339 time")
    return None if value in ("", _GO_ZERO_TIME) else value


def _is_rfc3339(text: str) -> bool:
    if not _RFC3339.match(text):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _where(namespace: object, name: object) -> str:
    return f"Secret {namespace or '?'}/{name or '?'}"
