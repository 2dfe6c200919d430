"""`KubeCluster`: the `Cluster` protocol over the official kubernetes client.

Any apiVersion/kind goes through `kubernetes.dynamic.DynamicClient`, with our `RestMapper`
for discovery (cached on disk per API server in `cache_root()/kube-discovery`), so an
operation costs one request once the cache knows its group version. The client is built
on first use: connecting itself sends nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic import DynamicClient
from kubernetes.dynamic.exceptions import ResourceNotFoundError

from lmfchart.base.cache import cache_root
from lmfchart.base.errors import ClusterError, ConflictError
from lmfchart.kube.errors import translate
from lmfchart.kube.restmapper import RestMapper

# Helm 4's own field manager: lets `helm upgrade` take the objects back without conflicts.
FIELD_MANAGER = "helm"
# (connect, read) seconds for one request; waits for readiness are not single requests.
REQUEST_TIMEOUT = (10.0, 60.0)

_APPLY = "application/apply-patch+yaml"
_STRATEGIC = "application/strategic-merge-patch+json"
_MERGE = "application/merge-patch+json"
_CHUNK = 64 * 1024  # bytes read at a time from a followed log
# Seconds a followed log may stay silent: a training step can print nothing for minutes.
FOLLOW_READ_TIMEOUT = 3600.0


class Address(Protocol):
    """Which object: `usecases.cluster.ObjectRef` has this shape (this layer cannot import
    it, so the adapter takes anything that looks like it)."""

    @property
    def api_version(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def namespace(self) -> str | None: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class _Target:
    api_version: str
    kind: str
    namespace: str | None
    name: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> _Target:
        metadata = obj.get("metadata") or {}
        return cls(obj["apiVersion"], obj["kind"], metadata.get("namespace"), metadata["name"])


class KubeCluster:
    """One API server reached through an authenticated `kubernetes.client.ApiClient`."""

    def __init__(self, api_client: Any, *, discovery_dir: Path | None = None,
                 request_timeout: tuple[float, float] = REQUEST_TIMEOUT) -> None:
        self.api_client = api_client
        self.request_timeout = request_timeout
        self.server: str = api_client.configuration.host
        self._discovery_dir = discovery_dir or cache_root() / "kube-discovery"
        self._dynamic: Any = None

    # -- the Cluster protocol --------------------------------------------------------------

    def namespace_exists(self, name: str) -> bool:
        return self.get(_Target("v1", "Namespace", None, name)) is not None

    def create_namespace(self, name: str) -> None:
        body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        try:
            with self._translating("Namespace", name):
                self._resource("v1", "Namespace").create(
                    body=body, field_manager=FIELD_MANAGER, _request_timeout=self.request_timeout)
        except ConflictError:
            pass  # created meanwhile by someone else: exists, as asked

    def get(self, ref: Address) -> dict[str, Any] | None:
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            try:
                found = resource.get(name=ref.name, namespace=_scoped(resource, ref.namespace),
                                     _request_timeout=self.request_timeout)
            except ApiException as e:
                if e.status == 404:
                    return None
                raise
        return _plain(found)

    def serves(self, api_version: str, kind: str) -> bool:
        with self._translating(kind, f"* (discovery of {api_version})"):
            served: bool = self._client().resources.serves(api_version=api_version, kind=kind)
        return served

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False,
              force: bool = False) -> dict[str, Any]:
        ref = _Target.of(obj)
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            applied = resource.server_side_apply(
                body=obj, name=ref.name, namespace=_scoped(resource, ref.namespace),
                field_manager=FIELD_MANAGER, force_conflicts=True if force else None,
                **self._write_options(dry_run))
        return _plain(applied)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        ref = _Target.of(obj)
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            created = resource.create(body=obj, namespace=_scoped(resource, ref.namespace),
                                      field_manager=FIELD_MANAGER,
                                      _request_timeout=self.request_timeout)
        return _plain(created)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        ref = _Target.of(obj)
        if not obj["metadata"].get("resourceVersion"):
            # Without it the write would be blind: last writer wins.
            raise ValueError(f"replace({ref.kind}/{ref.name}) needs metadata.resourceVersion")
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            replaced = resource.replace(body=obj, name=ref.name,
                                        namespace=_scoped(resource, ref.namespace),
                                        field_manager=FIELD_MANAGER,
                                        _request_timeout=self.request_timeout)
        return _plain(replaced)

    def patch(self, ref: Address, patch: dict[str, Any], *, strategic: bool = True,
              dry_run: bool = False) -> dict[str, Any]:
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            patched = resource.patch(
                body=patch, name=ref.name, namespace=_scoped(resource, ref.namespace),
                content_type=_STRATEGIC if strategic else _MERGE,
                field_manager=FIELD_MANAGER, **self._write_options(dry_run))
        return _plain(patched)

    def delete(self, ref: Address, *, dry_run: bool = False) -> None:
        with self._translating(ref.kind, ref.name):
            resource = self._resource(ref.api_version, ref.kind)
            try:
                resource.delete(name=ref.name, namespace=_scoped(resource, ref.namespace),
                                propagation_policy="Background",
                                dry_run="All" if dry_run else None,
                                _request_timeout=self.request_timeout)
            except ApiException as e:
                if e.status != 404:
                    raise

    def list_secrets(self, namespace: str, *, labels: dict[str, str]) -> list[dict[str, Any]]:
        selector = ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
        return self.list_objects("v1", "Secret", namespace, label_selector=selector or None)

    def list_objects(self, api_version: str, kind: str, namespace: str, *,
                     label_selector: str | None = None,
                     field_selector: str | None = None) -> list[dict[str, Any]]:
        selectors = ", ".join(f"{which} {value}" for which, value in
                              (("labels", label_selector), ("fields", field_selector)) if value)
        with self._translating(kind, f"* (in {namespace}{', ' if selectors else ''}{selectors})"):
            found = self._resource(api_version, kind).get(
                namespace=namespace, label_selector=label_selector,
                field_selector=field_selector, _request_timeout=self.request_timeout)
        # List items come without apiVersion/kind; give them back so they read like any object.
        return [{"apiVersion": api_version, "kind": kind, **item}
                for item in _plain(found).get("items") or []]

    def pod_log_tail(self, namespace: str, pod: str, container: str, *, lines: int | None,
                     previous: bool) -> str:
        with self._translating("Pod", f"{pod} (log of container {container})"):
            text: str | None = _core_v1(self.api_client).read_namespaced_pod_log(
                pod, namespace, container=container, tail_lines=lines, previous=previous,
                _request_timeout=self.request_timeout)
        return text or ""  # a pod on no node yet: 204, no body

    def follow_pod_log(self, namespace: str, pod: str, container: str, *,
                       lines: int | None) -> Iterator[str]:
        what = f"{pod} (log of container {container})"
        timeout = (self.request_timeout[0], FOLLOW_READ_TIMEOUT)
        with self._translating("Pod", what):
            # Not preloaded: the raw urllib3 response, read as the container writes.
            response: Any = _core_v1(self.api_client).read_namespaced_pod_log(
                pod, namespace, container=container, follow=True, tail_lines=lines,
                _preload_content=False, _request_timeout=timeout)
        try:
            pending = b""
            with self._translating("Pod", what):
                for chunk in response.stream(_CHUNK, decode_content=True):
                    *complete, pending = (pending + chunk).split(b"\n")
                    yield from (line.decode("utf-8", "replace") for line in complete)
            if pending:
                yield pending.decode("utf-8", "replace")
        finally:
            response.release_conn()

    def create_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        namespace, name = _secret_place(secret)
        with self._translating("Secret", name):
            created = self._secrets().create(body=secret, namespace=namespace,
                                             field_manager=FIELD_MANAGER,
                                             _request_timeout=self.request_timeout)
        return _plain(created)

    def replace_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        namespace, name = _secret_place(secret)
        if not secret["metadata"].get("resourceVersion"):
            # Without it the write would be blind: last writer wins, as Helm's does.
            raise ValueError(f"replace_secret({name}) needs metadata.resourceVersion")
        with self._translating("Secret", name):
            replaced = self._secrets().replace(body=secret, name=name, namespace=namespace,
                                               field_manager=FIELD_MANAGER,
                                               _request_timeout=self.request_timeout)
        return _plain(replaced)

    def delete_secret(self, namespace: str, name: str) -> None:
        self.delete(_Target("v1", "Secret", namespace, name))

    # -- plumbing --------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._dynamic is None:
            # Built here, not in __init__: a cold cache costs discovery requests that can
            # fail like any other, and connecting should send nothing.
            self._dynamic = DynamicClient(self.api_client,
                                          cache_file=str(self._discovery_cache()),
                                          discoverer=partial(RestMapper,
                                                             request_timeout=self.request_timeout))
        return self._dynamic

    def _discovery_cache(self) -> Path:
        server = hashlib.sha256(self.server.encode()).hexdigest()[:16]
        return self._discovery_dir / f"{server}.json"

    def _resource(self, api_version: str, kind: str) -> Any:
        return self._client().resources.get(api_version=api_version, kind=kind)

    def _secrets(self) -> Any:
        return self._resource("v1", "Secret")

    def _write_options(self, dry_run: bool) -> dict[str, Any]:
        return {
            "dry_run": "All" if dry_run else None,
            "query_params": [("fieldValidation", "Strict")],
            "_request_timeout": self.request_timeout,
        }

    @contextmanager
    def _translating(self, kind: str, name: str) -> Iterator[None]:
        """Every failure of the requests inside as a ClusterError about KIND/NAME."""
        try:
            yield
        except ClusterError:
            raise
        except ResourceNotFoundError as e:
            raise ClusterError(f"the API server does not serve {e} (is its "
                               f"CustomResourceDefinition installed?)", kind=kind, name=name,
                               reason="NoKind") from e
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as e:
            raise translate(e, kind=kind, name=name, server=self.server) from e


def _scoped(resource: Any, namespace: str | None) -> str | None:
    if not resource.namespaced:
        return None
    if not namespace:
        raise ClusterError("no namespace given for a namespaced object",
                           kind=resource.kind, name="?", reason="NoNamespace")
    return namespace


def _secret_place(secret: dict[str, Any]) -> tuple[str, str]:
    metadata = secret["metadata"]
    return metadata["namespace"], metadata["name"]


def _plain(instance: Any) -> dict[str, Any]:
    result: dict[str, Any] = instance.to_dict()
    return result


def _core_v1(api_client: Any) -> Any:
    # Imported when a log is read: the typed API builds hundreds of pydantic models of
    # its own, a third of a second that install, diff and status never need.
    from kubernetes.client import CoreV1Api

    return CoreV1Api(api_client)
