"""The Kubeflow training operator's release, fetched with Go at test time: its PyTorchJob
CustomResourceDefinition and the controller source that sets a PyTorchJob's variables.

Nothing of it is committed. `go mod download` puts the module in a Go module cache of our
own under `cache_root()/kubeflow` (outside the repository, reused by later runs); the
tests read the files there.

Run `python -m tests.support.kubeflow` to fetch it and print where it is.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml

from tests.support import gomodules

MODULE = "github.com/kubeflow/training-operator"
VERSION = "v1.8.1"
PYTORCHJOB_CRD = "manifests/base/crds/kubeflow.org_pytorchjobs.yaml"
# The controller package that writes the variables of every PyTorchJob replica.
PYTORCH_CONTROLLER = "pkg/controller.v1/pytorch"


def module_dir() -> Path:
    """The unpacked module (read-only), downloaded on the first call on this machine."""
    return gomodules.module_dir(MODULE, VERSION, "kubeflow")


@functools.cache
def pytorchjob_crd() -> dict[str, Any]:
    """The PyTorchJob CustomResourceDefinition, as the release ships it."""
    crd: dict[str, Any] = yaml.safe_load((module_dir() / PYTORCHJOB_CRD).read_text())
    return crd


def pytorchjob_schema() -> dict[str, Any]:
    """The structural schema the API server checks kubeflow.org/v1 PyTorchJobs against,
    strict as the server is under fieldValidation=Strict: an unknown field is an error."""
    return gomodules.strict_schema(pytorchjob_crd(), "v1")


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
