"""`secret create`: an Opaque Secret from files or standard input, for the values to
reference (secrets.hfToken, secrets.wandbApiKey, api.apiKeySecret...)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lmfchart.base.errors import ConflictError, ReleaseStateError, UsageError
from lmfchart.inputs.secretdata import SecretEntry
from lmfchart.model import formats
from lmfchart.usecases.cluster import Cluster, ObjectRef

OPAQUE = "Opaque"


@dataclass(frozen=True)
class SecretWritten:
    """What a user may see of the Secret written: names and sizes, never a value."""

    name: str
    namespace: str
    outcome: Literal["created", "replaced"]
    sizes: tuple[tuple[str, int], ...]
    """(key, number of bytes) for each key, in the order given."""


def create_secret(*, cluster: Cluster, name: str, namespace: str,
                  entries: Sequence[SecretEntry], force: bool = False) -> SecretWritten:
    """Create Secret NAME holding ENTRIES; one that exists is replaced only with FORCE, and
    only when it is Opaque (never a release record, a TLS or a service account Secret)."""
    for what, text, check in (("Secret name", name, formats.dns_subdomain),
                              ("namespace", namespace, formats.dns_label)):
        problem = check(text)
        if problem:
            raise UsageError(f"{what} {text!r}: {problem}")
    body: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": OPAQUE,
        "data": {e.key: base64.b64encode(e.data).decode("ascii") for e in entries},
    }
    sizes = tuple((e.key, len(e.data)) for e in entries)
    try:
        cluster.create_secret(body)
    except ConflictError:
        if not force:
            raise ReleaseStateError(
                f"Secret {namespace}/{name} exists already; nothing was changed (--force "
                "replaces its data)") from None
        _replace(cluster, body)
        return SecretWritten(name, namespace, "replaced", sizes)
    return SecretWritten(name, namespace, "created", sizes)


def _replace(cluster: Cluster, body: dict[str, Any]) -> None:
    metadata = body["metadata"]
    current = cluster.get(ObjectRef("v1", "Secret", metadata["namespace"], metadata["name"]))
    where = f"Secret {metadata['namespace']}/{metadata['name']}"
    if current is None:
        raise ReleaseStateError(f"{where} was deleted while lmfchart replaced it; run the "
                                "command again")
    kind = current.get("type") or OPAQUE
    if kind != OPAQUE:
        raise ReleaseStateError(f"{where} is of type {kind}, not {OPAQUE}: lmfchart replaces "
                                "only Opaque Secrets; nothing was changed")
    # The resourceVersion makes the replace fail (409) if someone changed it meanwhile.
    current_meta = current.get("metadata") or {}
    metadata["resourceVersion"] = current_meta.get("resourceVersion")
    for kept in ("labels", "annotations"):
        if current_meta.get(kept):
            metadata[kept] = current_meta[kept]
    cluster.replace_secret(body)
