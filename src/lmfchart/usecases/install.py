"""`install`: install or upgrade a release (like `helm upgrade --install`), server-side,
leaving records Helm 3 and 4 read as their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lmfchart.base.errors import ClusterError, ConflictError, ReleaseStateError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.manifest import build_manifest
from lmfchart.release.record import ReleaseRecord, chart_payload, rfc3339
from lmfchart.render.chartfiles import chart_files
from lmfchart.render.manifests import render_notes, render_sources
from lmfchart.usecases.changes import (
    ClusterApplyError,
    ObjectChange,
    manifest_refs,
    remove_object,
    server_message,
)
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.liveobjects import (
    RECREATE_PATCH,
    client_side_takeover,
    needs_recreate_switch,
    unchanged,
)
from lmfchart.usecases.ownership import owned, owner_problem
from lmfchart.usecases.releases import (
    StoredRecord,
    create_record,
    read_history,
    refuse_pending,
    rewrite_record,
)

Progress = Callable[[str], None]
# The API server cannot dry-run objects in a namespace it has not stored yet.
UNCHECKED_NAMESPACE = (
    "not checked: namespace {ns} does not exist yet, and the API server cannot dry-run an "
    "object in a namespace it has not stored (kubernetes#83562)"
)


@dataclass(frozen=True)
class InstallResult:
    release_name: str
    namespace: str
    # "installed", "upgraded", "unchanged" (nothing applied or written) or "planned" (dry run)
    outcome: Literal["installed", "upgraded", "unchanged", "planned"]
    revision: int
    changes: tuple[ObjectChange, ...]
    notes: tuple[str, ...] = ()
    release_notes: str = ""
    namespace_created: bool = False
    namespace_missing: bool = False


@dataclass
class _Release:
    """Everything the install decides from: the render and the stored history."""

    name: str
    namespace: str
    sources: list[tuple[str, dict[str, Any]]]
    manifest: str
    config: dict[str, Any]
    chart: dict[str, Any]
    release_notes: str
    history: list[StoredRecord]
    value_notes: tuple[str, ...] = ()
    objects: list[dict[str, Any]] = field(default_factory=list)
    adopted: set[ObjectRef] = field(default_factory=set)

    @property
    def latest(self) -> ReleaseRecord | None:
        return self.history[-1].record if self.history else None

    @property
    def deployed(self) -> list[StoredRecord]:
        return [s for s in self.history if s.record.status == "deployed"]

    @property
    def revision(self) -> int:
        return (self.latest.version if self.latest else 0) + 1


def install(
    *, cluster: Cluster, release_name: str, namespace: str, values: ValueOptions,
    create_namespace: bool = False, dry_run: bool = False, take_ownership: bool = False,
    progress: Progress | None = None,
) -> InstallResult:
    say = progress or (lambda _line: None)
    release = _prepare(release_name=release_name, namespace=namespace, values=values)
    if not cluster.namespace_exists(namespace):
        if not create_namespace:
            raise ReleaseStateError(
                f"namespace {namespace} does not exist; create it or pass --create-namespace"
            )
        if dry_run:
            return _plan_without_namespace(release)
        cluster.create_namespace(namespace)
        say(f"created namespace {namespace}")
        created_namespace = True
    else:
        created_namespace = False
    release.history = read_history(cluster=cluster, release_name=release_name,
                                   namespace=namespace)
    refuse_pending(release.history)
    live = {ObjectRef.of(obj): cluster.get(ObjectRef.of(obj)) for obj in release.objects}
    foreign = _foreign(release, live)
    if foreign and not take_ownership:
        raise ReleaseStateError(
            f"release {release.name}: refusing to take over objects it does not own "
            "(pass --take-ownership to adopt them):\n  " + "\n  ".join(foreign.values())
        )
    # Adopting an object means taking its fields too, from whichever manager set them.
    release.adopted = set(foreign)
    if dry_run:
        return _plan(cluster, release, live)
    if _is_no_op(cluster, release, live):
        say("no changes")
        return _result(release, "unchanged", release.revision - 1, [])
    return replace(_apply(cluster, release, live, say), namespace_created=created_namespace)


def _prepare(*, release_name: str, namespace: str, values: ValueOptions) -> _Release:
    loaded = load_values(values)
    sources = render_sources(loaded.values, release_name=release_name, namespace=namespace)
    return _Release(
        name=release_name, namespace=namespace, sources=sources,
        manifest=build_manifest(sources),
        config=loaded.supplied,
        chart=chart_payload(files=chart_files(loaded.values)),
        release_notes=render_notes(loaded.values, release_name=release_name,
                                   namespace=namespace),
        history=[], value_notes=tuple(loaded.notes),
        objects=[owned(obj, release_name=release_name, namespace=namespace)
                 for _, obj in sources],
    )


def _foreign(release: _Release,
             live: dict[ObjectRef, dict[str, Any] | None]) -> dict[ObjectRef, str]:
    """Live objects this release would take from no release or another one, and why."""
    # Like Helm: objects already in the release's last manifest are its own.
    previous = (set(manifest_refs(release.latest.manifest, release.namespace))
                if release.latest else set())
    foreign = {}
    for ref, current in live.items():
        if current is None or ref in previous:
            continue
        problem = owner_problem(current, release_name=release.name,
                                namespace=release.namespace)
        if problem:
            foreign[ref] = f"{ref.kind}/{ref.name} exists and {problem}"
    return foreign


def _stale(release: _Release) -> list[ObjectRef]:
    """Objects of the previous revision that this one no longer renders, in reverse order."""
    if release.latest is None:
        return []
    wanted = {ObjectRef.of(obj) for obj in release.objects}
    previous = manifest_refs(release.latest.manifest, release.namespace)
    return [ref for ref in reversed(previous) if ref not in wanted]


def _is_no_op(cluster: Cluster, release: _Release,
              live: dict[ObjectRef, dict[str, Any] | None]) -> bool:
    latest = release.latest
    if latest is None or latest.status != "deployed" or latest.apply_method != "ssa":
        return False
    if (latest.manifest, latest.config) != (release.manifest, release.config):
        return False
    if any(cluster.get(ref) is not None for ref in _stale(release)):
        return False
    for obj in release.objects:
        current = live[ObjectRef.of(obj)]
        if current is None or not unchanged(current, cluster.apply(obj, dry_run=True)):
            return False
    return True


def _plan(cluster: Cluster, release: _Release,
          live: dict[ObjectRef, dict[str, Any] | None]) -> InstallResult:
    changes = []
    for obj in release.objects:
        ref = ObjectRef.of(obj)
        current = live[ref]
        try:
            if current is not None and needs_recreate_switch(current, obj):
                cluster.patch(ref, RECREATE_PATCH, dry_run=True)
                changes.append(ObjectChange(ref, "changed", "strategy RollingUpdate to "
                                            "Recreate: checked as a patch; the apply runs "
                                            "after it"))
                continue
            applied = cluster.apply(obj, dry_run=True, force=ref in release.adopted)
        except ClusterError as e:
            changes.append(ObjectChange(ref, "failed", server_message(e, ref)))
            continue
        if current is None:
            changes.append(ObjectChange(ref, "created"))
        else:
            changes.append(ObjectChange(ref, "unchanged" if unchanged(current, applied)
                                        else "changed"))
    for ref in _stale(release):
        pruned = remove_object(cluster, ref, release_name=release.name,
                               namespace=release.namespace, done="pruned", dry_run=True)
        if pruned is not None:
            changes.append(pruned)
    return _result(release, "planned", release.revision, changes)


def _plan_without_namespace(release: _Release) -> InstallResult:
    message = UNCHECKED_NAMESPACE.format(ns=release.namespace)
    changes = [ObjectChange(ObjectRef.of(obj), "unchecked", message) for obj in release.objects]
    return InstallResult(release.name, release.namespace, "planned", 1, tuple(changes),
                         release.value_notes, release.release_notes, namespace_missing=True)


def _apply(cluster: Cluster, release: _Release,
           live: dict[ObjectRef, dict[str, Any] | None], say: Progress) -> InstallResult:
    upgrading = bool(release.deployed)
    pending = create_record(cluster=cluster, record=_new_record(
        release, "pending-upgrade" if upgrading else "pending-install"))
    changes = []
    for obj in release.objects:
        ref = ObjectRef.of(obj)
        change = _apply_one(cluster, obj, live[ref], force=ref in release.adopted)
        say(change.describe())
        changes.append(change)
    failed = [c for c in changes if c.action == "failed"]
    if not failed:
        for ref in _stale(release):
            pruned = remove_object(cluster, ref, release_name=release.name,
                                   namespace=release.namespace, done="pruned")
            if pruned is not None:
                say(pruned.describe())
                changes.append(pruned)
        failed = [c for c in changes if c.action == "failed"]
    if failed:
        rewrite_record(cluster=cluster, stored=pending, status="failed",
                       description="; ".join(c.describe() for c in failed))
        raise ClusterApplyError(
            release.name, f"revision {release.revision} failed (recorded as failed)", failed)
    rewrite_record(cluster=cluster, stored=pending, status="deployed",
                   description="Upgrade complete" if upgrading else "Install complete")
    for stored in release.deployed:
        rewrite_record(cluster=cluster, stored=stored, status="superseded")
    return _result(release, "upgraded" if upgrading else "installed", release.revision, changes)


def _apply_one(cluster: Cluster, obj: dict[str, Any], current: dict[str, Any] | None, *,
               force: bool) -> ObjectChange:
    ref = ObjectRef.of(obj)
    try:
        if current is not None:
            switched = (cluster.patch(ref, RECREATE_PATCH)
                        if needs_recreate_switch(current, obj) else current)
            _take_over_client_side_fields(cluster, ref, switched)
        applied = cluster.apply(obj, force=force)
    except ClusterError as e:
        return ObjectChange(ref, "failed", server_message(e, ref))
    if current is None:
        return ObjectChange(ref, "created")
    return ObjectChange(ref, "unchanged" if unchanged(current, applied) else "changed")


def _take_over_client_side_fields(cluster: Cluster, ref: ObjectRef,
                                  current: dict[str, Any] | None, attempts: int = 5) -> None:
    # Controllers write status meanwhile (moving the resourceVersion): read again and retry.
    for attempt in range(attempts):
        if attempt:
            current = cluster.get(ref)
        takeover = client_side_takeover(current) if current is not None else None
        if takeover is None:
            return
        try:
            cluster.patch(ref, takeover, strategic=False)
            return
        except ConflictError:
            if attempt == attempts - 1:
                raise


def _new_record(release: _Release, status: Literal["pending-install", "pending-upgrade"],
                ) -> ReleaseRecord:
    now = rfc3339()
    latest = release.latest
    return ReleaseRecord(
        name=release.name, namespace=release.namespace, version=release.revision,
        status=status, config=release.config, manifest=release.manifest,
        chart=release.chart,
        first_deployed=(latest.first_deployed if latest else None) or now,
        last_deployed=now, deleted=None,
        description="Preparing upgrade" if status == "pending-upgrade" else "Initial install "
        "underway", notes=release.release_notes, apply_method="ssa",
        extra_labels=dict(latest.extra_labels) if latest else {},
    )


def _result(release: _Release, outcome: Literal["installed", "upgraded", "unchanged", "planned"],
            revision: int, changes: list[ObjectChange]) -> InstallResult:
    return InstallResult(release.name, release.namespace, outcome, revision, tuple(changes),
                         release.value_notes, release.release_notes)
