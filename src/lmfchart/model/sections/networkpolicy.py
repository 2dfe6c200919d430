"""Who may talk to the chart's pods, and where they may connect."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from pydantic import Field, StrictBool

from lmfchart.model.fields import DnsLabel, Ipv4Cidr, Object
from lmfchart.model.sections.base import Section


class NetworkPolicy(Section):
    enabled: StrictBool = Field(
        False,
        description="NetworkPolicies: the web UI and API reachable only from ingressNamespaces, "
        "training pods of a run reaching each other, egress to DNS and HTTPS only.",
    )
    ingressNamespaces: list[DnsLabel] = Field(
        default_factory=lambda: ["ingress-nginx"],
        description="Namespaces (by name) that may reach the web UI and API: your ingress "
        "controller's.",
    )
    extraIngressFrom: list[Object] = Field(
        default_factory=list,
        description="More peers allowed to reach the web UI and API, copied verbatim "
        "(NetworkPolicyPeer, e.g. {podSelector: {matchLabels: {app: client}}}).",
    )
    dnsNamespace: DnsLabel = Field(
        "kube-system", description="Namespace of the cluster DNS (egress on port 53)."
    )
    openEgress: StrictBool = Field(
        False, description="Allow every outbound connection instead of DNS and HTTPS only."
    )
    egressExcept: list[Ipv4Cidr] = Field(
        default_factory=list,
        description="CIDRs that HTTPS egress must not reach, e.g. your pod and service "
        "CIDRs; empty: HTTPS to any IPv4 address.",
    )
    extraEgress: list[Object] = Field(
        default_factory=list,
        description="More egress rules, copied verbatim (NetworkPolicyEgressRule), e.g. "
        "your proxy or an in-cluster model mirror.",
    )
