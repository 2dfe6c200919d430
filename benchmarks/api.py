"""API requests and wall time of an install, a no-op re-install and an upgrade: lmfchart
next to helm 4 and helm 3 on the same chart, against the test control plane.

`scripts/testenv up` starts kube-apiserver with an audit log that records every request
once; each tool's requests are those with its user agent logged while its command ran.
Each command runs once: an install changes the cluster, so it cannot be repeated as is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from tests.e2e.cluster import EXIT_MISSING_PREREQUISITE, AuditWindow, run_testenv
from tests.support.binaries import kubectl

from benchmarks.inputs import CHART_LAYOUT_BASE
from benchmarks.table import duration, markdown
from benchmarks.timing import measure
from benchmarks.tools import Tools

# The release measured; its chart is rendered from the same file for helm.
VALUES = CHART_LAYOUT_BASE
UPGRADE_SET = ("--set", "image.tag=0.9.5")
STEPS = ("fresh install", "no-op re-install", "upgrade (`--set image.tag=0.9.5`)")


@dataclass(frozen=True)
class Client:
    name: str
    user_agent: str  # prefix of the User-Agent header it sends
    namespace: str
    commands: tuple[list[str], list[str], list[str]]  # one per step


@dataclass(frozen=True)
class Measured:
    requests: int
    wall_s: float


def _missing_binaries(state: Path) -> str | None:
    """Why the control plane cannot start without a build first, or None."""
    status = run_testenv("status", f"--state-dir={state}")
    try:
        binaries = json.loads(status.stdout)["binaries"]
    except (ValueError, KeyError):
        return f"scripts/testenv status failed: {status.stderr.strip()}"
    missing = sorted(name for name, path in binaries.items() if path is None)
    if missing:
        return (f"the test control plane is not built ({', '.join(missing)} missing; "
                "`python3 scripts/testenv build` builds it)")
    return None


def _clients(tools: Tools, chart: Path) -> list[Client]:
    def lmfchart(ns: str) -> list[str]:
        return [*tools.lmfchart, "install", "lmf", "-n", ns, "-f", str(VALUES)]

    def helm(binary: str, ns: str) -> tuple[list[str], list[str], list[str]]:
        upgrade = [binary, "upgrade", "lmf", str(chart), "-n", ns]
        return [binary, "install", "lmf", str(chart), "-n", ns], upgrade, [*upgrade,
                                                                          *UPGRADE_SET]

    ours = "bench-lmfchart"
    return [
        Client("lmfchart", "lmfchart/", ours, (lmfchart(ours), lmfchart(ours),
                                               [*lmfchart(ours), *UPGRADE_SET])),
        Client("helm 4", "Helm/", "bench-helm4", helm(tools.helm4, "bench-helm4")),
        Client("helm 3", "Helm/", "bench-helm3", helm(tools.helm3, "bench-helm3")),
    ]


def _objects_in_release(tools: Tools, env: dict[str, str], namespace: str) -> int:
    manifest = measure([tools.helm4, "get", "manifest", "lmf", "-n", namespace], env=env)
    return sum(1 for doc in yaml.safe_load_all(manifest.stdout) if doc)


def api_section(tools: Tools, *, chart: Path, scratch: Path,
                progress: Callable[[str], None]) -> list[str]:
    """The section's lines: a table, or one line saying why it was skipped."""
    state = scratch / "testenv"
    missing = _missing_binaries(state)
    if missing:
        return [f"API section skipped: {missing}."]
    progress("starting the test control plane")
    started = run_testenv("up", "--json", f"--state-dir={state}", f"--owner-pid={os.getpid()}")
    if started.returncode == EXIT_MISSING_PREREQUISITE:
        return [f"API section skipped: {started.stderr.strip().splitlines()[-1]}"]
    if started.returncode != 0:
        raise RuntimeError(f"scripts/testenv up failed:\n{started.stderr}")
    info = json.loads(started.stdout)
    try:
        env = {**tools.env, "KUBECONFIG": info["kubeconfig"]}
        audit = Path(info["state_dir"]) / "logs" / "audit.log"
        clients = _clients(tools, chart)
        for client in clients:
            measure([str(kubectl()), "create", "namespace", client.namespace],
                    env=env)
        got: dict[str, list[Measured]] = {c.name: [] for c in clients}
        for step, title in enumerate(STEPS):
            progress(f"API: {title}")
            for client in clients:
                window = AuditWindow(audit)
                done = measure(client.commands[step], env=env)
                got[client.name].append(
                    Measured(len(window.requests(client.user_agent)), done.sample.wall_s))
        objects = _objects_in_release(tools, env, clients[1].namespace)
    finally:
        run_testenv("down", f"--state-dir={state}")
    rows = [[STEPS[step],
             *(str(got[c.name][step].requests) for c in clients),
             *(duration(got[c.name][step].wall_s) for c in clients)]
            for step in range(len(STEPS))]
    return [
        f"API requests and wall time against kube-apiserver {info['kubernetes_version']} "
        f"(the test control plane), {VALUES.relative_to(VALUES.parents[2])}; one run of "
        "each command:",
        "",
        *markdown(["step", "lmfchart requests", "helm 4", "helm 3", "lmfchart wall",
                   "helm 4 wall", "helm 3 wall"], rows),
        "",
        f"objects in the release: {objects} (`helm get manifest`); the no-op target is at "
        f"most {objects + 1} requests (one per object plus the release record read); a "
        "fresh install and an upgrade no more than helm's.",
    ]
