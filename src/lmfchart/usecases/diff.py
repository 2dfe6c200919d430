"""`diff`: what `install` would change, object by object, as unified diffs between the live
objects and the server's dry run of the apply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lmfchart.base.errors import ClusterError
from lmfchart.inputs.options import ValueOptions
from lmfchart.usecases.applying import stale_refs
from lmfchart.usecases.changes import left_alone, server_message
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.fieldowners import FieldConflict, taken_fields
from lmfchart.usecases.install import foreign_objects, prepare_release
from lmfchart.usecases.liveobjects import RECREATE_PATCH, needs_recreate_switch
from lmfchart.usecases.objectdiff import unified
from lmfchart.usecases.releases import read_history
from lmfchart.usecases.servedkinds import refuse_unserved

DiffAction = Literal["create", "change", "unchanged", "prune", "keep", "refused"]
# The API server cannot dry-run objects in a namespace it has not stored (kubernetes#83562).
NOT_CHECKED = "namespace {ns} does not exist yet: shown as rendered, not checked by the server"


@dataclass(frozen=True)
class ObjectDiff:
    ref: ObjectRef
    action: DiffAction
    text: str = ""  # the unified diff, Secret values hidden
    conflicts: tuple[FieldConflict, ...] = ()
    message: str = ""


@dataclass(frozen=True)
class DiffReport:
    release_name: str
    namespace: str
    revision: int | None  # the release's latest revision, None when not installed
    objects: tuple[ObjectDiff, ...]
    notes: tuple[str, ...] = ()
    unchecked: str = ""  # why nothing was checked by the server, when so

    @property
    def changes(self) -> bool:
        return any(o.action not in ("unchanged", "refused") for o in self.objects)

    @property
    def refused(self) -> bool:
        return any(o.action == "refused" for o in self.objects)


def diff(*, cluster: Cluster, release_name: str, namespace: str,
         values: ValueOptions) -> DiffReport:
    """Each object install would apply, dry-run on the server and compared with the live
    one; and each object it would prune. Writes nothing."""
    release = prepare_release(release_name=release_name, namespace=namespace, values=values)
    # What install would refuse, diff refuses with the same words.
    refuse_unserved(cluster=cluster, objects=release.objects, release_name=release_name,
                    namespace=namespace)
    if not cluster.namespace_exists(namespace):
        shown = tuple(ObjectDiff(ObjectRef.of(obj), "create",
                                 unified(None, obj, title=_title(ObjectRef.of(obj))))
                      for obj in release.objects)
        return DiffReport(release_name, namespace, None, shown, release.value_notes,
                          NOT_CHECKED.format(ns=namespace))
    release.history = read_history(cluster=cluster, release_name=release_name,
                                   namespace=namespace)
    latest = release.latest
    live = {ObjectRef.of(obj): cluster.get(ObjectRef.of(obj)) for obj in release.objects}
    foreign = foreign_objects(release, live)
    shown_objects = [_object_diff(cluster, obj, live[ObjectRef.of(obj)],
                                  foreign.get(ObjectRef.of(obj), ""))
                     for obj in release.objects]
    previous = latest.manifest if latest is not None else None
    for ref in stale_refs(previous, release.objects, namespace):
        pruned = _prune_diff(cluster, ref, release_name=release_name, namespace=namespace)
        if pruned is not None:
            shown_objects.append(pruned)
    return DiffReport(release_name, namespace, latest.version if latest else None,
                      tuple(shown_objects), release.value_notes)


def _object_diff(cluster: Cluster, obj: dict[str, Any], live: dict[str, Any] | None,
                 foreign: str) -> ObjectDiff:
    ref = ObjectRef.of(obj)
    try:
        if live is not None and needs_recreate_switch(live, obj):
            # The apply runs after this patch; a dry run cannot chain the two.
            planned = cluster.patch(ref, RECREATE_PATCH, dry_run=True)
            return _compared(ref, live, planned, (), "strategy RollingUpdate to Recreate "
                             "as a patch; the apply after it is not part of this diff")
        # Forced, so the dry run shows the result even where another manager's field is in
        # the way; the fields it takes are the conflicts an install would be refused for.
        planned = cluster.apply(obj, dry_run=True, force=True)
    except ClusterError as e:
        return ObjectDiff(ref, "refused", message=server_message(e, ref))
    if live is None:
        return ObjectDiff(ref, "create", unified(None, planned, title=_title(ref)))
    ownership = f"install refuses it unless --take-ownership: {foreign}" if foreign else ""
    return _compared(ref, live, planned, tuple(taken_fields(live, planned)), ownership)


def _compared(ref: ObjectRef, live: dict[str, Any], planned: dict[str, Any],
              conflicts: tuple[FieldConflict, ...], message: str) -> ObjectDiff:
    text = unified(live, planned, title=_title(ref))
    action: DiffAction = "change" if text or conflicts else "unchanged"
    return ObjectDiff(ref, action, text, conflicts, message)


def _prune_diff(cluster: Cluster, ref: ObjectRef, *, release_name: str,
                namespace: str) -> ObjectDiff | None:
    try:
        live = cluster.get(ref)
    except ClusterError as e:
        return ObjectDiff(ref, "refused", message=server_message(e, ref))
    if live is None:
        return None
    reason = left_alone(live, release_name=release_name, namespace=namespace)
    if reason is not None:
        return ObjectDiff(ref, "keep", message=reason)
    return ObjectDiff(ref, "prune", unified(live, None, title=_title(ref)))


def _title(ref: ObjectRef) -> str:
    return f"{ref.kind}/{ref.name}"
