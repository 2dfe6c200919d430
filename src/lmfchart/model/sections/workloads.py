"""Fine-tuning as workloads: training runs and exports as Jobs, the API server.

Each train run and export is an entry of a map keyed by its name, so a user adds one with
`--set train.NAME.model=...`; every entry is written into a LLaMA-Factory config file by
the chart (`model/lfconfig.py` says which key becomes which LLaMA-Factory key).
"""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
    field_validator,
)

from lmfchart.model import formats, lfkeys
from lmfchart.model.fields import Object, OptionalAbsolutePath, OptionalDnsSubdomain, Quantity
from lmfchart.model.sections.base import Section

# Job names are <fullname>-train-<run>-<hash>, cut to fit; a short run name stays readable.
MAX_RUN_NAME = 30
API_PORT = 8000


def _one_of(choices: tuple[str, ...], what: str) -> AfterValidator:
    def check(text: str) -> str:
        if text not in choices:
            raise ValueError(formats.not_one_of(text, choices, what))
        return text

    return AfterValidator(check)


def _enum(choices: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(choices)})


_VERSION = lfkeys.LLAMAFACTORY_VERSION
Stage = Annotated[StrictStr, _one_of(lfkeys.stages(), f"a LLaMA-Factory {_VERSION} stage"),
                  _enum(lfkeys.stages())]
Template = Annotated[
    StrictStr, _one_of(lfkeys.templates(), f"a chat template of LLaMA-Factory {_VERSION}"),
    _enum(lfkeys.templates()),
]
InferBackend = Annotated[StrictStr, _one_of(lfkeys.infer_backends(), "an inference backend"),
                         _enum(lfkeys.infer_backends())]
RunName = Annotated[
    StrictStr,
    AfterValidator(lambda text: formats.checked(formats.run_name, text)),
    WithJsonSchema({"type": "string", "pattern": formats.RUN_NAME}),
]
ModelSource = Annotated[
    StrictStr,
    AfterValidator(lambda text: formats.checked(formats.model_source, text)),
    WithJsonSchema({"type": "string", "pattern": formats.MODEL_SOURCE}),
]
OptionalModelSource = Annotated[
    StrictStr,
    AfterValidator(lambda text: text and formats.checked(formats.model_source, text)),
    WithJsonSchema({"type": "string", "pattern": f"^$|{formats.MODEL_SOURCE}"}),
]
SubPath = Annotated[
    StrictStr,
    AfterValidator(lambda text: text and formats.checked(formats.sub_path, text)),
    WithJsonSchema({"type": "string", "pattern": f"^$|{formats.SUB_PATH}"}),
]
# Strict floats take integers too (3 epochs), never booleans or strings.
Number = StrictFloat
Method = Literal["lora", "freeze", "full"]
ReportTo = Literal["none", "tensorboard", "wandb", "mlflow", "swanlab", "comet_ml", "clearml",
                   "trackio"]


def _report_nothing() -> list[ReportTo]:
    return ["none"]


class Lora(Section):
    rank: StrictInt = Field(8, ge=1, description="lora_rank: the adapter's rank.")
    alpha: StrictInt = Field(
        0, ge=0, description="lora_alpha; 0 leaves LLaMA-Factory's default (rank x 2)."
    )
    dropout: Number = Field(0.0, ge=0, lt=1, description="lora_dropout.")
    target: StrictStr = Field(
        "all", min_length=1,
        description="lora_target: all, or comma-separated module names (q_proj,v_proj).",
    )


class Freeze(Section):
    trainableLayers: StrictInt = Field(
        2, description="freeze_trainable_layers: the last N layers train (negative: the first N)."
    )
    trainableModules: StrictStr = Field(
        "all", min_length=1, description="freeze_trainable_modules: all, or module names."
    )


class WorkloadResources(Section):
    limits: dict[StrictStr, Quantity] = Field(
        default_factory=dict, description="Resource limits of the pod (GPUs: use gpus)."
    )
    requests: dict[StrictStr, Quantity] = Field(
        default_factory=dict, description="Resource requests of the pod."
    )


class JobSettings(Section):
    """What a training run and an export share as Kubernetes Jobs."""

    resources: WorkloadResources = Field(
        default_factory=WorkloadResources, description="CPU and memory of each pod."
    )
    backoffLimit: StrictInt = Field(
        0, ge=0, description="Retries of a failed pod; 0: a failed run stays failed, to read."
    )
    ttlSecondsAfterFinished: StrictInt | None = Field(
        None, ge=0,
        description="Delete the finished Job after this many seconds; null keeps it. A Job "
        "that is gone is created again (and runs again) by the next upgrade.",
    )
    rerun: StrictInt = Field(
        0, ge=0, description="Bump to run an unchanged config again (a new Job name)."
    )


class TrainRun(JobSettings):
    model: ModelSource = Field(
        description="model_name_or_path: an absolute path on a volume (the hf cache, the "
        "data volume) or a hub id (Qwen/Qwen3-0.6B)."
    )
    stage: Stage = Field("sft", description="stage: pt, sft, rm, ppo, dpo or kto.")
    method: Method = Field("lora", description="finetuning_type: lora, freeze or full.")
    lora: Lora = Field(default_factory=Lora, description="LoRA options (method lora).")
    freeze: Freeze = Field(default_factory=Freeze, description="Freeze options (method freeze).")
    datasets: list[Annotated[StrictStr, Field(min_length=1, pattern=r"^[^,\s]+$")]] = Field(
        min_length=1, description="dataset: names in dataset_info.json."
    )
    datasetDir: OptionalAbsolutePath = Field(
        "",
        description="dataset_dir, absolute (LLaMA-Factory reads a relative one from its "
        "working directory); empty: the image's /app/data, or the run's own "
        "dataset_info.json when datasetInfo is given.",
    )
    datasetInfo: dict[StrictStr, Object] = Field(
        default_factory=dict,
        description="dataset_info.json entries written for this run (name: {file_name: "
        "/abs/path.json, formatting: alpaca|sharegpt, columns: ...}).",
    )
    template: Template = Field("default", description="template: the chat template.")
    cutoffLen: StrictInt = Field(2048, ge=1, description="cutoff_len: tokens per sample.")
    maxSamples: StrictInt = Field(0, ge=0, description="max_samples per dataset; 0: all.")
    epochs: Number = Field(3.0, gt=0, description="num_train_epochs.")
    maxSteps: StrictInt = Field(0, ge=0, description="max_steps; above 0 it wins over epochs.")
    batchSize: StrictInt = Field(1, ge=1, description="per_device_train_batch_size.")
    gradientAccumulation: StrictInt = Field(
        8, ge=1, description="gradient_accumulation_steps."
    )
    learningRate: Number = Field(1.0e-4, gt=0, description="learning_rate.")
    scheduler: Literal[
        "linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
        "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau",
        "cosine_with_min_lr", "warmup_stable_decay",
    ] = Field("cosine", description="lr_scheduler_type.")
    warmup: Number = Field(
        0.1, ge=0, description="warmup_steps; below 1 a ratio of all steps (transformers 5)."
    )
    precision: Literal["bf16", "fp16", "fp32"] = Field(
        "bf16", description="bf16 (Ampere and newer), fp16 (older GPUs) or fp32."
    )
    deepspeed: Literal["", "z0", "z2", "z2_offload", "z3", "z3_offload"] = Field(
        "",
        description="DeepSpeed preset from the image (/app/examples/deepspeed/"
        "ds_<preset>_config.json); empty: none.",
    )
    outputDir: SubPath = Field(
        "", description="output_dir below storage.output.mountPath; empty: train/<run>."
    )
    reportTo: list[ReportTo] = Field(
        default_factory=_report_nothing, min_length=1,
        description="report_to, always written (transformers 5 defaults to none).",
    )
    loggingSteps: StrictInt = Field(10, ge=1, description="logging_steps.")
    saveSteps: StrictInt = Field(500, ge=1, description="save_steps.")
    extra: Object = Field(
        default_factory=dict,
        description="Any other LLaMA-Factory train key, checked against the pinned version.",
    )
    gpus: StrictInt = Field(1, ge=0, description="GPUs per node (pod).")
    nodes: StrictInt = Field(1, ge=1, le=999, description="Nodes (pods) the run spans.")
    engine: Literal["job", "pytorchjob"] = Field(
        "job",
        description="job: a Kubernetes Job (Indexed for several nodes); pytorchjob: a "
        "Kubeflow PyTorchJob (needs the training operator).",
    )
    masterPort: StrictInt = Field(
        29500, ge=1, le=65535, description="MASTER_PORT of the torch rendezvous."
    )

    @field_validator("extra")
    @classmethod
    def _known_train_keys(cls, extra: dict[str, Any]) -> dict[str, Any]:
        return _checked_extra("train", extra)


class ExportRun(JobSettings):
    model: ModelSource = Field(description="model_name_or_path: the base model.")
    adapter: OptionalModelSource = Field(
        "", description="adapter_name_or_path: the trained adapter (absolute path or hub id)."
    )
    method: Method = Field("lora", description="finetuning_type of the adapter.")
    template: Template = Field("default", description="template.")
    exportDir: SubPath = Field(
        "", description="export_dir below storage.output.mountPath; empty: models/<export>."
    )
    shardSize: StrictInt = Field(2, ge=1, description="export_size: GB per shard.")
    device: Literal["cpu", "auto"] = Field("cpu", description="export_device.")
    legacyFormat: StrictBool = Field(
        False, description="export_legacy_format: .bin instead of safetensors."
    )
    extra: Object = Field(
        default_factory=dict,
        description="Any other LLaMA-Factory export key, checked against the pinned version.",
    )
    gpus: StrictInt = Field(0, ge=0, description="GPUs of the pod (export_device auto).")

    @field_validator("extra")
    @classmethod
    def _known_infer_keys(cls, extra: dict[str, Any]) -> dict[str, Any]:
        return _checked_extra("export", extra)


class ApiKeySecret(Section):
    name: OptionalDnsSubdomain = Field(
        "", description="Secret holding the API key; empty: the API needs no key."
    )
    key: StrictStr = Field("API_KEY", min_length=1, description="Key in that Secret.")


class Api(Section):
    enabled: StrictBool = Field(
        False, description="Run the OpenAI-style API server (llamafactory-cli api)."
    )
    model: OptionalModelSource = Field("", description="model_name_or_path to serve.")
    adapter: OptionalModelSource = Field("", description="adapter_name_or_path, if any.")
    method: Method = Field("lora", description="finetuning_type of the adapter.")
    template: Template = Field("default", description="template.")
    backend: InferBackend = Field(
        "huggingface", description="infer_backend: huggingface, vllm or sglang."
    )
    modelName: StrictStr = Field("", description="API_MODEL_NAME reported by /v1/models.")
    apiKeySecret: ApiKeySecret = Field(
        default_factory=ApiKeySecret, description="API_KEY from a Secret (never in values)."
    )
    ingressPath: StrictStr = Field(
        "",
        pattern=r"^(/[^\s]*)?$",
        description="A path on the web UI's Ingress host routed to the API (e.g. /v1).",
    )
    gpus: StrictInt = Field(1, ge=0, description="GPUs of the API pod.")
    resources: WorkloadResources = Field(
        default_factory=WorkloadResources, description="CPU and memory of the API pod."
    )
    extra: Object = Field(
        default_factory=dict,
        description="Any other LLaMA-Factory inference key, checked against the pinned version.",
    )

    @field_validator("extra")
    @classmethod
    def _known_infer_keys(cls, extra: dict[str, Any]) -> dict[str, Any]:
        return _checked_extra("api", extra)


def _checked_extra(kind: str, extra: dict[str, Any]) -> dict[str, Any]:
    # Imported here: lfconfig reads this model through the values model.
    from lmfchart.model.lfconfig import ALWAYS, written_by_chart

    problems: list[str] = []
    for key, value in extra.items():
        source = written_by_chart(kind, key)
        if source == ALWAYS:
            problems.append(f"{key} is always written by the chart")
        elif source:
            problems.append(f"{key} is written by the chart from {source}: set {source} "
                            "instead of extra")
        elif problem := lfkeys.key_problem(kind, key, value):
            problems.append(problem)
    if problems:
        raise ValueError("; ".join(problems))
    return extra


__all__ = [
    "API_PORT", "MAX_RUN_NAME", "Api", "ExportRun", "RunName", "TrainRun",
]
