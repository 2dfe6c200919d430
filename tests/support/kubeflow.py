"""The Kubeflow training operator's release, fetched with Go at test time: its PyTorchJob
CustomResourceDefinition and the controller source that sets a PyTorchJob's variables.

Nothing of it is committed. `go mod download` puts the module in a Go module cache of our
own under `cache_root()/kubeflow` (outside the repository, reused by later runs); the
tests read the files there.

Run `python -m tests.support.kubeflow` to fetch it and print where it is.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from lmfchart.base.cache import cache_root

MODULE = "github.com/kubeflow/training-operator"
VERSION = "v1.8.1"
PYTORCHJOB_CRD = "manifests/base/crds/kubeflow.org_pytorchjobs.yaml"
# The controller package that writes the variables of every PyTorchJob replica.
PYTORCH_CONTROLLER = "pkg/controller.v1/pytorch"


def _go() -> str:
    found = os.environ.get("LMFCHART_GO") or shutil.which("go") or "/usr/local/go/bin/go"
    if not os.access(found, os.X_OK):
        raise RuntimeError(f"Go is not installed ({found}); it fetches {MODULE}")
    return found


@functools.cache
def module_dir() -> Path:
    """The unpacked module (read-only), downloaded on the first call on this machine."""
    home = cache_root() / "kubeflow"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOMODCACHE": str(home / "mod"), "GOWORK": "off",
           "GO111MODULE": "on", "GOFLAGS": ""}
    # Run outside any module: `go mod download module@version` then needs no go.mod.
    done = subprocess.run([_go(), "mod", "download", "-json", f"{MODULE}@{VERSION}"],
                          cwd=home, env=env, capture_output=True, text=True, check=False,
                          timeout=600)
    info = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode != 0 or "Error" in info or "Dir" not in info:
        raise RuntimeError(f"go mod download {MODULE}@{VERSION} failed: "
                           f"{info.get('Error') or done.stderr.strip()}")
    return Path(info["Dir"])


@functools.cache
def pytorchjob_crd() -> dict[str, Any]:
    """The PyTorchJob CustomResourceDefinition, as the release ships it."""
    crd: dict[str, Any] = yaml.safe_load((module_dir() / PYTORCHJOB_CRD).read_text())
    return crd


def pytorchjob_schema() -> dict[str, Any]:
    """The structural schema the API server checks kubeflow.org/v1 PyTorchJobs against,
    strict as the server is under fieldValidation=Strict: an unknown field is an error."""
    [served] = [v for v in pytorchjob_crd()["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = copy.deepcopy(served["schema"]["openAPIV3Schema"])
    _refuse_unknown_fields(schema)
    return schema


def _refuse_unknown_fields(node: Any) -> None:
    # The server prunes or refuses fields the schema does not declare; jsonschema would
    # let them through unless told.
    if isinstance(node, dict):
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            _refuse_unknown_fields(value)
    elif isinstance(node, list):
        for value in node:
            _refuse_unknown_fields(value)


def pytorch_controller_source() -> str:
    """Every non-test Go file of the PyTorch controller package, concatenated."""
    package = module_dir() / PYTORCH_CONTROLLER
    return "\n".join(path.read_text() for path in sorted(package.glob("*.go"))
                     if not path.name.endswith("_test.go"))


# Go: `Name: EnvNnodes,` or `Name: "WORLD_SIZE",` followed by `Value: <expression>,`.
_ENV_VAR = re.compile(r'Name:\s*("?)(\w+)\1,\s*Value:\s*(.+?),\s*\n')
_CONSTANT = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"', re.MULTILINE)


def go_constants(source: str) -> dict[str, str]:
    """The string constants Go SOURCE declares (`Name = "value"`)."""
    return dict(_CONSTANT.findall(source))


def operator_env(source: str) -> dict[str, list[str]]:
    """Every variable the controller SOURCE appends to a replica's containers: name -> the
    Go expressions of its values."""
    constants = go_constants(source)
    found: dict[str, list[str]] = {}
    for quoted, name, value in _ENV_VAR.findall(source):
        found.setdefault(name if quoted else constants[name], []).append(value.strip())
    return found


if __name__ == "__main__":
    print(module_dir())
