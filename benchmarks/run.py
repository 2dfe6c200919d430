"""lmfchart's speed next to helm's on the same work, printed as Markdown tables.

    python benchmarks/run.py [--runs 7] [--files 200] [--helm-sample 10] [--no-cluster]

Times: start-up, `template`, and `validate` of many distinct files (medians of interleaved
rounds, with each process's peak memory). API: the requests and wall time of an install,
a no-op re-install and an upgrade on the test control plane (skipped with --no-cluster).
Times on a shared machine are noisy; read them next to helm's, measured in the same
rounds. The README's "Speed" section says what each row measures.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# This repository's lmfchart (for the Kubernetes version it validates against) and its
# test helpers (helm binaries, the test control plane).
sys.path[:0] = [str(REPO), str(REPO / "src")]

from benchmarks.api import VALUES, api_section  # noqa: E402
from benchmarks.table import markdown  # noqa: E402
from benchmarks.times import Settings, render_chart, time_rows  # noqa: E402
from benchmarks.timing import CommandError, launcher_floor_mib  # noqa: E402
from benchmarks.tools import describe_machine, find_tools  # noqa: E402
from lmfchart.openapi import default_version  # noqa: E402


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=_positive, default=7,
                        help="timed rounds; medians are reported (default 7)")
    parser.add_argument("--files", type=_positive, default=200,
                        help="values files per `validate` (default 200)")
    parser.add_argument("--helm-sample", type=_positive, default=10,
                        help="files per round through helm's per-file pipeline, whose time "
                        "is scaled to --files (default 10)")
    parser.add_argument("--no-cluster", action="store_true",
                        help="skip the API section (no control plane is started)")
    return parser.parse_args()


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main() -> None:
    try:
        _benchmark(_arguments())
    except CommandError as e:
        raise SystemExit(f"benchmark failed: {e}") from e


def _benchmark(args: argparse.Namespace) -> None:
    settings = Settings(runs=args.runs, files=args.files, helm_sample=args.helm_sample,
                        kube_version=default_version())
    tools = find_tools()
    lines = ["# lmfchart next to helm", "", *describe_machine(tools), ""]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(prefix="lmfchart-bench-") as scratch:
        rows = time_rows(tools, settings, scratch=Path(scratch), progress=_progress)
        print(f"Times: medians of {settings.runs} interleaved rounds after one warm-up run of "
              "each command; peak RSS is each process's largest max RSS over the rounds "
              "(helm's pipeline: its largest process; nothing reads below the launcher's "
              f"{launcher_floor_mib()} MiB). Helm's `validate` is, per file, `helm "
              f"lint --strict CHART -f F`, then `helm template lmf CHART -f F | "
              f"kubernetes-validate --strict -k {settings.kube_version}.0 -`, run on a "
              "sample of the round's files and scaled; seed-layout files reach helm as the "
              "same changes in the chart's layout, over the chart rendered from "
              "examples/seed. Ratios: lmfchart's time / helm's.")
        print()
        header = ["measure", "lmfchart", "helm", "ratio", "lmfchart peak RSS",
                  "helm peak RSS", "target"]
        print("\n".join(markdown(header, [dataclasses.astuple(r) for r in rows])))
        print(flush=True)
        if args.no_cluster:
            print("API section skipped (--no-cluster).")
            return
        chart = render_chart(tools, values=VALUES, into=Path(scratch) / "api-chart")
        print("\n".join(api_section(tools, chart=chart, scratch=Path(scratch),
                                    progress=_progress)))


if __name__ == "__main__":
    main()
