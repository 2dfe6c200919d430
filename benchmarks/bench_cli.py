"""Time lmfchart against helm on the same work and print the ratios.

    python benchmarks/bench_cli.py [--runs 5] [--files 200]

- `template`: `lmfchart template` vs `helm template` on the chart lmfchart rendered;
- `validate`: `lmfchart validate` of N values files in one process vs `helm lint` of the
  chart with each file (helm's nearest equivalent: schema + render, no OpenAPI check).
Wall-clock figures on a shared 2-core machine are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.binaries import helm  # noqa: E402


def _median_seconds(command: Sequence[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    lmfchart = [sys.executable, "-m", "lmfchart"]
    helm_bin = str(helm(4))
    values = str(REPO / "examples" / "gpu-pvc" / "values.yaml")
    with tempfile.TemporaryDirectory() as scratch:
        chart = Path(scratch) / "chart"
        subprocess.run([*lmfchart, "render", "-f", values, "-o", str(chart)], check=True,
                       capture_output=True)
        ours = _median_seconds([*lmfchart, "template", "lmf", "-f", values], args.runs)
        theirs = _median_seconds([helm_bin, "template", "lmf", str(chart)], args.runs)
        print(f"template  lmfchart {ours:.3f}s  helm {theirs:.3f}s  ratio {ours / theirs:.2f}")

        files = []
        for index in range(args.files):
            target = Path(scratch) / f"values-{index}.yaml"
            shutil.copy(values, target)
            files.append(str(target))
        start = time.perf_counter()
        subprocess.run([*lmfchart, "validate", *files], check=True, capture_output=True)
        ours = time.perf_counter() - start
        sample = files[: min(20, len(files))]
        start = time.perf_counter()
        for file in sample:
            subprocess.run([helm_bin, "lint", str(chart), "-f", file], check=True,
                           capture_output=True)
        theirs = (time.perf_counter() - start) / len(sample) * len(files)
        print(f"validate  {len(files)} files: lmfchart {ours:.2f}s  helm lint (extrapolated "
              f"from {len(sample)}) {theirs:.2f}s  ratio {ours / theirs:.2f}")
        print(f"validate  per file: lmfchart {ours / len(files) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
