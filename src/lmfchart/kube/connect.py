"""Find the cluster the way kubectl does and build the adapter for it (no request is made).

Order: `--kubeconfig FILE`; else `$KUBECONFIG` (a list of files, merged, missing ones
skipped); else `~/.kube/config`; else the in-cluster service account. `--kube-context`
picks a context of the kubeconfig instead of its `current-context`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.config import incluster_config, kube_config

from lmfchart import __version__
from lmfchart.base.errors import UsageError
from lmfchart.kube.cluster import KubeCluster

USER_AGENT = f"lmfchart/{__version__}"
# Where a Pod finds its service account credential (kubectl's in-cluster config).
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def connect(*, kubeconfig: str | None, context: str | None) -> KubeCluster:
    """The adapter for the cluster the flags and environment point at."""
    client_ = api_client(kubeconfig=kubeconfig, context=context, environ=os.environ)
    # Named in the API server's audit log and metrics, like `Helm/4.1.4` or `kubectl/...`.
    client_.user_agent = USER_AGENT
    return KubeCluster(client_)


def api_client(*, kubeconfig: str | None, context: str | None,
               environ: Mapping[str, str]) -> Any:
    """A `kubernetes.client.ApiClient` for the resolved configuration."""
    files, source = _kubeconfig_files(kubeconfig, environ)
    present = [path for path in files if path.is_file()]
    if kubeconfig is not None and not present:
        raise UsageError(f"--kubeconfig {kubeconfig}: no such file")
    if present:
        return _from_kubeconfig(present, source, context)
    if context is not None:
        raise UsageError(f"--kube-context {context}: no kubeconfig to pick it from "
                         f"(tried {_tried(files, source)})")
    return _in_cluster(environ, tried=_tried(files, source))


def _kubeconfig_files(kubeconfig: str | None,
                      environ: Mapping[str, str]) -> tuple[list[Path], str]:
    if kubeconfig is not None:
        return [Path(kubeconfig).expanduser()], "--kubeconfig"
    listed = environ.get("KUBECONFIG", "")
    if listed:
        paths = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        return paths, "$KUBECONFIG"
    home = Path(environ.get("HOME") or Path.home())
    return [home / ".kube" / "config"], "the default"


def _tried(files: list[Path], source: str) -> str:
    return f"{source} {os.pathsep.join(str(p) for p in files)}"


def _from_kubeconfig(files: list[Path], source: str, context: str | None) -> Any:
    where = _tried(files, source)
    try:
        # The library merges a path list itself: the first file defining a name wins.
        merger = kube_config.KubeConfigMerger(os.pathsep.join(str(p) for p in files))
    except (OSError, yaml.YAMLError, config.ConfigException) as e:
        raise UsageError(f"cannot read kubeconfig ({where}): {_reason(e)}") from e
    merged = merger.config.value
    names = sorted(str(c["name"]) for c in merged.get("contexts") or [])
    known = ", ".join(names) or "none"
    # kubectl takes the first current-context set (the library would take the last one).
    current = next((str(c["current-context"]) for c in merger.config_files.values()
                    if isinstance(c, dict) and c.get("current-context")), None)
    if context is not None and context not in names:
        raise UsageError(f"--kube-context {context}: no such context in {where} "
                         f"(contexts: {known})")
    chosen = context or current
    if chosen is None:
        raise UsageError(f"kubeconfig ({where}) sets no current-context: pass "
                         f"--kube-context (contexts: {known})")
    configuration = client.Configuration()
    try:
        # No config_persister: refreshed tokens are never written into the user's files.
        loader = kube_config.KubeConfigLoader(config_dict=merger.config,
                                              config_base_path=None, active_context=chosen)
        loader.load_and_set(configuration)
    except (OSError, config.ConfigException, ValueError) as e:
        raise UsageError(f"kubeconfig ({where}), context {chosen}: {_reason(e)}") from e
    return client.ApiClient(configuration=configuration)


def _in_cluster(environ: Mapping[str, str], *, tried: str) -> Any:
    host = environ.get(incluster_config.SERVICE_HOST_ENV_NAME)
    if not host:
        raise UsageError(
            f"no cluster configured: tried {tried} (not found) and the in-cluster service "
            f"account (${incluster_config.SERVICE_HOST_ENV_NAME} is not set); pass "
            f"--kubeconfig or set $KUBECONFIG")
    configuration = client.Configuration()
    loader = incluster_config.InClusterConfigLoader(
        token_filename=str(SERVICE_ACCOUNT_DIR / "token"),
        cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt"),
        environ=dict(environ),
    )
    try:
        loader.load_and_set(configuration)
    except (OSError, config.ConfigException) as e:
        raise UsageError(f"in-cluster config (service account in {SERVICE_ACCOUNT_DIR}, "
                         f"after {tried} was not found): {_reason(e)}") from e
    return client.ApiClient(configuration=configuration)


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__

