"""The values model: what a LLaMA-Factory deployment can be told, checked field by field.

Field names are the values keys (camelCase, as Helm users expect). Every field has a
description: it becomes the comment in the chart's values.yaml, the schema's description
and a row of the values reference.
"""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from lmfchart.model import formats

DEFAULT_IMAGE_REPOSITORY = "hiyouga/llamafactory"
# The newest upstream release whose image tag we could confirm; bump with the golden files.
DEFAULT_IMAGE_TAG = "0.9.4"
WEBUI_PORT = 7860


def _checked(check: Callable[[str], str | None]) -> Callable[[str], str]:
    def validate(text: str) -> str:
        problem = check(text)
        if problem:
            raise ValueError(problem)
        return text

    return validate


def _check(check: Callable[[str], str | None]) -> AfterValidator:
    return AfterValidator(_checked(check))


def _schema(pattern: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, **extra})


def _optional(check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    return lambda text: None if text == "" else check(text)


def _domain(text: str) -> str | None:
    # Leaves room for "<release>." (release names are at most 53 characters).
    if len(text) > 199:
        return "expected a domain of at most 199 characters"
    return formats.domain(text)


DnsLabel = Annotated[
    StrictStr, _check(formats.dns_label), _schema(formats.DNS_LABEL, maxLength=63)
]
OptionalDnsLabel = Annotated[
    StrictStr, _check(_optional(formats.dns_label)),
    _schema(f"^$|{formats.DNS_LABEL}", maxLength=63),
]
OptionalDnsSubdomain = Annotated[
    StrictStr, _check(_optional(formats.dns_subdomain)),
    _schema(f"^$|{formats.DNS_SUBDOMAIN}", maxLength=253),
]
Host = Annotated[
    StrictStr, _check(_optional(formats.host)), _schema(f"^$|{formats.HOST}", maxLength=253)
]
Domain = Annotated[
    StrictStr, _check(_optional(_domain)), _schema(f"^$|{formats.DNS_SUBDOMAIN}", maxLength=199)
]
AbsolutePath = Annotated[
    StrictStr, _check(formats.absolute_path), _schema(formats.ABSOLUTE_PATH)
]
OptionalAbsolutePath = Annotated[
    StrictStr, _check(_optional(formats.absolute_path)), _schema(f"^$|{formats.ABSOLUTE_PATH}")
]
ImageRepository = Annotated[
    StrictStr, _check(formats.image_repository),
    _schema(formats.IMAGE_REPOSITORY, maxLength=255),
]
ImageTag = Annotated[
    StrictStr, _check(formats.image_tag), _schema(formats.IMAGE_TAG, maxLength=63)
]
ImageDigest = Annotated[StrictStr, _check(formats.image_digest), _schema(formats.IMAGE_DIGEST)]
EnvName = Annotated[StrictStr, _check(formats.env_name), _schema(formats.ENV_NAME)]
HttpUrl = Annotated[StrictStr, _check(formats.http_url), _schema(formats.HTTP_URL)]
ProxyUrl = Annotated[StrictStr, _check(formats.proxy_url), _schema(formats.PROXY_URL)]
HttpPath = Annotated[StrictStr, _check(formats.http_path), _schema(formats.HTTP_PATH)]
LabelValue = Annotated[
    StrictStr, _check(formats.label_value), _schema(formats.LABEL_VALUE, maxLength=63)
]
# Annotation keys follow the same PREFIX/NAME syntax as label keys.
LabelKey = Annotated[StrictStr, _check(formats.label_key), _schema(formats.LABEL_KEY)]
Quantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(lambda q: _checked(formats.quantity)(str(q)) and q),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": formats.QUANTITY},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]
OptionalQuantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(lambda q: q if q == "" else _checked(formats.quantity)(str(q)) and q),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^$|{formats.QUANTITY}"},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]
Object = dict[str, Any]
AccessMode = Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]


class Section(BaseModel):
    """Unknown keys are errors: a misspelt key must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_default=False)


class ImagePullSecret(Section):
    name: DnsLabel = Field(description="Name of a docker-registry Secret in the release namespace.")


class Image(Section):
    repository: ImageRepository = Field(
        DEFAULT_IMAGE_REPOSITORY, description="Image repository (registry/name)."
    )
    tag: ImageTag = Field(
        DEFAULT_IMAGE_TAG, description="Image tag; also the app.kubernetes.io/version label."
    )
    digest: ImageDigest = Field(
        "", description="Image digest (sha256:...); when set, the image is pulled by digest."
    )
    pullPolicy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="When the kubelet pulls the image."
    )
    pullSecrets: list[ImagePullSecret] = Field(
        default_factory=list, description="Secrets for a private registry, as [{name: ...}]."
    )


class Hub(Section):
    source: Literal["huggingface", "modelscope", "openmind"] = Field(
        "huggingface",
        description="Where models and datasets are downloaded from: huggingface, "
        "modelscope (sets USE_MODELSCOPE_HUB=1) or openmind (sets USE_OPENMIND_HUB=1).",
    )
    hfEndpoint: HttpUrl = Field(
        "", description="HF_ENDPOINT: a Hugging Face mirror URL; empty uses huggingface.co."
    )


class Proxy(Section):
    httpProxy: ProxyUrl = Field("", description="HTTP_PROXY for outbound downloads.")
    httpsProxy: ProxyUrl = Field("", description="HTTPS_PROXY for outbound downloads.")
    noProxy: StrictStr = Field(
        "",
        description="NO_PROXY (set in upper case: the web UI overwrites lower-case no_proxy).",
    )


def _quantities(**amounts: str | int | float) -> dict[str, str | int | float]:
    return dict(amounts)


def _access_modes(*modes: AccessMode) -> list[AccessMode]:
    return list(modes)


class Resources(Section):
    limits: dict[StrictStr, Quantity] = Field(
        default_factory=lambda: _quantities(cpu="8", memory="32Gi"),
        description="Container resource limits, copied verbatim (any resource name).",
    )
    requests: dict[StrictStr, Quantity] = Field(
        default_factory=lambda: _quantities(cpu="2", memory="8Gi"),
        description="Container resource requests, copied verbatim (any resource name).",
    )


class Gpu(Section):
    count: StrictInt = Field(
        0, ge=0, description="GPUs for the pod; added to resources.limits under resourceName."
    )
    resourceName: StrictStr = Field(
        "nvidia.com/gpu",
        pattern=r"^[a-z0-9.-]+/[a-zA-Z0-9._-]+$",
        description="Extended resource name of the GPU (nvidia.com/gpu, amd.com/gpu, "
        "huawei.com/Ascend910, ...).",
    )


class Shm(Section):
    enabled: StrictBool = Field(
        True, description="Mount a memory-backed emptyDir at /dev/shm (PyTorch data loaders)."
    )
    sizeLimit: Quantity = Field("16Gi", description="Size limit of /dev/shm.")


VolumeType = Literal["none", "emptyDir", "hostPath", "existingClaim", "pvc"]


class Volume(Section):
    type: VolumeType = Field(
        "emptyDir",
        description="none, emptyDir (lost with the pod), hostPath (a node folder), "
        "existingClaim (a PVC you made) or pvc (a PVC this chart makes).",
    )
    mountPath: AbsolutePath = Field(description="Where the volume is mounted in the container.")
    hostPath: OptionalAbsolutePath = Field("", description="Node folder, for type hostPath.")
    hostPathType: Literal["Directory", "DirectoryOrCreate"] = Field(
        "DirectoryOrCreate", description="hostPath type: Directory requires the folder to exist."
    )
    existingClaim: OptionalDnsSubdomain = Field(
        "", description="Name of an existing PVC, for type existingClaim."
    )
    size: Quantity = Field("50Gi", description="Requested size, for type pvc.")
    storageClass: OptionalDnsSubdomain = Field(
        "", description="StorageClass for type pvc; empty uses the cluster's default."
    )
    accessModes: list[AccessMode] = Field(
        default_factory=lambda: _access_modes("ReadWriteOnce"),
        min_length=1,
        description="Access modes, for type pvc.",
    )
    keep: StrictBool = Field(
        True, description="Keep the PVC on uninstall (helm.sh/resource-policy: keep), type pvc."
    )
    sizeLimit: OptionalQuantity = Field("", description="Size limit, for type emptyDir.")


def _volume(mount_path: str, kind: VolumeType, doc: str) -> Any:
    return Field(default_factory=lambda: Volume(type=kind, mountPath=mount_path), description=doc)


class Storage(Section):
    saves: Volume = _volume(
        "/app/saves", "emptyDir", "Web UI state: checkpoints and LoRA adapters (/app/saves)."
    )
    output: Volume = _volume("/app/output", "emptyDir", "Exported models (/app/output).")
    data: Volume = _volume(
        "/app/shared_data",
        "none",
        "Your datasets. Not /app/data by default: that would hide the image's "
        "dataset_info.json.",
    )
    hfCache: Volume = _volume(
        "/root/.cache/huggingface", "emptyDir", "Hugging Face cache (models, datasets)."
    )
    modelScopeCache: Volume = _volume(
        "/root/.cache/modelscope", "none", "ModelScope cache, for hub.source modelscope."
    )
    openMindCache: Volume = _volume(
        "/root/.cache/openmind", "none", "openMind cache, for hub.source openmind."
    )


VOLUME_NAMES: tuple[str, ...] = tuple(Storage.model_fields)


class ServiceAccount(Section):
    create: StrictBool = Field(False, description="Create a ServiceAccount for the pod.")
    name: OptionalDnsSubdomain = Field(
        "", description="ServiceAccount name; empty with create uses the release's full name."
    )
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="Annotations of the created ServiceAccount."
    )
    automountToken: StrictBool = Field(
        False, description="Mount an API token in the pod (the web UI does not need one)."
    )


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


class ProbeTiming(Section):
    initialDelaySeconds: StrictInt = Field(0, ge=0, description="Seconds before the first probe.")
    periodSeconds: StrictInt = Field(10, ge=1, description="Seconds between probes.")
    timeoutSeconds: StrictInt = Field(5, ge=1, description="Seconds before a probe times out.")
    failureThreshold: StrictInt = Field(3, ge=1, description="Failures before acting.")


class Probes(Section):
    enabled: StrictBool = Field(True, description="Probe the web UI port at all.")
    startup: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=10, failureThreshold=60),
        description="HTTP GET / until the UI first answers (loading can take minutes).",
    )
    liveness: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=30, timeoutSeconds=10,
                                            failureThreshold=6),
        description="TCP check: a busy UI during training must not be restarted.",
    )
    readiness: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=10, timeoutSeconds=5),
        description="HTTP GET / before the Service sends traffic.",
    )


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
        default_factory=list,
        description="Extra envFrom sources, e.g. [{secretRef: {name: hf-token}}] for HF_TOKEN.",
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
    podSecurityContext: Object = Field(default_factory=dict, description="Pod securityContext.")
    securityContext: Object = Field(
        default_factory=dict, description="Container securityContext."
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


def default_values() -> dict[str, Any]:
    return Values().model_dump(mode="json")
