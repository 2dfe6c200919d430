"""The annotations the chart puts on the Ingress itself: one list for the template and the
check that refuses a user annotation repeating one of them.

ingress-nginx: Gradio streams progress and chat replies over server-sent events and
websockets, so responses are not buffered and reads and writes may stay open for long;
uploads (datasets) are streamed and may be large. Websockets need nothing more there.
No `configuration-snippet`: current ingress-nginx refuses snippets unless an admin allows
them. Traefik streams without buffering by default (its buffering middleware is opt-in) and
sets timeouts per entrypoint, not per Ingress, so controller traefik adds no annotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.model.expr import Expr, Literal, Value, and_, as_int, eq, join, or_, printf

NGINX = "nginx.ingress.kubernetes.io/"


@dataclass(frozen=True)
class ChartAnnotation:
    key: str
    value: Expr
    when: Expr
    controlled_by: str
    """The values key a user changes instead of writing the annotation."""


IS_NGINX = eq(Value("ingress.controller"), "nginx")


def _nginx(name: str, value: Expr, controlled_by: str, *,
           when: Expr | None = None) -> ChartAnnotation:
    """An ingress-nginx annotation: written for controller nginx (and WHEN, if given)."""
    condition = IS_NGINX if when is None else and_(IS_NGINX, when)
    return ChartAnnotation(NGINX + name, value, condition, controlled_by)


def _streaming() -> tuple[ChartAnnotation, ...]:
    timeout = printf("%v", as_int(Value("ingress.streaming.timeoutSeconds")))
    return (
        _nginx("proxy-buffering", Literal("off"), "ingress.controller"),
        _nginx("proxy-request-buffering", Literal("off"), "ingress.controller"),
        _nginx("proxy-read-timeout", timeout, "ingress.streaming.timeoutSeconds"),
        _nginx("proxy-send-timeout", timeout, "ingress.streaming.timeoutSeconds"),
        _nginx("proxy-body-size", Value("ingress.streaming.maxBodySize"),
               "ingress.streaming.maxBodySize"),
    )


def _tls() -> tuple[ChartAnnotation, ...]:
    issuer = "ingress.tls.certManager.issuer"
    cluster_issuer = "ingress.tls.certManager.clusterIssuer"
    return (
        ChartAnnotation("cert-manager.io/issuer", Value(issuer), Value(issuer), issuer),
        ChartAnnotation("cert-manager.io/cluster-issuer", Value(cluster_issuer),
                        Value(cluster_issuer), cluster_issuer),
    )


def _auth() -> tuple[ChartAnnotation, ...]:
    basic, external = "ingress.auth.basic.", "ingress.auth.external."
    secret, url = Value(basic + "secretName"), Value(external + "url")
    headers = Value(external + "responseHeaders")
    middlewares = Value("ingress.auth.traefikMiddlewares")
    return (
        _nginx("auth-type", Literal("basic"), basic + "secretName", when=secret),
        _nginx("auth-secret", secret, basic + "secretName", when=secret),
        _nginx("auth-realm", Value(basic + "realm"), basic + "realm", when=secret),
        _nginx("auth-url", url, external + "url", when=url),
        _nginx("auth-signin", Value(external + "signin"), external + "signin",
               when=and_(url, Value(external + "signin"))),
        _nginx("auth-response-headers", join(",", headers), external + "responseHeaders",
               when=and_(url, headers)),
        ChartAnnotation("traefik.ingress.kubernetes.io/router.middlewares",
                        join(",", middlewares),
                        and_(eq(Value("ingress.controller"), "traefik"), middlewares),
                        "ingress.auth.traefikMiddlewares"),
    )


INGRESS_ANNOTATIONS: tuple[ChartAnnotation, ...] = (*_streaming(), *_tls(), *_auth())
# Whether the Ingress has any annotation at all (the `annotations:` key is written only then).
ANY_INGRESS_ANNOTATION = or_(Value("ingress.annotations"), *{
    annotation.when.go(): annotation.when for annotation in INGRESS_ANNOTATIONS}.values())
