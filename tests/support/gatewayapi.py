"""The Gateway API's standard CustomResourceDefinitions, fetched with Go at test time from
their module (`sigs.k8s.io/gateway-api`, folder config/crd/standard/).

Run `python -m tests.support.gatewayapi` to fetch them and print where they are.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

from tests.support import gomodules

MODULE = "sigs.k8s.io/gateway-api"
VERSION = "v1.2.1"
STANDARD_CRDS = "config/crd/standard"
HTTPROUTE_CRD = f"{STANDARD_CRDS}/gateway.networking.k8s.io_httproutes.yaml"


def module_dir() -> Path:
    return gomodules.module_dir(MODULE, VERSION, "gateway-api")


@functools.cache
def httproute_crd() -> dict[str, Any]:
    crd: dict[str, Any] = yaml.safe_load((module_dir() / HTTPROUTE_CRD).read_text())
    return crd


def httproute_schema() -> dict[str, Any]:
    """The structural schema of gateway.networking.k8s.io/v1 HTTPRoute, strict like the
    server under fieldValidation=Strict."""
    return gomodules.strict_schema(httproute_crd(), "v1")


if __name__ == "__main__":
    print(module_dir())
