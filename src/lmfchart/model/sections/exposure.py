"""How the web UI is reached: its port, the Service and the Ingress."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr

from lmfchart.model.fields import Domain, Host, HttpPath, LabelKey, OptionalDnsSubdomain
from lmfchart.model.sections.base import Section

WEBUI_PORT = 7860


class Service(Section):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="Service type."
    )
    port: StrictInt = Field(WEBUI_PORT, ge=1, le=65535, description="Service port of the web UI.")
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="Service annotations."
    )


class IngressTls(Section):
    secretName: OptionalDnsSubdomain = Field(
        "", description="TLS Secret for the host; empty serves plain HTTP."
    )


class Ingress(Section):
    enabled: StrictBool = Field(False, description="Expose the web UI through an Ingress.")
    className: OptionalDnsSubdomain = Field(
        "", description="spec.ingressClassName; empty uses the cluster's default class."
    )
    domain: Domain = Field(
        "", description="Host becomes <release>.<domain> (the seed's form) unless host is set."
    )
    host: Host = Field("", description="Explicit host name; wins over domain.")
    path: HttpPath = Field("/", description="HTTP path of the web UI.")
    pathType: Literal["ImplementationSpecific", "Prefix", "Exact"] = Field(
        "ImplementationSpecific", description="Ingress path type."
    )
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict,
        description="Ingress annotations (Gradio streams: disable proxy buffering, "
        "raise read timeouts).",
    )
    tls: IngressTls = Field(default_factory=IngressTls, description="TLS for the host.")
