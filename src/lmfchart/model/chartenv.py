"""The environment variables the chart sets itself: one list for the template and the check.

The Deployment template writes one env entry per variable (under its condition), and the
cross-check refuses `env` entries that would shadow one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.model.expr import (
    NAMESPACE,
    Binding,
    EntryValue,
    Expr,
    Value,
    and_,
    as_int,
    eq,
    gt,
    has_prefix,
    ne,
    not_,
    num,
    or_,
    printf,
)
from lmfchart.model.sections.security import NON_ROOT_HOME
from lmfchart.model.sections.workloads import API_PORT
from lmfchart.model.values import WEBUI_PORT


@dataclass(frozen=True)
class ChartVariable:
    name: str
    value: str | Expr
    """A fixed text, or the value it copies."""
    when: Expr | None = None
    """Set only when this holds; None: always set."""
    controlled_by: str = "(always set)"
    """The values key a user changes instead of overriding the variable."""
    comment: str = ""
    """Why the chart sets it (a comment above the entry in the chart)."""
    field_ref: str = ""
    """Read from the pod's own fields (`valueFrom.fieldRef.fieldPath`) instead of value."""
    secret_ref: str = ""
    """Read from a Secret (`valueFrom.secretKeyRef`): the values key of its name and key."""


def _copied(name: str, key: str, comment: str = "") -> ChartVariable:
    return ChartVariable(name, Value(key), Value(key), key, comment)


def _from_secret(name: str, reference: str) -> ChartVariable:
    return ChartVariable(name, "", Value(f"{reference}.name"), reference,
                         secret_ref=reference)


HF_TOKEN = _from_secret("HF_TOKEN", "secrets.hfToken")
# The trackers a training run reports to (train.<run>.reportTo) read their keys from these.
TRACKER_KEYS: tuple[ChartVariable, ...] = (
    _from_secret("WANDB_API_KEY", "secrets.wandbApiKey"),
    _from_secret("SWANLAB_API_KEY", "secrets.swanlabApiKey"),
)

_OFFLINE = "Never reach the hub: models and datasets come from the volumes."
# Where every pod (web UI, training, export, API) downloads from.
DOWNLOAD_VARIABLES: tuple[ChartVariable, ...] = (
    ChartVariable("USE_MODELSCOPE_HUB", "1", eq(Value("hub.source"), "modelscope"), "hub.source"),
    ChartVariable("USE_OPENMIND_HUB", "1", eq(Value("hub.source"), "openmind"), "hub.source"),
    _copied("HF_ENDPOINT", "hub.hfEndpoint"),
    _copied("HTTP_PROXY", "proxy.httpProxy"),
    _copied("HTTPS_PROXY", "proxy.httpsProxy"),
    _copied("NO_PROXY", "proxy.noProxy", "Upper case: the web UI overwrites lower-case no_proxy."),
    ChartVariable("HF_HUB_OFFLINE", "1", Value("hub.offline"), "hub.offline", _OFFLINE),
    ChartVariable("HF_DATASETS_OFFLINE", "1", Value("hub.offline"), "hub.offline"),
    ChartVariable("TRANSFORMERS_OFFLINE", "1", Value("hub.offline"), "hub.offline"),
    ChartVariable("HOME", NON_ROOT_HOME, Value("security.nonRoot"), "security.nonRoot",
                  "A writable home: the hub caches default to ~/.cache."),
    HF_TOKEN,
)
CHART_VARIABLES: tuple[ChartVariable, ...] = (
    ChartVariable("GRADIO_SERVER_NAME", "0.0.0.0",
                  comment="Gradio binds to localhost unless told otherwise."),
    ChartVariable("GRADIO_SERVER_PORT", str(WEBUI_PORT)),
    ChartVariable("GRADIO_ANALYTICS_ENABLED", "False",
                  comment="No outbound analytics calls from closed networks."),
    # Gradio serves both / and the prefix: the Ingress or route passes the path unchanged.
    ChartVariable("GRADIO_ROOT_PATH", Value("ingress.path"),
                  and_(Value("ingress.enabled"), ne(Value("ingress.path"), "/")), "ingress.path"),
    ChartVariable("GRADIO_ROOT_PATH", Value("httpRoute.path"),
                  and_(not_(Value("ingress.enabled")), Value("httpRoute.enabled"),
                       ne(Value("httpRoute.path"), "/")), "httpRoute.path"),
    *DOWNLOAD_VARIABLES,
    *TRACKER_KEYS,
)


def _text(number: Expr) -> Expr:
    return printf("%v", as_int(number))


# Python holds its output back in a pipe: the log (and lmfchart's progress) would lag.
UNBUFFERED = ChartVariable("PYTHONUNBUFFERED", "1", comment="Log lines as they happen.")


def _run(path: str) -> EntryValue:
    return EntryValue("run", "train", path)


def _train_variables() -> tuple[ChartVariable, ...]:
    """What a training run's pods get so LLaMA-Factory's launcher starts torchrun.

    LLaMA-Factory re-launches itself under torchrun when FORCE_TORCHRUN is set and reads
    NNODES, NODE_RANK (RANK in 0.8-0.9.0), NPROC_PER_NODE, MASTER_ADDR and MASTER_PORT.
    An Indexed Job gives each pod its completion index; a PyTorchJob's operator sets
    PET_NNODES and PET_NODE_RANK, mapped in its command (WORLD_SIZE counts processes)."""
    gpus, nodes, engine = _run("gpus"), _run("nodes"), _run("engine")
    launched = or_(gt(gpus, num(1)), gt(nodes, num(1)), eq(engine, "pytorchjob"))
    indexed = and_(eq(engine, "job"), gt(nodes, num(1)))
    controlled = "train.<run>.gpus, nodes and engine"
    index = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
    job = Binding("jobName")
    return (
        UNBUFFERED,
        ChartVariable("FORCE_TORCHRUN", "1", launched, controlled,
                      "Start torchrun for several GPUs or nodes."),
        ChartVariable("NPROC_PER_NODE", _text(gpus), launched, controlled),
        ChartVariable("NNODES", _text(nodes), indexed, controlled),
        ChartVariable("NODE_RANK", "", indexed, controlled,
                      "The node rank is the pod's completion index.", field_ref=index),
        ChartVariable("RANK", "", indexed, controlled,
                      "LLaMA-Factory 0.8-0.9.0 read RANK as the node rank.", field_ref=index),
        ChartVariable("MASTER_ADDR", printf("%s-0.%s.%s.svc", job, job, NAMESPACE), indexed,
                      controlled, "Pod 0's stable name through the headless Service."),
        ChartVariable("MASTER_PORT", _text(_run("masterPort")), indexed, controlled),
        *TRACKER_KEYS,
    )


TRAIN_VARIABLES = _train_variables()
EXPORT_VARIABLES: tuple[ChartVariable, ...] = (UNBUFFERED, *TRACKER_KEYS)
API_VARIABLES: tuple[ChartVariable, ...] = (
    UNBUFFERED,
    ChartVariable("API_HOST", "0.0.0.0"),
    ChartVariable("API_PORT", str(API_PORT)),
    _copied("API_MODEL_NAME", "api.modelName"),
    # FastAPI routes /PREFIX/v1/... and /v1/... alike under a root path, so the prefix
    # passes unchanged; a path that is the API's own /v1 needs none (it would hide /v1).
    ChartVariable("FASTAPI_ROOT_PATH", Value("api.ingressPath"),
                  and_(Value("api.ingressPath"),
                       or_(Value("ingress.enabled"), Value("httpRoute.enabled")),
                       not_(has_prefix("/v1/", printf("%s/", Value("api.ingressPath"))))),
                  "api.ingressPath", "The API's links (/docs) under the path prefix."),
    _from_secret("API_KEY", "api.apiKeySecret"),
)
# Names a user's env must not repeat in a workload: server-side apply keys env by name.
WORKLOAD_VARIABLE_NAMES = (
    *dict.fromkeys(v.name for v in (*TRAIN_VARIABLES, *API_VARIABLES)),)

# A PyTorchJob's operator names the nodes PET_NNODES and the node's rank PET_NODE_RANK;
# LLaMA-Factory's launcher reads NNODES and NODE_RANK (RANK before 0.9.1).
PYTORCHJOB_COMMAND = (
    "sh", "-c",
    'export NNODES="$PET_NNODES" NODE_RANK="$PET_NODE_RANK" RANK="$PET_NODE_RANK"; '
    "exec llamafactory-cli train /config/train.yaml",
)
