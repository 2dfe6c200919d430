"""Render with lmfchart and with a real helm, and compare what comes out as objects."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.chartfiles import write_chart
from lmfchart.render.manifests import render_objects, to_yaml_stream
from lmfchart.yamlio.reading import read_rendered

Objects = list[dict[str, Any]]


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    return (obj["apiVersion"], obj["kind"], obj["metadata"]["name"])


def by_identity(objects: Objects) -> dict[tuple[str, str, str], dict[str, Any]]:
    found: dict[tuple[str, str, str], dict[str, Any]] = {}
    for obj in objects:
        assert identity(obj) not in found, f"duplicate object {identity(obj)}"
        found[identity(obj)] = obj
    return found


def parse_stream(text: str) -> Objects:
    return [doc for doc in read_rendered(text) if doc]


def render_chart_dir(
    out: Path, *, files: Sequence[str] = (), sets: Sequence[str] = (),
    documents: Sequence[tuple[str, str]] = (),
) -> Path:
    loaded = load_values(ValueOptions(files=tuple(files), sets=tuple(sets),
                                      documents=tuple(documents)))
    return write_chart(loaded.values, out)


def lmf_objects(
    release_name: str, namespace: str, *, files: Sequence[str] = (), sets: Sequence[str] = (),
    documents: Sequence[tuple[str, str]] = (),
) -> Objects:
    """What `lmfchart template` prints, read back from its YAML text."""
    loaded = load_values(ValueOptions(files=tuple(files), sets=tuple(sets),
                                      documents=tuple(documents)))
    text = to_yaml_stream(render_objects(loaded.values, release_name=release_name,
                                            namespace=namespace))
    return parse_stream(text)


def helm_run(helm: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(helm), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def helm_objects(
    helm: Path, chart: Path, release: str, namespace: str, *, extra: Sequence[str] = ()
) -> Objects:
    done = helm_run(helm, "template", release, str(chart), "-n", namespace, *extra)
    assert done.returncode == 0, f"helm template failed:\n{done.stderr}"
    return parse_stream(done.stdout)
