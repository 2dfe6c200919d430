"""Go modules fetched at test time (CRDs and sources of other projects), never committed.

`go mod download` puts each module in a Go module cache of our own under
`cache_root()/NAME` (outside the repository, reused by later runs); tests read it there.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from lmfchart.base.cache import cache_root


def go_binary(needed_for: str) -> str:
    """`$LMFCHART_GO`, else `go` on PATH, else /usr/local/go, as scripts/testenv finds Go."""
    found = os.environ.get("LMFCHART_GO") or shutil.which("go") or "/usr/local/go/bin/go"
    if not os.access(found, os.X_OK):
        raise RuntimeError(f"Go is not installed ({found}); it {needed_for}")
    return found


@functools.cache
def module_dir(module: str, version: str, cache_name: str) -> Path:
    """The unpacked module (read-only), downloaded on the first call on this machine."""
    home = cache_root() / cache_name
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOMODCACHE": str(home / "mod"), "GOWORK": "off",
           "GO111MODULE": "on", "GOFLAGS": ""}
    # Run outside any module: `go mod download module@version` then needs no go.mod.
    go = go_binary(f"fetches {module}")
    done = subprocess.run([go, "mod", "download", "-json", f"{module}@{version}"], cwd=home,
                          env=env, capture_output=True, text=True, check=False, timeout=600)
    info = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode != 0 or "Error" in info or "Dir" not in info:
        raise RuntimeError(f"go mod download {module}@{version} failed: "
                           f"{info.get('Error') or done.stderr.strip()}")
    return Path(info["Dir"])


def refuse_unknown_fields(node: Any) -> None:
    """Make a CRD's structural schema refuse undeclared fields, as the API server does under
    fieldValidation=Strict; jsonschema would let them through unless told."""
    if isinstance(node, dict):
        if ("properties" in node and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")):
            node["additionalProperties"] = False
        for value in node.values():
            refuse_unknown_fields(value)
    elif isinstance(node, list):
        for value in node:
            refuse_unknown_fields(value)


def strict_schema(crd: dict[str, Any], version: str) -> dict[str, Any]:
    """The structural schema the API server checks CRD's objects of VERSION against,
    strict as it is under fieldValidation=Strict: an unknown field is an error."""
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version]
    schema: dict[str, Any] = copy.deepcopy(served["schema"]["openAPIV3Schema"])
    refuse_unknown_fields(schema)
    return schema
