"""Routing of the web UI and the API: the annotations per ingress controller, TLS from a
Secret or cert-manager, authentication in front of the web UI, the path prefix, and the
Gateway API HTTPRoute. Helm must render each overlay exactly as lmfchart does; the HTTPRoute
passes the Gateway API's own CRD schema; LLaMA-Factory's own API app answers under the
prefix the chart routes to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.support import llamafactory
from tests.support.charts import by_identity, helm_objects, lmf_objects, render_chart_dir

runner = CliRunner()
LFAPI_ROUTES = Path(__file__).parent / "support" / "lfapiroutes.py"
HOST = "ml.example.com"
NGINX = "nginx.ingress.kubernetes.io/"
STREAMING = {NGINX + "proxy-buffering": "off", NGINX + "proxy-request-buffering": "off",
             NGINX + "proxy-read-timeout": "3600", NGINX + "proxy-send-timeout": "3600",
             NGINX + "proxy-body-size": "10g"}
API = {"enabled": True, "model": "/app/output/models/merged", "modelName": "merged"}
ROUTE = {"enabled": True, "allowAnonymous": True,
         "parentRefs": [{"name": "public", "namespace": "infra", "sectionName": "https"}]}

# name -> (values, the Ingress's annotations, or None when there is no Ingress)
OVERLAYS: dict[str, tuple[dict[str, Any], dict[str, str] | None]] = {
    "nginx-basic-auth-secret-tls": (
        {"ingress": {"enabled": True, "host": HOST, "controller": "nginx",
                     "tls": {"secretName": "board-tls"},
                     "auth": {"basic": {"secretName": "board-htpasswd"}},
                     "annotations": {"example.com/team": "ml"}}},
        {**STREAMING, NGINX + "auth-type": "basic", NGINX + "auth-secret": "board-htpasswd",
         NGINX + "auth-realm": "LLaMA Board", "example.com/team": "ml"}),
    "nginx-oauth2-proxy-issuer-prefix": (
        {"ingress": {"enabled": True, "host": HOST, "controller": "nginx", "path": "/board",
                     "pathType": "Prefix",
                     "streaming": {"timeoutSeconds": 86400, "maxBodySize": "0"},
                     "tls": {"certManager": {"issuer": "internal-ca"}},
                     "auth": {"external": {"url": "https://sso.example.com/oauth2/auth",
                                           "responseHeaders": ["X-Auth-Request-User"]}}},
         "api": {**API, "ingressPath": "/llm-api"}},
        {**STREAMING, NGINX + "proxy-read-timeout": "86400",
         NGINX + "proxy-send-timeout": "86400", NGINX + "proxy-body-size": "0",
         "cert-manager.io/issuer": "internal-ca",
         NGINX + "auth-url": "https://sso.example.com/oauth2/auth",
         NGINX + "auth-response-headers": "X-Auth-Request-User"}),
    "traefik-middleware-cluster-issuer": (
        {"ingress": {"enabled": True, "domain": "apps.example.com", "controller": "traefik",
                     "tls": {"certManager": {"clusterIssuer": "letsencrypt"}},
                     "auth": {"traefikMiddlewares": ["auth-sso@kubernetescrd",
                                                     "auth-ip@kubernetescrd"]}}},
        {"cert-manager.io/cluster-issuer": "letsencrypt",
         "traefik.ingress.kubernetes.io/router.middlewares":
             "auth-sso@kubernetescrd,auth-ip@kubernetescrd"}),
    "other-controller-anonymous": (
        {"ingress": {"enabled": True, "host": HOST, "allowAnonymous": True}}, {}),
    "httproute-with-api-under-prefix": (
        {"httpRoute": {**ROUTE, "hostnames": [HOST], "path": "/board",
                       "annotations": {"example.com/team": "ml"}},
         "api": {**API, "ingressPath": "/llm-api"}},
        None),
    "httproute-beside-ingress": (
        {"httpRoute": ROUTE, "api": {**API, "ingressPath": "/v1"},
         "ingress": {"enabled": True, "host": HOST, "controller": "nginx",
                     "auth": {"basic": {"secretName": "board-htpasswd"}}}},
        {**STREAMING, NGINX + "auth-type": "basic", NGINX + "auth-secret": "board-htpasswd",
         NGINX + "auth-realm": "LLaMA Board"}),
}


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "routing.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _objects(name: str, tmp_path: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    return by_identity(lmf_objects("lmf", "ml", files=[_write(tmp_path, OVERLAYS[name][0])]))


def _env(objects: dict[tuple[str, str, str], dict[str, Any]], name: str) -> dict[str, str]:
    [container] = objects[("apps/v1", "Deployment", name)]["spec"]["template"]["spec"][
        "containers"]
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


@pytest.mark.helm
@pytest.mark.parametrize("name", OVERLAYS)
def test_helm_renders_each_routing_overlay_as_lmfchart(
        name: str, helm: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    values = _write(tmp_path, OVERLAYS[name][0])
    expected = by_identity(lmf_objects("lmf", "ml", files=[values]))
    assert by_identity(helm_objects(helm, chart, "lmf", "ml", extra=["-f", values])) == expected


@pytest.mark.parametrize("name", OVERLAYS)
def test_ingress_annotations_follow_controller_tls_and_auth(name: str, tmp_path: Path) -> None:
    objects = _objects(name, tmp_path)
    annotations = OVERLAYS[name][1]
    ingress = objects.get(("networking.k8s.io/v1", "Ingress", "lmf-llama-factory"))
    if annotations is None:
        assert ingress is None
        return
    assert ingress is not None
    assert ingress["metadata"].get("annotations", {}) == annotations
    assert not any(key.endswith("-snippet") for key in annotations)


def test_cert_manager_fills_the_default_secret_and_an_existing_secret_is_named(
        tmp_path: Path) -> None:
    issued = _objects("traefik-middleware-cluster-issuer", tmp_path)
    ingress = issued[("networking.k8s.io/v1", "Ingress", "lmf-llama-factory")]
    assert ingress["spec"]["tls"] == [{"hosts": ["lmf.apps.example.com"],
                                       "secretName": "lmf-llama-factory-tls"}]
    existing = _objects("nginx-basic-auth-secret-tls", tmp_path)
    ingress = existing[("networking.k8s.io/v1", "Ingress", "lmf-llama-factory")]
    assert ingress["spec"]["tls"] == [{"hosts": [HOST], "secretName": "board-tls"}]
    plain = _objects("other-controller-anonymous", tmp_path)
    assert "tls" not in plain[("networking.k8s.io/v1", "Ingress", "lmf-llama-factory")]["spec"]


def test_path_prefix_passes_unchanged_and_sets_the_root_paths(tmp_path: Path) -> None:
    objects = _objects("nginx-oauth2-proxy-issuer-prefix", tmp_path)
    ingress = objects[("networking.k8s.io/v1", "Ingress", "lmf-llama-factory")]
    paths = ingress["spec"]["rules"][0]["http"]["paths"]
    assert [(p["path"], p["pathType"], p["backend"]["service"]["name"]) for p in paths] == [
        ("/llm-api", "Prefix", "lmf-llama-factory-api"),
        ("/board", "Prefix", "lmf-llama-factory")]
    assert not any("rewrite" in key for key in ingress["metadata"]["annotations"])
    assert _env(objects, "lmf-llama-factory")["GRADIO_ROOT_PATH"] == "/board"
    assert _env(objects, "lmf-llama-factory-api")["FASTAPI_ROOT_PATH"] == "/llm-api"


def test_httproute_routes_api_prefix_first_and_the_web_ui_under_its_path(
        tmp_path: Path) -> None:
    objects = _objects("httproute-with-api-under-prefix", tmp_path)
    route = objects[("gateway.networking.k8s.io/v1", "HTTPRoute", "lmf-llama-factory")]
    assert route["spec"]["parentRefs"] == ROUTE["parentRefs"]
    assert route["spec"]["hostnames"] == [HOST]
    assert [(r["matches"][0]["path"]["value"], r["backendRefs"][0]["name"],
             r["backendRefs"][0]["port"]) for r in route["spec"]["rules"]] == [
        ("/llm-api", "lmf-llama-factory-api", 8000), ("/board", "lmf-llama-factory", 7860)]
    assert _env(objects, "lmf-llama-factory")["GRADIO_ROOT_PATH"] == "/board"
    assert _env(objects, "lmf-llama-factory-api")["FASTAPI_ROOT_PATH"] == "/llm-api"


def test_the_api_under_its_own_v1_gets_no_root_path(tmp_path: Path) -> None:
    objects = _objects("httproute-beside-ingress", tmp_path)
    assert "FASTAPI_ROOT_PATH" not in _env(objects, "lmf-llama-factory-api")
    assert "GRADIO_ROOT_PATH" not in _env(objects, "lmf-llama-factory")
    assert ("gateway.networking.k8s.io/v1", "HTTPRoute", "lmf-llama-factory") in objects
    assert ("networking.k8s.io/v1", "Ingress", "lmf-llama-factory") in objects


@pytest.mark.parametrize("name", ["httproute-with-api-under-prefix", "httproute-beside-ingress"])
def test_rendered_httproute_passes_the_gateway_api_crd_schema(
        name: str, httproute_schema: dict[str, Any], tmp_path: Path) -> None:
    route = _objects(name, tmp_path)[
        ("gateway.networking.k8s.io/v1", "HTTPRoute", "lmf-llama-factory")]
    jsonschema.validate(route, httproute_schema)
    misspelt = {**route, "spec": {**route["spec"], "hostname": [HOST]}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(misspelt, httproute_schema)


def test_validate_notes_the_httproute_unchecked_and_warns_it_is_open(tmp_path: Path) -> None:
    values = _write(tmp_path, OVERLAYS["httproute-with-api-under-prefix"][0])
    done = runner.invoke(app, ["validate", values])
    assert done.exit_code == 0, done.output
    assert "not checked offline: gateway.networking.k8s.io/v1 HTTPRoute" in done.stdout
    assert (f"warning: {values}: the HTTPRoute has no authentication of the chart's "
            "(httpRoute.allowAnonymous)") in done.stdout


def test_anonymous_ingress_is_a_warning_in_validate_template_and_github(
        tmp_path: Path) -> None:
    values = _write(tmp_path, OVERLAYS["other-controller-anonymous"][0])
    text = runner.invoke(app, ["validate", values])
    assert text.exit_code == 0, text.output
    assert (f"warning: {values}: the Ingress exposes the web UI without authentication"
            in text.stdout)
    github = runner.invoke(app, ["validate", "--format", "github", values])
    assert f"::warning file={values}::the Ingress exposes the web UI" in github.stdout
    template = runner.invoke(app, ["template", "-f", values])
    assert template.exit_code == 0
    assert "warning: the Ingress exposes the web UI without authentication" in template.stderr
    authenticated = _write(tmp_path, OVERLAYS["nginx-basic-auth-secret-tls"][0])
    quiet = runner.invoke(app, ["template", "-f", authenticated])
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr


def test_seed_layout_keeps_its_open_ingress_with_a_warning() -> None:
    seed = str(Path(__file__).parents[1] / "examples" / "seed" / "values.yaml")
    done = runner.invoke(app, ["template", "-f", seed])
    assert done.exit_code == 0, done.output
    assert "warning: the Ingress exposes the web UI without authentication" in done.stderr
    [ingress] = [o for o in yaml.safe_load_all(done.stdout) if o and o["kind"] == "Ingress"]
    assert "annotations" not in ingress["metadata"]
    # Said explicitly, the seed file's Ingress may not be anonymous.
    refused = runner.invoke(app, ["template", "-f", seed, "--set", "ingress.allowAnonymous=false"])
    assert refused.exit_code == 1
    assert "ingress.allowAnonymous: ingress.enabled exposes the web UI" in refused.stderr


@pytest.mark.llamafactory
def test_llamafactory_api_answers_under_the_prefix_the_chart_routes(tmp_path: Path) -> None:
    """LLaMA-Factory 0.9.5's own API app, with each rendered API pod's FASTAPI_ROOT_PATH:
    the Ingress passes /llm-api/v1/... unchanged and the app answers it; an ingressPath of
    /v1 (the API's own routes) gets no root path, which would hide /v1/models."""
    prefixed = _env(_objects("httproute-with-api-under-prefix", tmp_path),
                    "lmf-llama-factory-api")
    own = _env(_objects("httproute-beside-ingress", tmp_path), "lmf-llama-factory-api")
    answers = llamafactory.run_script(LFAPI_ROUTES, [
        {"env": prefixed, "paths": ["/llm-api/v1/models", "/v1/models"]},
        {"env": own, "paths": ["/v1/models"]},
        {"env": {**own, "FASTAPI_ROOT_PATH": "/v1"}, "paths": ["/v1/models"]},
    ])
    assert answers == [{"/llm-api/v1/models": 200, "/v1/models": 200}, {"/v1/models": 200},
                       {"/v1/models": 404}]
