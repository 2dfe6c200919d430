"""`install`: install or upgrade a release (like `helm upgrade --install`), server-side,
leaving records Helm 3 and 4 read as their own."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lmfchart.base.errors import ClusterError, LmfchartError, NotReadyError, ReleaseStateError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.release.hooks import hook_entry, is_hook, same_hook
from lmfchart.release.manifest import build_manifest
from lmfchart.release.record import ReleaseRecord, chart_payload, rfc3339
from lmfchart.render.chartfiles import chart_files
from lmfchart.render.manifests import render_notes, render_sources
from lmfchart.usecases.applying import Progress, deploy_revision, stale_refs
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
    applied_by_helm,
    holds,
    needs_recreate_switch,
    unchanged,
)
from lmfchart.usecases.lock import holding
from lmfchart.usecases.ownership import owned, owner_problem
from lmfchart.usecases.readiness import is_run
from lmfchart.usecases.recovery import recover_interrupted
from lmfchart.usecases.releases import StoredRecord, read_history, refuse_pending, rewrite_record
from lmfchart.usecases.rollback import rollback
from lmfchart.usecases.runs import reused_layer, values_record
from lmfchart.usecases.servedkinds import refuse_unserved
from lmfchart.usecases.uninstall import uninstall
from lmfchart.usecases.wait import Waiter, WaitResult

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
class PlannedRelease:
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
    hooks: list[dict[str, Any]] = field(default_factory=list)
    """Hook entries of the record (the helm test Pod): recorded, never applied."""

    @property
    def latest(self) -> ReleaseRecord | None:
        return self.history[-1].record if self.history else None

    @property
    def deployed(self) -> list[StoredRecord]:
        return [s for s in self.history if s.record.status == "deployed"]

    @property
    def revision(self) -> int:
        return (self.latest.version if self.latest else 0) + 1


def reusing(history: list[StoredRecord], values: ValueOptions) -> ValueOptions:
    """VALUES over the values of the revision helm would reuse (the last deployed one,
    else the last one); VALUES alone for a release that does not exist yet."""
    record = values_record([stored.record for stored in history])
    if record is None:
        return values
    return replace(values, before_files=(reused_layer(record), *values.before_files))


def install(
    *, cluster: Cluster, release_name: str, namespace: str, values: ValueOptions,
    create_namespace: bool = False, dry_run: bool = False, take_ownership: bool = False,
    rollback_on_failure: bool = False, progress: Progress | None = None,
    wait: Waiter | None = None, wait_for_runs: bool = False, reuse_values: bool = False,
) -> InstallResult:
    """WAIT, when given, is called with the release's objects once they are applied; the
    revision is recorded `deployed` only if they all became ready, else `failed` (as Helm's
    `--wait` does) and NotReadyError says why. Runs (Jobs, PyTorchJobs) are left out of
    the wait unless WAIT_FOR_RUNS: a release is ready when it serves, not when its
    training runs have finished. REUSE_VALUES puts the release's current values under
    VALUES, as `helm upgrade --reuse-values` does."""
    say = progress or (lambda _line: None)
    history = read_history(cluster=cluster, release_name=release_name, namespace=namespace)
    if reuse_values:
        values = reusing(history, values)
    release = prepare_release(release_name=release_name, namespace=namespace, values=values)
    if wait is not None and not wait_for_runs:
        wait = _without_runs(wait)
    # A kind the cluster lacks (a CRD not installed) would fail halfway: refuse first.
    refuse_unserved(cluster=cluster, objects=release.objects, release_name=release_name,
                    namespace=namespace)
    release.history = history
    # Records can only be stored in a namespace that exists: no need to ask.
    if not release.history and not cluster.namespace_exists(namespace):
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
    live = {ObjectRef.of(obj): cluster.get(ObjectRef.of(obj)) for obj in release.objects}
    # Checked before the Lease: a no-op writes nothing, so it needs no lock, and a no-op
    # re-install costs only the record read and one read per object.
    if not dry_run and _is_no_op(cluster, release, live):
        say("no changes")
        _wait_for(wait, release, cluster=cluster, pending=None, upgrading=True)
        return _result(release, "unchanged", release.revision - 1, [])
    foreign = foreign_objects(release, live)
    if foreign and not take_ownership:
        raise ReleaseStateError(
            f"release {release.name}: refusing to take over objects it does not own "
            "(pass --take-ownership to adopt them):\n  " + "\n  ".join(foreign.values())
        )
    # Adopting an object means taking its fields too, from whichever manager set them.
    release.adopted = set(foreign)
    if release.history and release.history[-1].record.status.startswith("pending-"):
        # A live operation holds it: refuse naming the pending revision, before even trying
        # to take the Lease (the real recovery runs once we hold it).
        recover_interrupted(cluster=cluster, history=release.history,
                            release_name=release_name, namespace=namespace, dry_run=True)
    exclusive = nullcontext() if dry_run else holding(
        cluster=cluster, release_name=release_name, namespace=namespace)
    with exclusive:
        release.history = recover_interrupted(cluster=cluster, history=release.history,
                                              release_name=release_name, namespace=namespace,
                                              dry_run=dry_run, say=say)
        refuse_pending(release.history)
        if dry_run:
            return _plan(cluster, release, live)
        try:
            result = _apply(cluster, release, live, say, wait)
        except (ClusterApplyError, NotReadyError) as e:
            if not rollback_on_failure:
                raise
            raise _recovered(cluster, release, e, say) from e
    return replace(result, namespace_created=created_namespace)


def _without_runs(wait: Waiter) -> Waiter:
    def wait_for_services(refs: Sequence[ObjectRef]) -> WaitResult:
        return wait([ref for ref in refs if not is_run(ref.api_version, ref.kind)])

    return wait_for_services


def _recovered(cluster: Cluster, release: PlannedRelease,
               error: ClusterApplyError | NotReadyError, say: Progress) -> LmfchartError:
    """After a failed revision (refused objects, or not ready in time): back to the last
    deployed one, or a failed first install removed (objects and records), as helm's
    --rollback-on-failure does. The error says what failed and what was done."""
    try:
        if release.deployed:
            good = release.deployed[-1].record.version
            say(f"rolling back to revision {good}")
            back = rollback(cluster=cluster, release_name=release.name,
                            namespace=release.namespace, revision=good, progress=say)
            done = f"rolled back to revision {good} as revision {back.revision}"
        else:
            say("removing the failed install")
            uninstall(cluster=cluster, release_name=release.name, namespace=release.namespace)
            done = "the failed install was removed"
    except LmfchartError as again:
        done = f"undoing it failed too: {again.message}"
    if isinstance(error, NotReadyError):
        return NotReadyError(f"{error.message}\n{done}")
    return ClusterApplyError(
        release.name, f"revision {release.revision} failed (recorded as failed); {done}",
        error.failed)


def prepare_release(*, release_name: str, namespace: str,
                    values: ValueOptions) -> PlannedRelease:
    """The release as the values render it (objects with Helm's ownership metadata, the
    record's manifest, chart and values); nothing read from the cluster yet."""
    loaded = load_values(values)
    rendered = render_sources(loaded.values, release_name=release_name, namespace=namespace)
    sources = [(template, obj) for template, obj in rendered if not is_hook(obj)]
    return PlannedRelease(
        name=release_name, namespace=namespace, sources=sources,
        manifest=build_manifest(sources),
        config=loaded.supplied,
        chart=chart_payload(files=chart_files(loaded.values)),
        release_notes=render_notes(loaded.values, release_name=release_name,
                                   namespace=namespace),
        history=[], value_notes=tuple(loaded.notes),
        objects=[owned(obj, release_name=release_name, namespace=namespace)
                 for _, obj in sources],
        hooks=[hook_entry(template, obj) for template, obj in rendered if is_hook(obj)],
    )


def foreign_objects(release: PlannedRelease,
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


def _stale(release: PlannedRelease) -> list[ObjectRef]:
    return stale_refs(release.latest.manifest if release.latest else None, release.objects,
                      release.namespace)


def _is_no_op(cluster: Cluster, release: PlannedRelease,
              live: dict[ObjectRef, dict[str, Any] | None]) -> bool:
    latest = release.latest
    if latest is None or latest.status != "deployed" or latest.apply_method != "ssa":
        return False
    if ((latest.manifest, latest.config, [same_hook(h) for h in latest.hooks])
            != (release.manifest, release.config, [same_hook(h) for h in release.hooks])):
        return False
    if any(cluster.get(ref) is not None for ref in _stale(release)):
        return False
    # One read per object, no dry run: an apply changes nothing when helm already applied
    # every field the object sets, with these values (the record says the set is the same).
    for obj in release.objects:
        current = live[ObjectRef.of(obj)]
        if current is None or not (applied_by_helm(current) and holds(current, obj)):
            return False
    return True


def _plan(cluster: Cluster, release: PlannedRelease,
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


def _plan_without_namespace(release: PlannedRelease) -> InstallResult:
    message = UNCHECKED_NAMESPACE.format(ns=release.namespace)
    changes = [ObjectChange(ObjectRef.of(obj), "unchecked", message) for obj in release.objects]
    return InstallResult(release.name, release.namespace, "planned", 1, tuple(changes),
                         release.value_notes, release.release_notes, namespace_missing=True)


def _apply(cluster: Cluster, release: PlannedRelease, live: dict[ObjectRef, dict[str, Any] | None],
           say: Progress, wait: Waiter | None) -> InstallResult:
    upgrading = bool(release.deployed)
    changes = deploy_revision(
        cluster=cluster,
        record=_new_record(release, "pending-upgrade" if upgrading else "pending-install"),
        objects=release.objects, previous_manifest=release.latest.manifest
        if release.latest else None, history=release.history, live=live,
        adopted=frozenset(release.adopted),
        done_description="Upgrade complete" if upgrading else "Install complete", say=say,
        settle=lambda pending: _wait_for(wait, release, cluster=cluster, pending=pending,
                                         upgrading=upgrading),
    )
    return _result(release, "upgraded" if upgrading else "installed", release.revision, changes)


def _wait_for(wait: Waiter | None, release: PlannedRelease, *, cluster: Cluster,
              pending: StoredRecord | None, upgrading: bool) -> None:
    """Wait for the applied objects; when they do not all become ready, record PENDING (the
    revision just written, if any) as failed, with Helm's description, and say why."""
    if wait is None:
        return
    failed = f'{"Upgrade" if upgrading else "Release"} "{release.name}" failed'
    try:
        waited = wait([ObjectRef.of(obj) for obj in release.objects])
    except KeyboardInterrupt:
        # Never leave the revision pending-*: that would block every later install.
        if pending is not None:
            rewrite_record(cluster=cluster, stored=pending, status="failed",
                           description=f"{failed}: interrupted while waiting")
        raise
    if waited.ready:
        return
    where = f"release {release.name} in namespace {release.namespace}"
    if pending is None:
        raise NotReadyError(f"{where}: revision {release.revision - 1} (no changes) is not "
                            f"ready: {waited.explanation()}")
    rewrite_record(cluster=cluster, stored=pending, status="failed",
                   description=f"{failed}: {waited.headline()}")
    raise NotReadyError(f"{where}: revision {release.revision} is not ready (recorded as "
                        f"failed): {waited.explanation()}")


def _new_record(release: PlannedRelease, status: Literal["pending-install", "pending-upgrade"],
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
        "underway", notes=release.release_notes, apply_method="ssa", hooks=release.hooks,
        extra_labels=dict(latest.extra_labels) if latest else {},
    )


def _result(release: PlannedRelease,
            outcome: Literal["installed", "upgraded", "unchanged", "planned"],
            revision: int, changes: list[ObjectChange]) -> InstallResult:
    return InstallResult(release.name, release.namespace, outcome, revision, tuple(changes),
                         release.value_notes, release.release_notes)
