"""The values model: what a LLaMA-Factory deployment can be told, checked field by field.

Field names are the values keys (camelCase, as Helm users expect). Every field has a
description: it becomes the comment in the chart's values.yaml, the schema's description
and a row of the values reference. Field types live in `fields`, the sections in
`sections/`; this module assembles them and is what the rest of lmfchart imports.
"""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

import functools
import json
from typing import Any

from pydantic import Field, StrictBool, StrictInt, StrictStr

from lmfchart.model.fields import (
    EnvName,
    LabelKey,
    LabelValue,
    Object,
    OptionalDnsLabel,
    OptionalDnsSubdomain,
)
from lmfchart.model.sections.base import Section
from lmfchart.model.sections.compute import Gpu, Resources, Shm
from lmfchart.model.sections.downloads import Hub, Proxy
from lmfchart.model.sections.exposure import WEBUI_PORT, HttpRoute, Ingress, Service
from lmfchart.model.sections.helmtest import HelmTest
from lmfchart.model.sections.image import Image
from lmfchart.model.sections.networkpolicy import NetworkPolicy
from lmfchart.model.sections.probes import Probes
from lmfchart.model.sections.secrets import Secrets
from lmfchart.model.sections.security import Security
from lmfchart.model.sections.serviceaccount import ServiceAccount
from lmfchart.model.sections.storage import VOLUME_NAMES, Storage
from lmfchart.model.sections.workloads import Api, ExportRun, RunName, TrainRun

__all__ = ["VOLUME_NAMES", "WEBUI_PORT", "Values", "default_values"]


class Values(Section):
    """Everything lmfchart knows about one LLaMA-Factory deployment."""

    fullnameOverride: OptionalDnsLabel = Field(
        "", description="Name of every object; default <release>-llama-factory."
    )
    seedCompatibility: StrictBool = Field(
        False,
        description="Keep the seed chart's selector (app: <release>-llama-factory) so "
        "releases installed with it upgrade in place; set automatically for seed-layout files.",
    )
    image: Image = Field(default_factory=Image, description="Container image.")
    command: list[StrictStr] = Field(
        default_factory=lambda: ["llamafactory-cli", "webui"],
        description="Container command; [] keeps the image's own (seed image v0.6.1). "
        "Current images have none, so they need llamafactory-cli webui.",
    )
    args: list[StrictStr] = Field(default_factory=list, description="Container arguments.")
    env: dict[EnvName, StrictStr] = Field(
        default_factory=dict, description="Extra environment variables (name: value)."
    )
    envFrom: list[Object] = Field(
        default_factory=list, description="Extra envFrom sources, copied verbatim."
    )
    secrets: Secrets = Field(
        default_factory=Secrets,
        description="Tokens from existing Secrets (never their values in values).",
    )
    hub: Hub = Field(default_factory=Hub, description="Model hub.")
    proxy: Proxy = Field(default_factory=Proxy, description="Outbound proxy.")
    resources: Resources = Field(default_factory=Resources, description="Container resources.")
    gpu: Gpu = Field(default_factory=Gpu, description="GPUs.")
    shm: Shm = Field(default_factory=Shm, description="Shared memory.")
    storage: Storage = Field(default_factory=Storage, description="Volumes, one per purpose.")
    extraVolumes: list[Object] = Field(
        default_factory=list, description="Extra pod volumes, copied verbatim."
    )
    extraVolumeMounts: list[Object] = Field(
        default_factory=list, description="Extra container volume mounts, copied verbatim."
    )
    nodeSelector: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Pod nodeSelector."
    )
    tolerations: list[Object] = Field(default_factory=list, description="Pod tolerations.")
    affinity: Object = Field(default_factory=dict, description="Pod affinity.")
    runtimeClassName: OptionalDnsSubdomain = Field(
        "", description="Pod runtimeClassName (e.g. nvidia)."
    )
    podAnnotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="Pod annotations."
    )
    podLabels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Extra pod labels."
    )
    podSecurityContext: Object = Field(
        default_factory=lambda: {"seccompProfile": {"type": "RuntimeDefault"}},
        description="Pod securityContext of every pod; your keys merge over the default "
        "(null removes one).",
    )
    securityContext: Object = Field(
        default_factory=lambda: {
            "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        description="Container securityContext of every pod; your keys merge over the "
        "default (null removes one).",
    )
    security: Security = Field(
        default_factory=Security, description="The user the containers run as."
    )
    serviceAccount: ServiceAccount = Field(
        default_factory=ServiceAccount, description="ServiceAccount."
    )
    terminationGracePeriodSeconds: StrictInt = Field(
        30, ge=0, description="Seconds the web UI gets to stop."
    )
    probes: Probes = Field(default_factory=Probes, description="Health probes on the web UI.")
    service: Service = Field(default_factory=Service, description="Service.")
    ingress: Ingress = Field(default_factory=Ingress, description="Ingress.")
    httpRoute: HttpRoute = Field(
        default_factory=HttpRoute, description="Gateway API HTTPRoute (instead of or beside "
        "the Ingress)."
    )
    networkPolicy: NetworkPolicy = Field(
        default_factory=NetworkPolicy, description="NetworkPolicies around the release's pods."
    )
    train: dict[RunName, TrainRun] = Field(
        default_factory=dict,
        description="Training runs, by name: each a Job running llamafactory-cli train.",
    )
    export: dict[RunName, ExportRun] = Field(
        default_factory=dict,
        description="Exports (LoRA merges), by name: each a Job running llamafactory-cli export.",
    )
    api: Api = Field(default_factory=Api, description="The OpenAI-style API server.")
    helmTest: HelmTest = Field(default_factory=HelmTest, description="The helm test hook.")


def default_values() -> dict[str, Any]:
    """The chart's values.yaml as data: a fresh copy each call (callers change theirs)."""
    defaults: dict[str, Any] = json.loads(_default_values_json())
    return defaults


@functools.cache
def _default_values_json() -> str:
    # Building every section's defaults is the dearest part of loading one values file;
    # it never changes within a process.
    return json.dumps(Values().model_dump(mode="json"))
