"""Which values key becomes which LLaMA-Factory config key, for train, export and api.

One list per kind: the chart writes a config file line per entry (under its condition),
and the values check refuses an `extra` key that one of these entries already writes.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.model.expr import (
    Builtin,
    Call,
    EntryValue,
    Expr,
    Literal,
    Value,
    and_,
    default,
    entry_key,
    eq,
    go_truth,
    gt,
    join,
    num,
    path_join,
    printf,
)

# LLaMA-Factory's image keeps its example DeepSpeed configs here.
DEEPSPEED_CONFIG = "/app/examples/deepspeed/ds_%s_config.json"
# The image's own dataset_info.json (alpaca_en_demo, identity, ...).
IMAGE_DATASET_DIR = "/app/data"
# Where a Job's ConfigMap is mounted: its config file and any dataset_info.json.
CONFIG_DIR = "/config"


ALWAYS = "(always set)"


@dataclass(frozen=True)
class ConfigLine:
    key: str
    """The LLaMA-Factory key."""
    value: Expr
    source: str
    """The values key (below the run) a user changes instead of `extra`."""
    when: Expr | None = None


def ternary(if_true: Expr, if_false: Expr, condition: Expr) -> Expr:
    """Sprig's ternary wants a boolean: any value counts by Go's truth."""
    truth = Call("not", (Call("empty", (condition,), lambda x: not go_truth(x)),),
                 lambda empty: not empty)
    return Call("ternary", (if_true, if_false, truth), lambda a, b, c: a if c else b)


TRUE = Builtin("true", lambda scope: True)


def _train_lines() -> tuple[ConfigLine, ...]:
    def run(path: str) -> EntryValue:
        return EntryValue("run", "train", path)

    lora, freeze = eq(run("method"), "lora"), eq(run("method"), "freeze")
    name = entry_key("run")
    dataset_dir = default(
        ternary(Literal(CONFIG_DIR), Literal(IMAGE_DATASET_DIR), run("datasetInfo")),
        run("datasetDir"),
    )
    output = path_join(Value("storage.output.mountPath"),
                       default(printf("train/%s", name), run("outputDir")))
    return (
        ConfigLine("model_name_or_path", run("model"), "model"),
        ConfigLine("stage", run("stage"), "stage"),
        ConfigLine("do_train", TRUE, ALWAYS),
        ConfigLine("finetuning_type", run("method"), "method"),
        ConfigLine("lora_rank", run("lora.rank"), "lora.rank", lora),
        ConfigLine("lora_alpha", run("lora.alpha"), "lora.alpha",
                   and_(lora, gt(run("lora.alpha"), num(0)))),
        ConfigLine("lora_dropout", run("lora.dropout"), "lora.dropout", lora),
        ConfigLine("lora_target", run("lora.target"), "lora.target", lora),
        ConfigLine("freeze_trainable_layers", run("freeze.trainableLayers"),
                   "freeze.trainableLayers", freeze),
        ConfigLine("freeze_trainable_modules", run("freeze.trainableModules"),
                   "freeze.trainableModules", freeze),
        ConfigLine("dataset", join(",", run("datasets")), "datasets"),
        ConfigLine("dataset_dir", dataset_dir, "datasetDir"),
        ConfigLine("template", run("template"), "template"),
        ConfigLine("cutoff_len", run("cutoffLen"), "cutoffLen"),
        ConfigLine("max_samples", run("maxSamples"), "maxSamples",
                   gt(run("maxSamples"), num(0))),
        ConfigLine("output_dir", output, "outputDir"),
        ConfigLine("per_device_train_batch_size", run("batchSize"), "batchSize"),
        ConfigLine("gradient_accumulation_steps", run("gradientAccumulation"),
                   "gradientAccumulation"),
        ConfigLine("learning_rate", run("learningRate"), "learningRate"),
        ConfigLine("num_train_epochs", run("epochs"), "epochs"),
        ConfigLine("max_steps", run("maxSteps"), "maxSteps", gt(run("maxSteps"), num(0))),
        ConfigLine("lr_scheduler_type", run("scheduler"), "scheduler"),
        ConfigLine("warmup_steps", run("warmup"), "warmup"),
        ConfigLine("bf16", TRUE, "precision", eq(run("precision"), "bf16")),
        ConfigLine("fp16", TRUE, "precision", eq(run("precision"), "fp16")),
        ConfigLine("deepspeed", printf(DEEPSPEED_CONFIG, run("deepspeed")), "deepspeed",
                   run("deepspeed")),
        ConfigLine("report_to", run("reportTo"), "reportTo"),
        ConfigLine("logging_steps", run("loggingSteps"), "loggingSteps"),
        ConfigLine("save_steps", run("saveSteps"), "saveSteps"),
        # Nodes share the chart's volumes: only the first one preprocesses the data.
        ConfigLine("data_shared_file_system", TRUE, "nodes", gt(run("nodes"), num(1))),
    )


def _export_lines() -> tuple[ConfigLine, ...]:
    def export(path: str) -> EntryValue:
        return EntryValue("export", "export", path)

    name = entry_key("export")
    export_dir = path_join(Value("storage.output.mountPath"),
                           default(printf("models/%s", name), export("exportDir")))
    return (
        ConfigLine("model_name_or_path", export("model"), "model"),
        ConfigLine("adapter_name_or_path", export("adapter"), "adapter", export("adapter")),
        ConfigLine("template", export("template"), "template"),
        ConfigLine("finetuning_type", export("method"), "method"),
        ConfigLine("export_dir", export_dir, "exportDir"),
        ConfigLine("export_size", export("shardSize"), "shardSize"),
        ConfigLine("export_device", export("device"), "device"),
        ConfigLine("export_legacy_format", export("legacyFormat"), "legacyFormat"),
    )


def _api_lines() -> tuple[ConfigLine, ...]:
    def api(path: str) -> Value:
        return Value("api." + path)

    return (
        ConfigLine("model_name_or_path", api("model"), "model"),
        ConfigLine("adapter_name_or_path", api("adapter"), "adapter", api("adapter")),
        ConfigLine("template", api("template"), "template"),
        ConfigLine("finetuning_type", api("method"), "method", api("adapter")),
        ConfigLine("infer_backend", api("backend"), "backend"),
    )


TRAIN_CONFIG = _train_lines()
EXPORT_CONFIG = _export_lines()
API_CONFIG = _api_lines()
CONFIG_LINES = {"train": TRAIN_CONFIG, "export": EXPORT_CONFIG, "api": API_CONFIG}


def typed_keys(kind: str) -> tuple[str, ...]:
    """The LLaMA-Factory keys the chart writes for this kind, which `extra` may not set."""
    return tuple(dict.fromkeys(line.key for line in CONFIG_LINES[kind]))


def written_by_chart(kind: str, key: str) -> str | None:
    """The values key that writes this LLaMA-Factory key, if the chart writes it."""
    for line in CONFIG_LINES[kind]:
        if line.key == key:
            return line.source
    return None


__all__ = ["ALWAYS", "CONFIG_DIR", "CONFIG_LINES", "ConfigLine", "typed_keys",
           "written_by_chart"]
