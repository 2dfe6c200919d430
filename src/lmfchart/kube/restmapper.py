"""apiVersion + kind -> the resource's URL, from the API server's discovery, cached on disk.

The client's own `LazyDiscoverer` fetches every group of the server on a cold cache (23
requests against kube-apiserver 1.35) and all of them again on any miss; this mapper knows
the built-in kinds lmfchart writes and asks only for the other group versions it is asked
about: one request per group version, once per `CACHE_SECONDS`, shared between runs in one
file per server.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from kubernetes.dynamic.exceptions import ResourceNotFoundError
from kubernetes.dynamic.resource import Resource

# Like kubectl's discovery cache: a CRD added since is still found (a miss refetches).
CACHE_SECONDS = 6 * 3600

# The kinds Kubernetes itself serves that lmfchart writes, at the URLs its API fixes
# (plural, namespaced): no discovery request for them, even against a cluster never seen
# before. The e2e tests hold this table against a real API server's discovery.
BUILT_IN: dict[tuple[str, str], tuple[str, bool]] = {
    ("v1", "ConfigMap"): ("configmaps", True),
    ("v1", "Namespace"): ("namespaces", False),
    ("v1", "PersistentVolumeClaim"): ("persistentvolumeclaims", True),
    ("v1", "Pod"): ("pods", True),
    ("v1", "Secret"): ("secrets", True),
    ("v1", "Service"): ("services", True),
    ("v1", "ServiceAccount"): ("serviceaccounts", True),
    ("apps/v1", "Deployment"): ("deployments", True),
    ("batch/v1", "Job"): ("jobs", True),
    ("coordination.k8s.io/v1", "Lease"): ("leases", True),
    ("networking.k8s.io/v1", "Ingress"): ("ingresses", True),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("networkpolicies", True),
}


class RestMapper:
    """Plugs into `DynamicClient(discoverer=...)` as its `resources`: `get(api_version,
    kind)` returns the client's `Resource` for that kind."""

    def __init__(self, client: Any, cache_file: str, *,
                 request_timeout: tuple[float, float]) -> None:
        self._client = client
        self._timeout = request_timeout
        self._cache_file = Path(cache_file)
        self._groups: dict[str, Any] = _read(self._cache_file)
        self._fetched_now: set[str] = set()

    def get(self, *, api_version: str, kind: str) -> Resource:
        built_in = BUILT_IN.get((api_version, kind))
        if built_in is not None:
            plural, namespaced = built_in
        else:
            plural, namespaced = self._discovered(api_version, kind)
        group, _, version = api_version.rpartition("/")
        return Resource(prefix="apis" if group else "api", group=group, api_version=version,
                        kind=kind, namespaced=namespaced, name=plural, client=self._client)

    def _discovered(self, api_version: str, kind: str) -> tuple[str, bool]:
        kinds = self._kinds(api_version, refresh=False)
        if kind not in kinds and api_version not in self._fetched_now:
            kinds = self._kinds(api_version, refresh=True)
        if kind not in kinds:
            raise ResourceNotFoundError(f"{kind} in {api_version}")
        plural, namespaced = kinds[kind]
        return str(plural), bool(namespaced)

    def serves(self, *, api_version: str, kind: str) -> bool:
        """Whether the server serves KIND. Any kind outside BUILT_IN is asked again once
        per run: a CRD may have been removed since the cache was written, and a group's
        name does not tell a CRD's from Kubernetes' own (the Gateway API's CRDs serve
        gateway.networking.k8s.io)."""
        if (api_version, kind) not in BUILT_IN and api_version not in self._fetched_now:
            self._kinds(api_version, refresh=True)
        try:
            self.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            return False
        return True

    def _kinds(self, api_version: str, *, refresh: bool) -> dict[str, list[Any]]:
        entry = self._groups.get(api_version)
        if entry is not None and not refresh and time.time() - entry["fetched"] < CACHE_SECONDS:
            kinds: dict[str, list[Any]] = entry["kinds"]
            return kinds
        kinds = self._discover(api_version)
        self._groups[api_version] = {"fetched": time.time(), "kinds": kinds}
        self._fetched_now.add(api_version)
        _write(self._cache_file, self._groups)
        return kinds

    def _discover(self, api_version: str) -> dict[str, list[Any]]:
        path = f"/apis/{api_version}" if "/" in api_version else f"/api/{api_version}"
        try:
            listing = self._client.request("get", path, _request_timeout=self._timeout).to_dict()
        except Exception as e:
            if getattr(e, "status", None) == 404:
                return {}  # the group version is not served: no kind of it is
            raise
        return {
            resource["kind"]: [resource["name"], bool(resource.get("namespaced"))]
            for resource in listing.get("resources") or []
            if "/" not in resource["name"]  # subresources such as deployments/scale
        }


def _read(path: Path) -> dict[str, Any]:
    try:
        groups = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or a damaged one: discovery rebuilds it
    return groups if isinstance(groups, dict) else {}


def _write(path: Path, groups: dict[str, Any]) -> None:
    # Written whole and renamed into place: a concurrent run never reads half a file.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".discovery-")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(groups, stream)
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache only costs requests
