"""The programs the benchmark runs, how they are started, and the machine they run on."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.binaries import helm

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "src" / "lmfchart"
# Set globally on this machine; with an editable install it would recompile lmfchart's
# modules in every process, which no pip-installed lmfchart does.
NO_BYTECODE = "PYTHONDONTWRITEBYTECODE"


@dataclass(frozen=True)
class Tools:
    lmfchart: tuple[str, ...]
    lmfchart_how: str
    helm4: str
    helm3: str
    kubernetes_validate: tuple[str, ...]
    env: dict[str, str]


def _console_script(name: str) -> Path | None:
    """NAME as pip installed it for this interpreter; PATH may hold only a shim (pyenv's
    costs tens of milliseconds per start) in front of the same script."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    return Path(found) if found else None


def _imports_this_repo(script: Path, env: dict[str, str]) -> bool:
    first_line = script.read_bytes().split(b"\n", 1)[0].decode(errors="replace")
    if not first_line.startswith("#!") or "python" not in first_line:
        return False
    interpreter = first_line[2:].strip().split()
    probe = subprocess.run(
        [*interpreter, "-c", "import lmfchart; print(lmfchart.__file__)"],
        env=env, capture_output=True, text=True, check=False, cwd=REPO)
    return (probe.returncode == 0
            and Path(probe.stdout.strip()).resolve().parent == SOURCE.resolve())


def find_tools() -> Tools:
    env = {k: v for k, v in os.environ.items() if k != NO_BYTECODE}
    script = _console_script("lmfchart")
    if script and _imports_this_repo(script, env):
        lmfchart: tuple[str, ...] = (str(script),)
        how = f"the console script {script}"
    else:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(SOURCE.parent), env.get("PYTHONPATH")) if p)
        lmfchart = (sys.executable, "-m", "lmfchart")
        how = (f"{sys.executable} -m lmfchart with PYTHONPATH={SOURCE.parent} (no console "
               "script on PATH imports this repository)")
    validator = _console_script("kubernetes-validate")
    if validator is None:
        raise SystemExit("kubernetes-validate is not installed (it comes with lmfchart)")
    return Tools(lmfchart=lmfchart, lmfchart_how=how, helm4=str(helm(4)), helm3=str(helm(3)),
                 kubernetes_validate=(str(validator),), env=env)


def _cpuinfo() -> tuple[str, int]:
    model, cores = "unknown CPU", 0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and model == "unknown CPU":
            model = value.strip()
        elif key.strip() == "processor":
            cores += 1
    return model, cores or (os.cpu_count() or 0)


def _memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0.0


def _helm_version(binary: str) -> str:
    done = subprocess.run([binary, "version", "--short"], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip().split("+")[0]


def describe_machine(tools: Tools) -> list[str]:
    model, cores = _cpuinfo()
    return [
        f"machine: {model}, {cores} cores, {_memory_gib():.1f} GiB memory; "
        f"Python {platform.python_version()}; helm {_helm_version(tools.helm4)} (times) "
        f"and {_helm_version(tools.helm3)}",
        f"lmfchart: {tools.lmfchart_how}",
        f"children run without {NO_BYTECODE} (set on this machine), so lmfchart loads "
        "its modules from bytecode caches, as a pip-installed lmfchart does",
    ]
