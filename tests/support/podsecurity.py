"""The cases the Pod Security tests judge: every example, and variants that break (or
meet) each level in ways the examples do not; and the README's verdicts table built from
lmfchart's own checks (`python -m tests.support.podsecurity` prints it)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.manifests import render_objects
from lmfchart.usecases.podsecurity import pod_templates, violations
from lmfchart.usecases.podstandards import LEVELS
from tests.conftest import EXAMPLES, example_values

_MEETS_RESTRICTED = {
    "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                           "seccompProfile": {"type": "RuntimeDefault"}},
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
}
_PRIVILEGED = {
    "podSecurityContext": {"seccompProfile": {"type": "Unconfined"},
                           "sysctls": [{"name": "kernel.msgmax", "value": "65536"}]},
    # null drops the chart's allowPrivilegeEscalation: false, which privileged contradicts.
    "securityContext": {"privileged": True, "allowPrivilegeEscalation": None,
                        "capabilities": {"add": ["NET_ADMIN", "CHOWN"]},
                        "appArmorProfile": {"type": "Unconfined"},
                        "seLinuxOptions": {"user": "system_u", "type": "spc_t"}},
}
_ROOT = {
    "podSecurityContext": {"runAsNonRoot": False},
    "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": True,
                        "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "CHOWN"]},
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "podAnnotations": {"container.apparmor.security.beta.kubernetes.io/llama-factory":
                       "unconfined"},
}
_HOST_VOLUMES = {
    "storage": {"saves": {"type": "hostPath", "hostPath": "/srv/saves"}},
    "extraVolumes": [{"name": "nfs-data", "nfs": {"server": "nfs.internal", "path": "/d"}}],
    "extraVolumeMounts": [{"name": "nfs-data", "mountPath": "/mnt/nfs"}],
}


@dataclass(frozen=True)
class Case:
    name: str
    files: tuple[str, ...] = ()
    set_json: tuple[str, ...] = ()

    def options(self) -> ValueOptions:
        return ValueOptions(files=self.files, set_jsons=self.set_json)

    def objects(self, namespace: str = "default") -> list[dict[str, Any]]:
        loaded = load_values(self.options())
        return render_objects(loaded.values, release_name="lmf", namespace=namespace)


def _json(values: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(f"{key}={json.dumps(value)}" for key, value in values.items())


def _example(name: str) -> str:
    return str(example_values(name))


EXAMPLE_CASES = [Case(name, (_example(name),)) for name in EXAMPLES]
VARIANT_CASES = [
    Case("hostPath and nfs volumes", set_json=_json(_HOST_VOLUMES)),
    Case("privileged container", set_json=_json(_PRIVILEGED)),
    Case("root, privilege escalation, unconfined AppArmor", set_json=_json(_ROOT)),
    Case("restricted securityContext", set_json=_json(_MEETS_RESTRICTED)),
    Case("fine-tuning as a PyTorchJob", (_example("fine-tuning"),),
         _json({"train.yi-agent-2x2.engine": "pytorchjob"})),
    Case("fine-tuning as a PyTorchJob, restricted securityContext", (_example("fine-tuning"),),
         _json({**_MEETS_RESTRICTED, "train.yi-agent-2x2.engine": "pytorchjob"})),
    Case("seed layout with host folders", (_example("seed"),),
         _json({"volume": {"data": "/srv/datasets", "output": "/srv/output"}})),
]
CASES = EXAMPLE_CASES + VARIANT_CASES


def verdict(objects: Sequence[Mapping[str, Any]], level: Any) -> str:
    """What breaks LEVEL in OBJECTS, as the README's table says it."""
    checks = dict.fromkeys(v.finding.check for v in violations(objects, level))
    return ", ".join(f"`{c}`" for c in checks) if checks else "meets it"


def verdicts_table() -> str:
    lines = ["| example | pods | baseline | restricted |", "|---|---|---|---|"]
    for case in EXAMPLE_CASES:
        objects = case.objects()
        pods = sum(1 for obj in objects for _ in pod_templates(obj))
        lines.append(f"| {case.name} | {pods} | "
                     + " | ".join(verdict(objects, level) for level in LEVELS) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(verdicts_table(), end="")
