"""Render the GPU smoke run's LLaMA-Factory configs and pod settings with lmfchart.

Usage: python render_configs.py OUT_DIR [--values FILE] [--nodes N] [--gpus N]

Runs `lmfchart template` on the values file (examples/gpu-smoke/values.yaml by default)
and writes, for the one training run and the one export it declares, what their pods
would see, so the device can run exactly that outside Kubernetes:

    OUT_DIR/train/            the training run's pod
    OUT_DIR/export/           the export's pod
    OUT_DIR/train-<N>nodes/   the same run rendered with nodes=N (an Indexed Job)
    OUT_DIR/train-<N>gpus/    the same run rendered with gpus=N (one pod, N GPUs), writing
                              to its own output folder

Each folder holds `configmap/` (the ConfigMap's files: train.yaml and dataset_info.json,
or export.yaml), `config_dir` (where the pod mounts them), `command` (the container's
command line), `mounts` (its other volumes' mount paths, one a line), `gpus` (the GPUs
it asks for) and `pod.env` (its environment as shell `export` lines; a value the pod
reads from its Job completion index reads `$JOB_COMPLETION_INDEX`, the variable
Kubernetes also sets in an Indexed Job's pods).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEFAULT_VALUES = REPO / "examples" / "gpu-smoke" / "values.yaml"
RELEASE = "smoke"
NAMESPACE = "gpu-smoke"
GPU_RESOURCE = "nvidia.com/gpu"
COMPLETION_INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']"


def template(*, values: Path, sets: list[str]) -> list[dict[str, Any]]:
    command = [sys.executable, "-m", "lmfchart", "template", RELEASE, "-n", NAMESPACE,
               "-f", str(values)]
    for expression in sets:
        command += ["--set", expression]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"lmfchart template failed ({result.returncode}):\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def only(objects: list[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(objects) != 1:
        sys.exit(f"expected one {what}, the chart rendered {len(objects)}")
    return objects[0]


def workload_job(objects: list[dict[str, Any]], component: str) -> dict[str, Any]:
    jobs = [
        obj for obj in objects
        if obj["kind"] == "Job"
        and obj["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component
    ]
    return only(jobs, f"{component} Job")


def env_line(variable: dict[str, Any]) -> str | None:
    name = variable["name"]
    if "value" in variable:
        return f"export {name}={shlex.quote(str(variable['value']))}"
    field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    if field == COMPLETION_INDEX_FIELD:
        return f'export {name}="$JOB_COMPLETION_INDEX"'
    print(f"  (skipped {name}: read from {variable.get('valueFrom')})", file=sys.stderr)
    return None


def write_pod(*, objects: list[dict[str, Any]], job: dict[str, Any], folder: Path) -> None:
    """Write the Job's ConfigMap files, config mount, command and env into FOLDER."""
    pod = job["spec"]["template"]["spec"]
    container = only(pod["containers"], "container")
    config_maps = {
        volume["name"]: volume["configMap"]["name"]
        for volume in pod.get("volumes", []) if "configMap" in volume
    }
    mounts = [m for m in container.get("volumeMounts", []) if m["name"] in config_maps]
    mount = only(mounts, "ConfigMap mount")
    config_map = only(
        [obj for obj in objects if obj["kind"] == "ConfigMap"
         and obj["metadata"]["name"] == config_maps[mount["name"]]],
        f"ConfigMap {config_maps[mount['name']]}",
    )
    (folder / "configmap").mkdir(parents=True, exist_ok=True)
    for key, text in config_map["data"].items():
        (folder / "configmap" / key).write_text(text, encoding="utf-8")
    (folder / "config_dir").write_text(mount["mountPath"] + "\n", encoding="utf-8")
    command = [*container.get("command", []), *container.get("args", [])]
    (folder / "command").write_text(shlex.join(command) + "\n", encoding="utf-8")
    lines = [line for line in map(env_line, container.get("env", [])) if line]
    (folder / "pod.env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    volumes = [m["mountPath"] for m in container.get("volumeMounts", []) if m is not mount]
    (folder / "mounts").write_text("".join(f"{path}\n" for path in volumes), encoding="utf-8")
    limits = container.get("resources", {}).get("limits", {})
    gpus = int(limits.get(GPU_RESOURCE, 0))
    (folder / "gpus").write_text(f"{gpus}\n", encoding="utf-8")
    print(f"{job['metadata']['name']}: {shlex.join(command)} -> {folder}")
    print(f"  ConfigMap {config_map['metadata']['name']} at {mount['mountPath']}: "
          f"{', '.join(sorted(config_map['data']))}; {gpus} GPU(s)")


def check_indexed(objects: list[dict[str, Any]], job: dict[str, Any], nodes: int) -> None:
    """The multi-node run must be the Indexed Job with its headless Service."""
    spec = job["spec"]
    indexed = (spec.get("completionMode"), spec.get("completions"), spec.get("parallelism"))
    if indexed != ("Indexed", nodes, nodes):
        sys.exit(f"expected an Indexed Job of {nodes} pods, got {indexed}")
    subdomain = spec["template"]["spec"].get("subdomain")
    services = [obj for obj in objects if obj["kind"] == "Service"
                and obj["metadata"]["name"] == subdomain
                and obj["spec"].get("clusterIP") == "None"]
    only(services, f"headless Service {subdomain}")
    print(f"  Indexed Job, {nodes} completions, headless Service {subdomain}")


def run_name(job: dict[str, Any]) -> str:
    return str(job["spec"]["template"]["metadata"]["labels"]["llama-factory/run"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--values", type=Path, default=DEFAULT_VALUES)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--gpus", type=int, default=2)
    args = parser.parse_args()

    objects = template(values=args.values, sets=[])
    train = workload_job(objects, "train")
    write_pod(objects=objects, job=train, folder=args.out / "train")
    write_pod(objects=objects, job=workload_job(objects, "export"), folder=args.out / "export")

    multi = template(values=args.values, sets=[f"train.{run_name(train)}.nodes={args.nodes}"])
    multi_train = workload_job(multi, "train")
    write_pod(objects=multi, job=multi_train, folder=args.out / f"train-{args.nodes}nodes")
    check_indexed(multi, multi_train, args.nodes)

    # Its own output folder: LLaMA-Factory resumes from a checkpoint it finds in output_dir.
    run = run_name(train)
    wide = template(values=args.values, sets=[f"train.{run}.gpus={args.gpus}",
                                              f"train.{run}.outputDir=train/{run}-{args.gpus}gpus"])
    write_pod(objects=wide, job=workload_job(wide, "train"),
              folder=args.out / f"train-{args.gpus}gpus")


if __name__ == "__main__":
    main()
