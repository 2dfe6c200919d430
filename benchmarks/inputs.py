"""Distinct, valid values files for `validate`, so no cache can answer for a file it saw.

Each variant changes the image tag, resources, a pod annotation and a list: in the
chart's own layout from examples/gpu-pvc, and in the seed chart's layout from
examples/seed. Helm cannot read the seed layout, so each seed-layout file comes with its
twin: the same changes in the chart's layout, for `helm ... -f` on the chart rendered from
the seed example.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from benchmarks.tools import REPO
from lmfchart.inputs.merge import copy_tree, merge_maps

CHART_LAYOUT_BASE = REPO / "examples" / "gpu-pvc" / "values.yaml"
SEED_LAYOUT_BASE = REPO / "examples" / "seed" / "values.yaml"


@dataclass(frozen=True)
class ValuesFile:
    path: Path
    for_helm: Path  # what helm reads for the same values (the file itself, or its twin)


def _chart_layout(base: dict[str, Any], n: int) -> dict[str, Any]:
    values: dict[str, Any] = copy_tree(base)
    values.setdefault("image", {})["tag"] = f"0.9.4-variant{n}"
    values["resources"]["requests"].update(cpu=str(1 + n % 4), memory=f"{16 + n % 16}Gi")
    values["podAnnotations"] = {"bench.example.com/variant": str(n)}
    values["tolerations"] = [*values.get("tolerations", []), {
        "key": f"example.com/pool-{n % 7}", "operator": "Exists", "effect": "NoSchedule"}]
    return values


def _seed_changes(n: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The changes of seed variant N: in the seed layout, and in the chart's layout."""
    tag = f"v0.6.1-variant{n}"
    resources = {"limits": {"memory": f"{12 + n % 8}Gi"},
                 "requests": {"cpu": str(1 + n % 4), "memory": f"{1 + n % 4}Gi"}}
    domain = f"variant{n}.172.18.0.2.nip.io"
    seed = {"image": f"kubeagi/llama-factory:{tag}", "resources": resources,
            "ingress": {"ingressDomain": domain}}
    chart = {"image": {"tag": tag}, "resources": resources, "ingress": {"domain": domain}}
    return seed, chart


def _merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = copy_tree(base)
    merge_maps(merged, changes)
    return merged


def _write(path: Path, values: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


class FileSets:
    """Sets of COUNT files of one layout; every file of every set is a different variant."""

    def __init__(self, *, folder: Path, seed_layout: bool, count: int) -> None:
        self.folder = folder
        self.seed_layout = seed_layout
        self.count = count
        base_file = SEED_LAYOUT_BASE if seed_layout else CHART_LAYOUT_BASE
        self.base = yaml.safe_load(base_file.read_text())
        self.next_variant = 0

    def new_set(self, count: int | None = None) -> list[ValuesFile]:
        files = []
        for _ in range(self.count if count is None else count):
            n = self.next_variant
            self.next_variant += 1
            target = self.folder / f"values-{n}.yaml"
            if self.seed_layout:
                seed, chart = _seed_changes(n)
                twin = _write(self.folder / f"values-{n}.chart-layout.yaml", chart)
                files.append(ValuesFile(_write(target, _merged(self.base, seed)), twin))
            else:
                written = _write(target, _chart_layout(self.base, n))
                files.append(ValuesFile(written, written))
        return files
