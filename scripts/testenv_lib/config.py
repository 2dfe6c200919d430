"""Pinned versions, cache and state locations, and the error types shared by the modules."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

# kubectl from tests/support/binaries.py is v1.35.2; the server stays on the same minor.
KUBERNETES_VERSION = "v1.35.4"
# The etcd minor that Kubernetes 1.35 is tested with (its go.mod requires etcd v3.6.x).
ETCD_VERSION = "v3.6.16"

# Exit status of `scripts/testenv` when a prerequisite (Go, the cryptography package) is
# missing, so that callers can tell "cannot run here" from "broken".
EXIT_MISSING_PREREQUISITE = 3


class TestenvError(Exception):
    """Something went wrong while building, starting or stopping the test environment."""


class MissingPrerequisiteError(TestenvError):
    """A tool or package the test environment needs is not installed on this machine."""


@dataclass(frozen=True)
class Component:
    """One Go module release and the commands built from it."""

    name: str
    module: str
    version: str
    # (import path of a main package, binary name)
    commands: tuple[tuple[str, str], ...]
    # Require the module's `./staging/...` replacements as `v0.x` releases (Kubernetes only).
    pin_staging: bool = False


KUBERNETES = Component(
    name="kubernetes",
    module="k8s.io/kubernetes",
    version=KUBERNETES_VERSION,
    commands=(
        ("k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
        ("k8s.io/kubernetes/cmd/kube-controller-manager", "kube-controller-manager"),
    ),
    pin_staging=True,
)
ETCD = Component(
    name="etcd",
    module="go.etcd.io/etcd/server/v3",
    version=ETCD_VERSION,
    commands=(("go.etcd.io/etcd/server/v3", "etcd"),),
)
COMPONENTS = (ETCD, KUBERNETES)


def cache_root() -> Path:
    # Same rule as lmfchart.cache.cache_root; kept here so the script runs without lmfchart.
    """`$LMFCHART_CACHE/testenv`, by default `~/.cache/lmfchart/testenv` (outside the repo)."""
    base = os.environ.get("LMFCHART_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "lmfchart"
    )
    return Path(base) / "testenv"


def component_dir(component: Component) -> Path:
    return cache_root() / f"{component.name}-{component.version}"


def binary_path(binary: str) -> Path:
    for component in COMPONENTS:
        for _, name in component.commands:
            if name == binary:
                return component_dir(component) / "bin" / binary
    raise KeyError(binary)


def default_state_dir() -> Path:
    """Where `up` keeps certificates, data, logs and the kubeconfig unless told otherwise."""
    explicit = os.environ.get("LMFCHART_TESTENV_DIR")
    if explicit:
        return Path(explicit)
    return Path(tempfile.gettempdir()) / f"lmfchart-testenv-{os.getuid()}"
