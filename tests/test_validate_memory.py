"""`validate` keeps nothing per file beyond its report: memory stays flat however many
values files a CI job hands it."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from lmfchart.inputs.options import ValueOptions
from lmfchart.usecases.validate import validate_files
from tests.conftest import example_values


def distinct_files(folder: Path, count: int) -> list[str]:
    # Every file different: a cache keyed by content would grow with each one.
    base = example_values("gpu-pvc").read_text()
    paths = []
    for index in range(count):
        path = folder / f"values-{index}.yaml"
        path.write_text(base + f"podLabels:\n  bench/index: \"{index}\"\n"
                        f"image:\n  tag: \"0.9.{index}\"\n")
        paths.append(str(path))
    return paths


def peak_bytes(files: list[str]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        reports = validate_files(files=files, values=ValueOptions())
        assert all(report.ok for report in reports), [r.issues for r in reports if not r.ok]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_peak_memory_does_not_grow_with_the_number_of_files(tmp_path: Path) -> None:
    files = distinct_files(tmp_path, 120)
    peak_bytes(files[:2])  # caches that exist once per process (schemas, templates)
    few = peak_bytes(files[:15])
    many = peak_bytes(files)
    # Eight times the files. What each file may leave behind is its report (a few hundred
    # bytes); its values and objects (tens of kilobytes) must all be gone.
    assert many - few < (120 - 15) * 3_000, (few, many)
