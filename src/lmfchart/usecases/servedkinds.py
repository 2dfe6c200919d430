"""Before an install writes anything: every kind the release renders must be one the
cluster serves. A custom resource's kind exists only once its CustomResourceDefinition is
installed; discovery (the REST mapper, namespace-scoped credentials suffice) tells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lmfchart.base.errors import ReleaseStateError
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.liveruns import run_of

# (apiVersion, kind) -> what serves it, and the values key that avoids it ({run}: run name).
_REMEDIES = {
    ("kubeflow.org/v1", "PyTorchJob"): (
        "install the Kubeflow training operator (its CRDs serve kubeflow.org/v1 PyTorchJob) "
        "or set {component}.{run}.engine: job (`lmfchart train --engine job`)"),
}
_DEFAULT_REMEDY = "install the CustomResourceDefinition that serves it"


def refuse_unserved(*, cluster: Cluster, objects: Sequence[dict[str, Any]],
                    release_name: str, namespace: str) -> None:
    """Raise ReleaseStateError naming each object (and run) whose kind the cluster does
    not serve, and what to do about it."""
    kinds = dict.fromkeys((str(obj["apiVersion"]), str(obj["kind"])) for obj in objects)
    unserved = {kind for kind in kinds if not cluster.serves(*kind)}
    if not unserved:
        return
    lines = [_explain(obj) for obj in objects
             if (str(obj["apiVersion"]), str(obj["kind"])) in unserved]
    raise ReleaseStateError(
        f"release {release_name} in namespace {namespace}: the cluster does not serve "
        f"{len(unserved)} kind{'s' if len(unserved) > 1 else ''} the release needs; "
        "nothing was changed:\n  " + "\n  ".join(lines))


def _explain(obj: dict[str, Any]) -> str:
    ref = ObjectRef.of(obj)
    run = run_of(obj)
    remedy = _REMEDIES.get((ref.api_version, ref.kind))
    if run is None:
        return (f"{ref.kind}/{ref.name}: {ref.api_version} {ref.kind} is not served: "
                f"{_DEFAULT_REMEDY}")
    return (f"{run.component} run {run.name} ({ref.kind}/{ref.name}): {ref.api_version} "
            f"{ref.kind} is not served: "
            + (remedy or _DEFAULT_REMEDY).format(run=run.name, component=run.component))
