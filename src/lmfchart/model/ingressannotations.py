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


def _nginx(name: str, value: Expr, when: Expr, controlled_by: str) -> ChartAnnotation:
    return ChartAnnotation(NGINX + name, value, and_(_is_nginx(), when), controlled_by)


def _is_nginx() -> Expr:
    return eq(Value("ingress.controller"), "nginx")


def _streaming() -> tuple[ChartAnnotation, ...]:
    timeout = printf("%v", as_int(Value("ingress.streaming.timeoutSeconds")))
    always = _is_nginx()
    return (
        _nginx("proxy-buffering", Literal("off"), always, "ingress.controller"),
        _nginx("proxy-request-buffering", Literal("off"), always, "ingress.controller"),
        _nginx("proxy-read-timeout", timeout, always, "ingress.streaming.timeoutSeconds"),
        _nginx("proxy-send-timeout", timeout, always, "ingress.streaming.timeoutSeconds"),
        _nginx("proxy-body-size", Value("ingress.streaming.maxBodySize"), always,
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
        _nginx("auth-type", Literal("basic"), secret, basic + "secretName"),
        _nginx("auth-secret", secret, secret, basic + "secretName"),
        _nginx("auth-realm", Value(basic + "realm"), secret, basic + "realm"),
        _nginx("auth-url", url, url, external + "url"),
        _nginx("auth-signin", Value(external + "signin"), and_(url, Value(external + "signin")),
               external + "signin"),
        _nginx("auth-response-headers", join(",", headers), and_(url, headers),
               external + "responseHeaders"),
        ChartAnnotation("traefik.ingress.kubernetes.io/router.middlewares",
                        join(",", middlewares),
                        and_(eq(Value("ingress.controller"), "traefik"), middlewares),
                        "ingress.auth.traefikMiddlewares"),
    )


INGRESS_ANNOTATIONS: tuple[ChartAnnotation, ...] = (*_streaming(), *_tls(), *_auth())
# Whether the Ingress has any annotation at all (the `annotations:` key is written only then).
ANY_INGRESS_ANNOTATION = or_(Value("ingress.annotations"),
                             *(annotation.when for annotation in INGRESS_ANNOTATIONS))
