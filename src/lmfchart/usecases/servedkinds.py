"""Before an install writes anything: every kind the release renders must be one the
cluster serves. A custom resource's kind exists only once its CustomResourceDefinition is
installed; discovery (the REST mapper, namespace-scoped credentials suffice) tells."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lmfchart.base.errors import ReleaseStateError
from lmfchart.usecases.cluster import Cluster, ObjectRef

# The chart's label that names the train or export run a workload belongs to.
RUN_LABEL = "llama-factory/run"
COMPONENT_LABEL = "app.kubernetes.io/component"

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
    labels = dict(_labels(obj))
    run, component = labels.get(RUN_LABEL), labels.get(COMPONENT_LABEL)
    what = f"{component} run {run} ({ref.kind}/{ref.name})" if run and component else (
        f"{ref.kind}/{ref.name}")
    remedy = _REMEDIES.get((ref.api_version, ref.kind), _DEFAULT_REMEDY)
    if run and component:
        remedy = remedy.format(run=run, component=component)
    elif "{run}" in remedy:
        remedy = _DEFAULT_REMEDY
    return f"{what}: {ref.api_version} {ref.kind} is not served: {remedy}"


def _labels(obj: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The object's labels, then those of the pod templates inside it (a PyTorchJob's
    replica specs), first value winning."""
    seen: set[str] = set()
    for labels in [(obj.get("metadata") or {}).get("labels") or {}, *_template_labels(obj)]:
        for key, value in labels.items():
            if key not in seen:
                seen.add(key)
                yield key, value


def _template_labels(node: Any) -> Iterator[dict[str, str]]:
    if isinstance(node, dict):
        template = node.get("template")
        if isinstance(template, dict):
            yield (template.get("metadata") or {}).get("labels") or {}
        for value in node.values():
            yield from _template_labels(value)
    elif isinstance(node, list):
        for value in node:
            yield from _template_labels(value)
