"""Pod Security Standards over a rendered chart: every pod it would create, judged.

A Deployment, a Job and each replica of a PyTorchJob carry a pod template; a Pod is one.
The API server's PodSecurity admission judges the pods these create; here the same checks
(usecases/podstandards.py) run on the templates, before anything is deployed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmfchart.base.keypath import format_path
from lmfchart.model.sections.storage import Storage
from lmfchart.render.dialect import kebab
from lmfchart.usecases.podstandards import Finding, Level, PodContext, evaluate_pod

# Pod volume name -> the storage key it comes from (the chart names them in kebab case).
CHART_VOLUMES: Mapping[str, str] = {kebab(key): key for key in Storage.model_fields}


@dataclass(frozen=True)
class PodTemplate:
    kind: str
    name: str
    path: str  # where the template sits in the object, e.g. spec.template
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.name}" + (f" {self.path}" if self.path else "")


@dataclass(frozen=True)
class Violation:
    pod: PodTemplate
    level: Level
    finding: Finding

    def message(self) -> str:
        f = self.finding
        fix = f"{format_path(f.key)}: {f.fix}" if f.key else f.fix
        return (f'{self.pod.label} breaks Pod Security "{self.level}": {f.check} '
                f"({f.detail}); fix: {fix}")


@dataclass(frozen=True)
class PodSecurityModes:
    """Levels to check, as a namespace's labels set them: ENFORCE's violations fail the
    check, WARN's are said and pass."""

    enforce: Level | None = None
    warn: Level | None = None


NO_POD_SECURITY = PodSecurityModes()


def pod_templates(obj: Mapping[str, Any]) -> Iterator[PodTemplate]:
    """The pod templates in one rendered object (none for objects that run no pod)."""
    kind = str(obj.get("kind", ""))
    name = str((obj.get("metadata") or {}).get("name", "?"))
    spec = obj.get("spec") or {}
    if kind == "Pod":
        yield PodTemplate(kind, name, "", obj.get("metadata") or {}, spec)
    elif isinstance(spec.get("template"), Mapping):
        template = spec["template"]
        yield PodTemplate(kind, name, "spec.template", template.get("metadata") or {},
                          template.get("spec") or {})
    for role, replica in sorted((spec.get("pytorchReplicaSpecs") or {}).items()):
        template = replica.get("template") or {}
        yield PodTemplate(kind, name, f"spec.pytorchReplicaSpecs.{role}.template",
                          template.get("metadata") or {}, template.get("spec") or {})


def violations(objects: Sequence[Mapping[str, Any]], level: Level) -> list[Violation]:
    """Every way the pods of OBJECTS break LEVEL, object by object."""
    context = PodContext(volume_keys=CHART_VOLUMES)
    return [Violation(pod, level, finding)
            for obj in objects for pod in pod_templates(obj)
            for finding in evaluate_pod(pod.metadata, pod.spec, level, context)]
