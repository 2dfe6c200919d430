"""Build kube-apiserver, kube-controller-manager and etcd from Go modules, once per machine.

For each component a scratch Go module is generated in the cache. It requires the released
module (for example `k8s.io/kubernetes v1.35.4`) and lists the commands as `tool`
directives. `k8s.io/kubernetes` replaces its `k8s.io/*` staging modules with local
directories, which only work inside its own repository, so the scratch module replaces each
of them with its published `v0.x` release instead. The list of staging modules is read from
the released go.mod, so nothing is copied from anyone's files.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .config import (
    COMPONENTS,
    Component,
    MissingPrerequisiteError,
    TestenvError,
    cache_root,
    component_dir,
)

_STAGING_REPLACE = re.compile(r"^\s*(k8s\.io/[A-Za-z0-9._-]+)\s*=>\s*\./staging/", re.MULTILINE)
_GO_DIRECTIVE = re.compile(r"^go\s+(\d+\.\d+(?:\.\d+)?)\s*$", re.MULTILINE)
_GO_VERSION = re.compile(r"go(\d+)\.(\d+)")


def log(message: str) -> None:
    print(f"testenv: {message}", file=sys.stderr, flush=True)


def find_go() -> Path:
    """`$LMFCHART_GO` if set (and then only it), else `go` on PATH or /usr/local/go."""
    explicit = os.environ.get("LMFCHART_GO")
    candidates = [explicit] if explicit else [shutil.which("go"), "/usr/local/go/bin/go"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Path(candidate)
    where = "$LMFCHART_GO" if explicit else "PATH and /usr/local/go/bin/go"
    raise MissingPrerequisiteError(
        f"Go is not installed (looked at {where}); it is needed once, to build etcd, "
        "kube-apiserver and kube-controller-manager from Go modules"
    )


# Bump when the way the binaries are built changes, so that caches built the old way are
# rebuilt rather than reused.
BUILD_RECIPE = 2
STAMP = "build-stamp.json"


def _stamp(component: Component) -> str:
    return json.dumps({"module": component.module, "version": component.version,
                       "recipe": BUILD_RECIPE}, sort_keys=True)


def is_built(component: Component) -> bool:
    bin_dir = component_dir(component) / "bin"
    try:
        stamp = (bin_dir / STAMP).read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stamp == _stamp(component) and all(
        (bin_dir / name).is_file() for _, name in component.commands
    )


def all_built() -> bool:
    return all(is_built(component) for component in COMPONENTS)


def _go_env() -> dict[str, str]:
    root = cache_root() / "go"
    env = dict(os.environ)
    env.update(
        {
            # Caches of our own: measurable, removable, independent of the user's settings.
            "GOMODCACHE": str(root / "mod"),
            "GOCACHE": str(root / "build"),
            "GOFLAGS": "-trimpath",
            "GOWORK": "off",
            "GO111MODULE": "on",
            "CGO_ENABLED": "0",
            # 2 cores are shared with whatever else runs: keep the compiler's appetite moderate.
            "GOMAXPROCS": os.environ.get("LMFCHART_TESTENV_BUILD_JOBS", "2"),
        }
    )
    return env


def _run_go(go: Path, args: list[str], cwd: Path, logfile: Path) -> str:
    """Run `go ARGS` with our environment, output appended to LOGFILE; return its stdout."""
    command = [str(go), *args]
    nice = shutil.which("nice")
    if nice:
        command = [nice, "-n", "10", *command]
    with logfile.open("a", encoding="utf-8") as log_handle:
        log_handle.write(f"$ {' '.join(command)}\n")
        log_handle.flush()
        result = subprocess.run(
            command,
            cwd=cwd,
            env=_go_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log_handle,
            text=True,
            check=False,
        )
        log_handle.write(result.stdout)
    if result.returncode != 0:
        tail = "".join(logfile.read_text(encoding="utf-8").splitlines(keepends=True)[-30:])
        raise TestenvError(
            f"`go {' '.join(args)}` failed with status {result.returncode} "
            f"(full log: {logfile}):\n{tail}"
        )
    return result.stdout


def _download_release(go: Path, component: Component, workdir: Path,
                      logfile: Path) -> tuple[str, str]:
    """The released module's go.mod text and its commit time (RFC 3339)."""
    out = _run_go(
        go, ["mod", "download", "-json", f"{component.module}@{component.version}"],
        workdir, logfile,
    )
    info = json.loads(out)
    if "Error" in info:
        raise TestenvError(f"cannot download {component.module}@{component.version}: "
                           f"{info['Error']}")
    released_at = json.loads(Path(info["Info"]).read_text(encoding="utf-8")).get("Time", "")
    return Path(info["GoMod"]).read_text(encoding="utf-8"), str(released_at)


def version_ldflags(component: Component, released_at: str) -> list[str]:
    """`-X` flags that stamp the release into Kubernetes binaries, as its own build does.

    Without them the server reports v0.0.0-master, which kubectl warns about and which
    breaks `kubeVersion` constraints in charts (Helm reads the server's version).
    """
    if not component.pin_staging:
        return []
    match = re.fullmatch(r"v(\d+)\.(\d+)\..*", component.version)
    if not match:
        raise TestenvError(f"unexpected Kubernetes version {component.version!r}")
    values = {
        "gitVersion": component.version,
        "gitMajor": match.group(1),
        "gitMinor": match.group(2),
        "gitTreeState": "clean",
        "buildDate": released_at or "1970-01-01T00:00:00Z",
    }
    return [
        f"-X {package}.{name}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in values.items()
    ]


def staging_version(kubernetes_version: str) -> str:
    """k8s.io/kubernetes v1.X.Y publishes its staging modules as v0.X.Y."""
    match = re.fullmatch(r"v1\.(\d+\.\d+(?:-[0-9A-Za-z.-]+)?)", kubernetes_version)
    if not match:
        raise TestenvError(f"unexpected Kubernetes version {kubernetes_version!r}")
    return f"v0.{match.group(1)}"


def generate_go_mod(component: Component, released_go_mod: str) -> str:
    """The scratch module's go.mod: require the release, tools, staging replacements."""
    go_directive = _GO_DIRECTIVE.search(released_go_mod)
    lines = [
        "// Generated by scripts/testenv (lmfchart); rebuilt from scratch on every build.",
        f"module lmfchart.invalid/testenv/{component.name}",
        "",
        f"go {go_directive.group(1) if go_directive else '1.24'}",
        "",
        f"require {component.module} {component.version}",
        "",
        "tool (",
        *(f"\t{package}" for package, _ in component.commands),
        ")",
    ]
    if component.pin_staging:
        staging = sorted(set(_STAGING_REPLACE.findall(released_go_mod)))
        if not staging:
            raise TestenvError(f"no staging modules found in {component.module}'s go.mod")
        pinned = staging_version(component.version)
        lines += ["", "replace (", *(f"\t{m} => {m} {pinned}" for m in staging), ")"]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock across processes, held while the block runs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_lock() -> contextlib.AbstractContextManager[None]:
    """One build at a time per cache, across processes (two pytest runs, a shell...)."""
    return file_lock(cache_root() / ".build.lock")


def build_component(go: Path, component: Component) -> None:
    home = component_dir(component)
    src = home / "src"
    src.mkdir(parents=True, exist_ok=True)
    logfile = home / "build.log"
    logfile.write_text("", encoding="utf-8")
    started = time.monotonic()
    log(f"building {component.module}@{component.version} (log: {logfile})")

    (src / "go.mod").write_text(
        f"module lmfchart.invalid/testenv/{component.name}-bootstrap\n", encoding="utf-8"
    )
    (src / "go.sum").unlink(missing_ok=True)
    released, released_at = _download_release(go, component, src, logfile)
    (src / "go.mod").write_text(generate_go_mod(component, released), encoding="utf-8")
    _run_go(go, ["mod", "tidy"], src, logfile)

    jobs = os.environ.get("LMFCHART_TESTENV_BUILD_JOBS", "2")
    ldflags = " ".join(["-s", "-w", *version_ldflags(component, released_at)])
    # Build into a fresh folder and publish it with one rename: never half a set of binaries.
    staging = Path(tempfile.mkdtemp(prefix="bin-", dir=home))
    try:
        for package, name in component.commands:
            _run_go(
                go,
                ["build", "-p", jobs, f"-ldflags={ldflags}", "-o", str(staging / name), package],
                src,
                logfile,
            )
        (staging / STAMP).write_text(_stamp(component), encoding="utf-8")
        final = home / "bin"
        if final.exists():
            shutil.rmtree(final)
        staging.rename(final)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log(f"built {component.name} in {time.monotonic() - started:.0f}s")


def build(force: bool = False) -> None:
    """Build every component that is not cached yet (all of them with FORCE)."""
    if not force and all_built():
        return
    go = find_go()
    with _build_lock():
        for component in COMPONENTS:
            if force or not is_built(component):
                build_component(go, component)


def _remove_tree(path: Path) -> None:
    """rmtree that also removes Go's module cache, whose folders are read-only."""
    if not path.exists():
        return
    for folder, _, _ in os.walk(path):
        os.chmod(folder, 0o755)
    shutil.rmtree(path)


def clean(everything: bool = False) -> list[Path]:
    """Remove the Go caches (the binaries stay), or the whole test-environment cache."""
    root = cache_root()
    targets = [root] if everything else [root / "go", *(component_dir(c) / "src"
                                                        for c in COMPONENTS)]
    with _build_lock():
        for target in targets:
            if everything:
                for child in target.iterdir() if target.exists() else []:
                    if child.name != ".build.lock":
                        if child.is_dir() and not child.is_symlink():
                            _remove_tree(child)
                        else:
                            child.unlink()
            else:
                _remove_tree(target)
    return targets
