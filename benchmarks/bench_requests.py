"""Count the API requests of an install, a no-op re-install and an upgrade: lmfchart
against helm 4 and helm 3 on the same chart, read from the test control plane's audit log.

    python benchmarks/bench_requests.py

Starts a control plane with `scripts/testenv up` (binaries from `scripts/testenv build`),
runs each tool in a namespace of its own, and prints the counts and their ratios. Counts,
unlike times, do not depend on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.cluster import AuditWindow, run_testenv  # noqa: E402
from tests.support.binaries import helm, kubectl  # noqa: E402

VALUES = str(REPO / "examples" / "gpu-pvc" / "values.yaml")
STEPS = (("install", ()), ("no-op re-install", ()),
         ("upgrade", ("--set", "image.tag=0.9.5")))


def _run(command: Sequence[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr}")


def _counts(audit: Path, env: dict[str, str], agent: str,
            command: Sequence[str]) -> list[int]:
    counts = []
    for _, extra in STEPS:
        window = AuditWindow(audit)
        _run([*command, *extra], env)
        counts.append(len(window.requests(agent)))
    return counts


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        state = Path(scratch) / "testenv"
        started = run_testenv("up", "--json", f"--state-dir={state}")
        if started.returncode != 0:
            raise SystemExit(f"scripts/testenv up failed:\n{started.stderr}")
        info = json.loads(started.stdout)
        env = {**os.environ, "KUBECONFIG": info["kubeconfig"]}
        audit = state / "logs" / "audit.log"
        try:
            chart = Path(scratch) / "chart"
            lmf = [sys.executable, "-m", "lmfchart"]
            _run([*lmf, "render", "-f", VALUES, "-o", str(chart)], env)
            rows = {}
            for name, agent in (("lmfchart", "lmfchart/"), ("helm4", "Helm/"),
                                ("helm3", "Helm/")):
                namespace = f"bench-{name}"
                _run([str(kubectl()), "create", "namespace", namespace], env)
                if name == "lmfchart":
                    command = [*lmf, "install", "lmf", "-n", namespace, "-f", VALUES]
                else:
                    binary = str(helm(4 if name == "helm4" else 3))
                    command = [binary, "upgrade", "--install", "lmf", str(chart),
                               "-n", namespace]
                rows[name] = _counts(audit, env, agent, command)
        finally:
            run_testenv("down", f"--state-dir={state}")
    print(f"{'requests':<18}{'lmfchart':>9}{'helm 4':>8}{'ratio':>7}{'helm 3':>8}{'ratio':>7}")
    for index, (step, _) in enumerate(STEPS):
        ours, h4, h3 = (rows[n][index] for n in ("lmfchart", "helm4", "helm3"))
        print(f"{step:<18}{ours:>9}{h4:>8}{ours / h4:>7.2f}{h3:>8}{ours / h3:>7.2f}")


if __name__ == "__main__":
    main()
