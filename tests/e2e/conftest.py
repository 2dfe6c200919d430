"""Fixtures for the end-to-end tests: a real control plane from `scripts/testenv`.

`cluster` (session) starts etcd, kube-apiserver and kube-controller-manager on 127.0.0.1
and stops them, by process id, when the session ends, whether tests passed or not (and a
watchdog stops them if pytest dies without tearing down). With $LMFCHART_TESTENV_DIR set,
a control plane already running there (`eval "$(scripts/testenv up)"`) is reused and left
running.

Where a prerequisite is missing (Go for the first build, the cryptography package) the
tests are skipped with the reason; with CI=true that is an error instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart.kube.cluster import KubeCluster
from lmfchart.kube.connect import connect
from lmfchart.usecases.cluster import Cluster as ClusterProtocol
from tests.support import gatewayapi, kubeflow
from tests.support.binaries import kubectl

from .cluster import EXIT_MISSING_PREREQUISITE, Cluster, describe, run_testenv
from .crds import install_crd, remove_crd


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and the e2e test environment is unavailable: {reason}",
                    pytrace=False)
    pytest.skip(f"e2e test environment unavailable: {reason}")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A running control plane; KUBECONFIG for it in `cluster.kubeconfig`."""
    explicit = os.environ.get("LMFCHART_TESTENV_DIR")
    state_dir = Path(explicit) if explicit else tmp_path_factory.mktemp("testenv")
    result = run_testenv("up", "--json", f"--state-dir={state_dir}", f"--owner-pid={os.getpid()}")
    if result.returncode == EXIT_MISSING_PREREQUISITE:
        _unavailable(result.stderr.strip())
    if result.returncode != 0:
        pytest.fail(f"scripts/testenv up failed (status {result.returncode}):\n"
                    f"{result.stderr}", pytrace=False)
    info = describe(result)
    try:
        yield Cluster(
            state_dir=Path(info["state_dir"]),
            kubeconfig=Path(info["kubeconfig"]),
            server=info["server"],
            kubernetes_version=info["kubernetes_version"],
            kubectl_path=kubectl(),
            reused=info["reused"],
        )
    finally:
        if not info["reused"]:
            # The logs stay in the state folder (pytest's temporary one) for a post-mortem.
            stopped = run_testenv("down", f"--state-dir={state_dir}")
            assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="session")
def api_client(cluster: Cluster) -> Iterator[Any]:
    """A `kubernetes.client.ApiClient` with the admin credential; closed at the end."""
    from kubernetes import config

    client = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    with client:
        yield client


@pytest.fixture(scope="session")
def dynamic_client(api_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A `kubernetes.dynamic.DynamicClient` (server-side apply), discovery cached per run."""
    from kubernetes.dynamic import DynamicClient

    cache = tmp_path_factory.mktemp("discovery") / "cache.json"
    return DynamicClient(api_client, cache_file=str(cache))


def _pytorchjob_crd() -> dict[str, Any]:
    try:
        return kubeflow.pytorchjob_crd()
    except Exception as e:  # no Go, or the module proxy out of reach
        _unavailable(f"the Kubeflow training operator's CRDs: {e}")
        raise


@pytest.fixture(scope="session")
def kubeflow_crds(api_client: Any) -> dict[str, Any]:
    """The training operator's PyTorchJob CRD, installed into the control plane through the
    API and Established, so the server checks PyTorchJobs against its structural schema;
    returns the CRD. It stays for the session."""
    crd = _pytorchjob_crd()
    install_crd(api_client, crd)
    return crd


@pytest.fixture(scope="session")
def gateway_api_crds(api_client: Any) -> None:
    """The Gateway API's standard CRDs (Gateway, HTTPRoute, ...), installed and Established
    for the session."""
    try:
        folder = gatewayapi.module_dir() / gatewayapi.STANDARD_CRDS
    except Exception as e:  # no Go, or the module proxy out of reach
        _unavailable(f"the Gateway API CRDs: {e}")
        raise
    crds = [yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))]
    for crd in crds:
        install_crd(api_client, crd)


@pytest.fixture
def without_kubeflow_crds(api_client: Any) -> Iterator[None]:
    """A control plane that does not serve kubeflow.org/v1 for one test; the CRD comes back
    afterwards if it was installed."""
    crd = _pytorchjob_crd()
    removed = remove_crd(api_client, crd)
    try:
        yield
    finally:
        if removed:
            install_crd(api_client, crd)


@pytest.fixture
def namespace(api_client: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting)."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    stem = "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:40]
    name = f"e2e-{stem.strip('-')}-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    try:
        yield name
    finally:
        try:
            core.delete_namespace(name)
        except client.ApiException as error:
            if error.status != 404:
                raise


@pytest.fixture
def kube(cluster: Cluster, tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> KubeCluster:
    """The adapter as the CLI builds it, with a discovery cache of its own."""
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    adapter = connect(kubeconfig=str(cluster.kubeconfig), context=None)
    checked: ClusterProtocol = adapter  # KubeCluster implements the protocol the use cases take
    assert checked is adapter
    return adapter


@pytest.fixture
def core(api_client: Any) -> Any:
    """The typed core/v1 API on the admin client, for tests that read pods and events."""
    from kubernetes import client

    return client.CoreV1Api(api_client)


@pytest.fixture
def requests_sent(kube: KubeCluster) -> Iterator[list[str]]:
    """Every HTTP request the adapter sends from now on, as 'METHOD path'."""
    sent: list[str] = []
    pool = kube.api_client.rest_client.pool_manager
    original = pool.urlopen

    def counting(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url.split('://', 1)[-1].split('/', 1)[-1]}")
        return original(method, url, *args, **kwargs)

    pool.urlopen = counting
    yield sent
    pool.urlopen = original
