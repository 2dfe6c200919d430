"""`train --print`, `export --print`: a run's objects and what its pods run, read from the
values and flags alone (no cluster), like the web UI's "preview command"."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from typing import Any

from lmfchart.base.errors import TemplateError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.model.lfconfig import CONFIG_DIR
from lmfchart.render.manifests import render_objects, to_yaml_stream
from lmfchart.usecases.runs import (
    NamedRun,
    flag_layers,
    label,
    run_objects,
    runner,
)


@dataclass(frozen=True)
class RunPreview:
    run: NamedRun
    text: str
    """The run's objects as a YAML stream, then what runs, as YAML comments."""
    notes: tuple[str, ...]


def preview(*, release_name: str, namespace: str, values: ValueOptions,
            run: NamedRun) -> RunPreview:
    loaded = load_values(replace(values, after_flags=flag_layers(run)))
    mine = run_objects(render_objects(loaded.values, release_name=release_name,
                                      namespace=namespace), run)
    text = to_yaml_stream(mine) + "".join(
        f"# {line}".rstrip() + "\n" for line in what_runs(mine, run))
    return RunPreview(run, text, tuple(loaded.notes))


def what_runs(objects: list[dict[str, Any]], run: NamedRun) -> list[str]:
    """The command each pod of the run runs, with its environment, and its config files."""
    job = runner(objects)
    if job is None:
        raise TemplateError(f"the chart made no Job for {run}")
    pods, template = _pods(job)
    return [*_command(job, pods, template), *_config_files(objects)]


def _pods(job: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """How many pods a Job or PyTorchJob runs, and their template (every pod of a run has
    the same one)."""
    spec = job["spec"]
    if job["kind"] == "Job":
        count = spec.get("completions", 1)
        return f"{count} pod{'s' if count != 1 else ''}", spec["template"]
    replicas = spec["pytorchReplicaSpecs"]
    roles = " + ".join(f"{role} x{replica['replicas']}" for role, replica in replicas.items())
    return f"pods {roles}", replicas["Master"]["template"]


def _command(job: dict[str, Any], pods: str, template: dict[str, Any]) -> list[str]:
    container = template["spec"]["containers"][0]
    lines = [f"{label(job)} ({pods}): each pod runs, in container {container['name']}:"]
    lines += [f"  {_variable(variable)} \\" for variable in container.get("env", ())]
    lines.append("  " + shlex.join([*container.get("command", ()), *container.get("args", ())]))
    return lines + [f"  ({_env_from(source)})" for source in container.get("envFrom", ())]


def _variable(variable: dict[str, Any]) -> str:
    name = variable["name"]
    if "valueFrom" not in variable:
        return f"{name}={shlex.quote(str(variable.get('value', '')))}"
    source, ref = next(iter(variable["valueFrom"].items()))
    where = ref.get("fieldPath") or ref.get("resource") or (
        f"{ref.get('name')} key {ref.get('key')}")
    return f"{name}=<{source} {where}>"


def _env_from(source: dict[str, Any]) -> str:
    kind, ref = next((k, v) for k, v in source.items() if k != "prefix")
    prefix = f", prefixed {source['prefix']}" if source.get("prefix") else ""
    where = f"{kind.removesuffix('Ref')} {ref.get('name')}"
    return f"environment also from every key of {where}{prefix}"


def _config_files(objects: list[dict[str, Any]]) -> list[str]:
    lines = []
    for obj in objects:
        if obj.get("kind") != "ConfigMap":
            continue
        for key, content in (obj.get("data") or {}).items():
            lines.append(f"{CONFIG_DIR}/{key}:")
            lines += [f"  {line}" for line in str(content).splitlines()]
    return lines
