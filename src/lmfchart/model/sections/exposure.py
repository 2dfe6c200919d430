"""How the web UI is reached: its port, the Service, the Ingress and the Gateway API route."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr

from lmfchart.model.fields import (
    BodySize,
    Domain,
    Host,
    HttpPath,
    HttpUrl,
    LabelKey,
    Object,
    OptionalDnsSubdomain,
)
from lmfchart.model.sections.base import Section

WEBUI_PORT = 7860
# What ingress.controller may name: the annotations the chart adds follow it.
IngressController = Literal["other", "nginx", "traefik"]


class Service(Section):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="Service type."
    )
    port: StrictInt = Field(WEBUI_PORT, ge=1, le=65535, description="Service port of the web UI.")
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="Service annotations."
    )


class CertManager(Section):
    issuer: OptionalDnsSubdomain = Field(
        "", description="cert-manager Issuer (in the release's namespace) that signs the host."
    )
    clusterIssuer: OptionalDnsSubdomain = Field(
        "", description="cert-manager ClusterIssuer that signs the host."
    )


class IngressTls(Section):
    secretName: OptionalDnsSubdomain = Field(
        "", description="TLS Secret for the host; empty serves plain HTTP unless cert-manager "
        "signs it (then <fullname>-tls, which cert-manager fills)."
    )
    certManager: CertManager = Field(
        default_factory=CertManager,
        description="Let cert-manager create the TLS Secret (an issuer annotation).",
    )


class Streaming(Section):
    timeoutSeconds: StrictInt = Field(
        3600, ge=1, description="Proxy read and send timeout (nginx): a training log or a chat "
        "reply streams for as long as it runs."
    )
    maxBodySize: BodySize = Field(
        "10g",
        description="Largest upload (nginx proxy-body-size, e.g. 10g; 0: no limit).",
    )


class BasicAuth(Section):
    secretName: OptionalDnsSubdomain = Field(
        "", description="Existing Secret with an htpasswd file under the key auth (nginx "
        "basic auth)."
    )
    realm: StrictStr = Field("LLaMA Board", min_length=1, description="Realm the browser shows.")


class ExternalAuth(Section):
    url: HttpUrl = Field(
        "",
        description="nginx auth-url: every request is checked there first (oauth2-proxy's "
        "/oauth2/auth).",
    )
    signin: HttpUrl = Field(
        "",
        description="nginx auth-signin: where an unauthenticated browser is sent.",
    )
    responseHeaders: list[StrictStr] = Field(
        default_factory=list, description="nginx auth-response-headers passed on to the web UI."
    )


class IngressAuth(Section):
    basic: BasicAuth = Field(default_factory=BasicAuth, description="ingress-nginx basic auth.")
    external: ExternalAuth = Field(
        default_factory=ExternalAuth, description="ingress-nginx external auth (oauth2-proxy)."
    )
    traefikMiddlewares: list[StrictStr] = Field(
        default_factory=list,
        description="Existing Traefik Middlewares (NAMESPACE-NAME@kubernetescrd) that "
        "authenticate, for controller traefik.",
    )


class Ingress(Section):
    enabled: StrictBool = Field(False, description="Expose the web UI through an Ingress.")
    className: OptionalDnsSubdomain = Field(
        "", description="spec.ingressClassName; empty uses the cluster's default class."
    )
    controller: IngressController = Field(
        "other", description="Ingress controller: nginx or traefik get the annotations that "
        "keep Gradio's streams and uploads working; other gets none."
    )
    domain: Domain = Field(
        "", description="Host becomes <release>.<domain> (the seed's form) unless host is set."
    )
    host: Host = Field("", description="Explicit host name; wins over domain.")
    path: HttpPath = Field(
        "/", description="HTTP path of the web UI (a prefix also sets GRADIO_ROOT_PATH)."
    )
    pathType: Literal["ImplementationSpecific", "Prefix", "Exact"] = Field(
        "ImplementationSpecific", description="Ingress path type."
    )
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict,
        description="More Ingress annotations (not the ones controller, tls and auth set).",
    )
    streaming: Streaming = Field(
        default_factory=Streaming, description="Timeouts and upload size (controller nginx)."
    )
    tls: IngressTls = Field(default_factory=IngressTls, description="TLS for the host.")
    auth: IngressAuth = Field(
        default_factory=IngressAuth, description="Authentication in front of the web UI."
    )
    allowAnonymous: StrictBool = Field(
        False, description="Expose the web UI with no authentication (it has no login of its "
        "own); set automatically, with a warning, for seed-layout files."
    )


class HttpRoute(Section):
    enabled: StrictBool = Field(
        False, description="Expose the web UI through a Gateway API HTTPRoute."
    )
    parentRefs: list[Object] = Field(
        default_factory=list,
        description="The Gateways the route attaches to, copied, e.g. [{name: gw, namespace: "
        "infra}].",
    )
    hostnames: list[Host] = Field(
        default_factory=list, description="Host names the route matches; empty: the Gateway's."
    )
    path: HttpPath = Field(
        "/", description="Path prefix of the web UI (not / also sets GRADIO_ROOT_PATH)."
    )
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="HTTPRoute annotations."
    )
    allowAnonymous: StrictBool = Field(
        False, description="The chart puts no authentication on an HTTPRoute: set true when "
        "the Gateway authenticates (its own policy) or the web UI may be open."
    )
