"""kube-score, the policy linter the tests run over every example, built at test time.

`go install` fetches the tagged module from the Go module proxy and builds it into a cache
outside the repository (next to the helm binaries); later runs reuse the binary. Nothing
third-party is committed.

Run `python -m tests.support.kubescore` to build it and print the path.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from lmfchart.base.cache import cache_root
from tests.support import gomodules

MODULE = "github.com/zegl/kube-score/cmd/kube-score"
VERSION = "v1.20.0"


def kube_score() -> Path:
    """Path to kube-score VERSION, built with Go (found as the test control plane finds it)
    the first time."""
    target = cache_root() / "tools" / f"kube-score-{VERSION}"
    binary = target / "kube-score"
    if binary.is_file():
        return binary
    go = gomodules.go_binary("builds kube-score from source at test time")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        staging = Path(scratch) / "bin"
        env = {**os.environ, "GOBIN": str(staging), "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        subprocess.run([go, "install", f"{MODULE}@{VERSION}"], env=env, check=True,
                       timeout=900)
        # Atomic publish: a concurrent or interrupted build never leaves half a binary.
        try:
            staging.rename(target)
        except OSError:
            if not binary.is_file():
                raise
    return binary


if __name__ == "__main__":
    print(f"kube-score: {kube_score()}")
