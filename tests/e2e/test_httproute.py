"""The Gateway API HTTPRoute and the authenticated Ingress installed into the real control
plane, with the Gateway API's standard CRDs from their Go module: the API server accepts
the route under the CRD's schema and stores what the chart rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import gatewayapi

from .cluster import Cluster
from .commands import get, lmfchart
from .crds import install_crd, remove_crd

pytestmark = pytest.mark.e2e

F = "lmf-llama-factory"
PARENT = {"name": "public", "namespace": "infra", "sectionName": "https"}
VALUES = {
    "httpRoute": {"enabled": True, "allowAnonymous": True, "parentRefs": [PARENT],
                  "hostnames": ["ml.example.com"], "path": "/board"},
    "ingress": {"enabled": True, "host": "ml.example.com", "path": "/board",
                "controller": "nginx", "auth": {"basic": {"secretName": "board-htpasswd"}},
                "tls": {"certManager": {"clusterIssuer": "letsencrypt"}}},
    "api": {"enabled": True, "model": "/app/output/models/merged", "ingressPath": "/llm-api"},
}


@pytest.mark.usefixtures("gateway_api_crds")
def test_httproute_and_ingress_as_the_api_server_stored_them(
        cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    values = tmp_path / "routes.yaml"
    values.write_text(yaml.safe_dump(VALUES))
    done = lmfchart(cluster, "install", "-n", namespace, "-f", str(values))
    assert done.exit_code == 0, done.output
    assert f"HTTPRoute/{F}: created" in done.stdout
    assert "warning: the HTTPRoute has no authentication of the chart's" in done.stderr
    assert "warning: the Ingress" not in done.stderr  # basic auth covers it

    route = get(cluster, f"httproutes.gateway.networking.k8s.io/{F}", namespace)
    assert [{k: ref[k] for k in PARENT} for ref in route["spec"]["parentRefs"]] == [PARENT]
    assert route["spec"]["hostnames"] == ["ml.example.com"]
    assert [(rule["matches"][0]["path"], [(b["name"], b["port"]) for b in rule["backendRefs"]])
            for rule in route["spec"]["rules"]] == [
        ({"type": "PathPrefix", "value": "/llm-api"}, [(f"{F}-api", 8000)]),
        ({"type": "PathPrefix", "value": "/board"}, [(F, 7860)])]

    ingress = get(cluster, f"ingress/{F}", namespace)
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/auth-secret"] == "board-htpasswd"
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert ingress["spec"]["tls"] == [{"hosts": ["ml.example.com"], "secretName": f"{F}-tls"}]


@pytest.mark.usefixtures("gateway_api_crds")
def test_gateway_api_crds_removed_since_discovery_was_cached_stop_the_install(
        api_client: Any, cluster: Cluster, namespace: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The Gateway API's group ends in .k8s.io like Kubernetes' own, yet CRDs serve it.
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    values = tmp_path / "route.yaml"
    values.write_text(yaml.safe_dump({"httpRoute": VALUES["httpRoute"]}))
    first = lmfchart(cluster, "install", "-n", namespace, "-f", str(values))
    assert first.exit_code == 0, first.output  # HTTPRoute is now in the discovery cache

    route_crd = gatewayapi.httproute_crd()
    remove_crd(api_client, route_crd)
    try:
        again = lmfchart(cluster, "install", "-n", namespace, "-f", str(values),
                         "--set", "image.tag=0.9.5")
    finally:
        install_crd(api_client, route_crd)
    assert again.exit_code != 0
    assert (f"HTTPRoute/{F}: gateway.networking.k8s.io/v1 HTTPRoute is not served"
            in again.stderr), again.output
    assert "nothing was changed" in again.stderr
