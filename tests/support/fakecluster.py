"""An in-memory `Cluster` for the install logic's unit tests (never proof that install works:
the e2e tests run against a real API server).

It keeps what a server keeps that the logic reads: objects with uid and resourceVersion
(moved only when the stored object changes), dry runs that store nothing, Secrets with
labels, 409 on a stale resourceVersion or a second create, finalizers (a delete only marks
such an object; it goes when its last finalizer is removed), and the requests it received.
"""

from __future__ import annotations

import copy
import itertools
import re
import uuid
from collections.abc import Iterator
from typing import Any

from lmfchart.base.errors import ClusterError, ConflictError
from lmfchart.usecases.cluster import ObjectRef

Key = tuple[str, str, str | None, str]


def _key(ref: ObjectRef) -> Key:
    return (ref.api_version, ref.kind, ref.namespace, ref.name)


class FakeCluster:
    def __init__(self, namespaces: tuple[str, ...] = ()) -> None:
        self.namespaces = set(namespaces)
        self.objects: dict[Key, dict[str, Any]] = {}
        self.secrets: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []  # (verb, "Kind/name")
        self.refuse: dict[str, str] = {}  # "Kind/name" -> message the server answers with
        # "Kind/name" -> how many more times a controller writes it just before a patch
        # with a resourceVersion precondition arrives (so that patch gets a 409).
        self.busy: dict[str, int] = {}
        self._versions = itertools.count(100)
        # (pod, container, previous run?) -> what the container wrote; others answer 400.
        self.logs: dict[tuple[str, str, bool], str] = {}
        # (apiVersion, kind) the server does not serve (a CRD not installed).
        self.unserved: set[tuple[str, str]] = set()

    # --- the Cluster protocol --------------------------------------------------------
    def namespace_exists(self, name: str) -> bool:
        return name in self.namespaces

    def create_namespace(self, name: str) -> None:
        self.requests.append(("create", f"Namespace/{name}"))
        self.namespaces.add(name)

    def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        self.requests.append(("get", f"{ref.kind}/{ref.name}"))
        found = self.objects.get(_key(ref))
        if found is None and (ref.api_version, ref.kind) == ("v1", "Secret"):
            found = self.secrets.get((ref.namespace or "", ref.name))
        return copy.deepcopy(found) if found is not None else None

    def serves(self, api_version: str, kind: str) -> bool:
        return (api_version, kind) not in self.unserved

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False,
              force: bool = False) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._check(ref, "apply", dry_run)
        if ref.namespace not in self.namespaces:
            raise ClusterError(f'namespaces "{ref.namespace}" not found', kind=ref.kind,
                               name=ref.name, status=404, reason="NotFound")
        current = self.objects.get(_key(ref))
        merged = copy.deepcopy(obj)
        if current is not None:
            for field in ("uid", "resourceVersion", "creationTimestamp", "managedFields"):
                if field in current["metadata"]:
                    merged["metadata"][field] = current["metadata"][field]
            if "status" in current:
                merged["status"] = current["status"]
        else:
            merged["metadata"]["uid"] = str(uuid.uuid4())
            merged["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
        # As a server does: the applier's fields are recorded under its Apply entry.
        entries = merged["metadata"].setdefault("managedFields", [])
        if not any(e.get("manager") == "helm" and e.get("operation") == "Apply"
                   for e in entries):
            entries.append({"manager": "helm", "operation": "Apply", "fieldsType": "FieldsV1"})
        return self._store(ref, merged, current, dry_run)

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._check(ref, "create", False)
        if ref.namespace is not None and ref.namespace not in self.namespaces:
            raise ClusterError(f'namespaces "{ref.namespace}" not found', kind=ref.kind,
                               name=ref.name, status=404, reason="NotFound")
        if _key(ref) in self.objects:
            raise ConflictError("already exists", kind=ref.kind, name=ref.name, status=409,
                                reason="AlreadyExists")
        return self._store(ref, copy.deepcopy(obj), None, False)

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        ref = ObjectRef.of(obj)
        self._check(ref, "replace", False)
        current = self.objects.get(_key(ref))
        if current is None:
            raise ClusterError("not found", kind=ref.kind, name=ref.name, status=404)
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise ConflictError("the object has been modified", kind=ref.kind, name=ref.name,
                                status=409, reason="Conflict")
        return self._store(ref, copy.deepcopy(obj), None, False)

    def patch(self, ref: ObjectRef, patch: dict[str, Any], *, strategic: bool = True,
              dry_run: bool = False) -> dict[str, Any]:
        self._check(ref, "patch", dry_run)
        current = self.objects.get(_key(ref))
        if current is None:
            raise ClusterError("not found", kind=ref.kind, name=ref.name, status=404)
        expected = (patch.get("metadata") or {}).get("resourceVersion")
        if expected is not None and self.busy.get(f"{ref.kind}/{ref.name}", 0) > 0:
            self.busy[f"{ref.kind}/{ref.name}"] -= 1
            current["metadata"]["resourceVersion"] = str(next(self._versions))
        if expected is not None and expected != current["metadata"]["resourceVersion"]:
            raise ConflictError("the object has been modified", kind=ref.kind, name=ref.name,
                                status=409)
        merged = copy.deepcopy(current)
        _merge(merged, patch)
        return self._store(ref, merged, current, dry_run)

    def delete(self, ref: ObjectRef, *, dry_run: bool = False) -> None:
        self._check(ref, "delete", dry_run)
        current = self.objects.get(_key(ref))
        if dry_run or current is None:
            return
        if current["metadata"].get("finalizers"):
            current["metadata"].setdefault("deletionTimestamp", "2026-01-01T00:05:00Z")
        else:
            del self.objects[_key(ref)]

    def list_secrets(self, namespace: str, *, labels: dict[str, str]) -> list[dict[str, Any]]:
        self.requests.append(("list", "Secret"))
        return [copy.deepcopy(s) for (ns, _), s in sorted(self.secrets.items())
                if ns == namespace
                and labels.items() <= (s["metadata"].get("labels") or {}).items()]

    def create_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        key = (secret["metadata"]["namespace"], secret["metadata"]["name"])
        self.requests.append(("create", f"Secret/{key[1]}"))
        if key in self.secrets:
            raise ConflictError("already exists", kind="Secret", name=key[1], status=409)
        stored = copy.deepcopy(secret)
        stored["metadata"]["resourceVersion"] = str(next(self._versions))
        self.secrets[key] = stored
        return copy.deepcopy(stored)

    def replace_secret(self, secret: dict[str, Any]) -> dict[str, Any]:
        key = (secret["metadata"]["namespace"], secret["metadata"]["name"])
        self.requests.append(("replace", f"Secret/{key[1]}"))
        current = self.secrets.get(key)
        expected = secret["metadata"].get("resourceVersion")
        if current is None or (expected is not None
                               and expected != current["metadata"]["resourceVersion"]):
            raise ConflictError("the object has been modified", kind="Secret", name=key[1],
                                status=409)
        stored = copy.deepcopy(secret)
        stored["metadata"]["resourceVersion"] = str(next(self._versions))
        self.secrets[key] = stored
        return copy.deepcopy(stored)

    def delete_secret(self, namespace: str, name: str) -> None:
        self.requests.append(("delete", f"Secret/{name}"))
        self.secrets.pop((namespace, name), None)

    def list_objects(self, api_version: str, kind: str, namespace: str, *,
                     label_selector: str | None = None,
                     field_selector: str | None = None) -> list[dict[str, Any]]:
        self.requests.append(("list", kind))
        labels, fields = _equalities(label_selector), _equalities(field_selector)
        return [copy.deepcopy(obj) for key, obj in self.objects.items()
                if key[:3] == (api_version, kind, namespace)
                and labels.items() <= (obj["metadata"].get("labels") or {}).items()
                and all(_field(obj, path) == value for path, value in fields.items())]

    def pod_log_tail(self, namespace: str, pod: str, container: str, *, lines: int | None,
                     previous: bool) -> str:
        self.requests.append(("log", f"Pod/{pod}/{container}" + (" (previous)" if previous
                                                                  else "")))
        return self._log_text(pod, container, lines=lines, previous=previous)

    def follow_pod_log(self, namespace: str, pod: str, container: str, *,
                       lines: int | None) -> Iterator[str]:
        self.requests.append(("follow", f"Pod/{pod}/{container}"))
        text = self._log_text(pod, container, lines=lines, previous=False)
        yield from text.removesuffix("\n").split("\n") if text else ()

    def _log_text(self, pod: str, container: str, *, lines: int | None,
                  previous: bool) -> str:
        if (pod, container, previous) not in self.logs:
            raise ClusterError(f'previous terminated container "{container}" in pod "{pod}" '
                               "not found", kind="Pod", name=pod, status=400)
        # Lines end at newlines only, as the kubelet counts them (a carriage return does not).
        written = re.findall(r"[^\n]*\n|[^\n]+$", self.logs[(pod, container, previous)])
        return "".join(written if lines is None else written[max(0, len(written) - lines):])

    # --- helpers for tests -----------------------------------------------------------
    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store OBJ as if someone else had created it."""
        stored = copy.deepcopy(obj)
        stored.setdefault("metadata", {}).update(
            uid=str(uuid.uuid4()), resourceVersion=str(next(self._versions)),
            creationTimestamp="2026-01-01T00:00:00Z")
        self.objects[_key(ObjectRef.of(stored))] = stored
        return stored

    def writes(self) -> list[tuple[str, str]]:
        return [r for r in self.requests if r[0] in {"apply", "patch", "delete", "create",
                                                       "replace"}]

    def _check(self, ref: ObjectRef, verb: str, dry_run: bool) -> None:
        self.requests.append((verb + (" (dry run)" if dry_run else ""),
                              f"{ref.kind}/{ref.name}"))
        refused = self.refuse.get(f"{ref.kind}/{ref.name}")
        if refused is not None:
            raise ClusterError(refused, kind=ref.kind, name=ref.name, status=422,
                               reason="Invalid")

    def _store(self, ref: ObjectRef, merged: dict[str, Any], current: dict[str, Any] | None,
               dry_run: bool) -> dict[str, Any]:
        if current is None or merged != current:
            merged["metadata"]["resourceVersion"] = str(next(self._versions))
        if dry_run:
            return merged
        metadata = merged["metadata"]
        if metadata.get("deletionTimestamp") and not metadata.get("finalizers"):
            self.objects.pop(_key(ref), None)  # its last finalizer went: the server removes it
        else:
            self.objects[_key(ref)] = copy.deepcopy(merged)
        return merged


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if key == "$retainKeys":
            for dropped in set(into) - set(value) - set(patch):
                del into[dropped]
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif value is None:
            into.pop(key, None)
        else:
            into[key] = copy.deepcopy(value)


def _equalities(selector: str | None) -> dict[str, str]:
    """`a=1,b=2` as a mapping (the only selector syntax the fake understands)."""
    terms = [term for term in (selector or "").split(",") if term]
    assert all(term.count("=") == 1 for term in terms), f"unsupported selector {selector}"
    return dict(term.split("=") for term in terms)


def _field(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj
