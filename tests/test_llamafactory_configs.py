"""Every config file the chart writes is one LLaMA-Factory's own parser accepts.

The configs of every example, and of runs generated over the typed keys (methods, stages,
precisions, nodes, extra keys), are rendered by lmfchart and fed to the pinned
LLaMA-Factory's `llamafactory-cli` code paths (tests/support/llamafactory.py) as it reads
a file. A `deepspeed` line is taken out before parsing: the parser would import DeepSpeed
(not in the oracle's venv) and open the preset file, which exists only inside the image.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, example_values
from tests.support import llamafactory
from tests.support.charts import lmf_objects

pytestmark = pytest.mark.llamafactory

COMPONENT_KIND = {"train": "train", "export": "export", "api": "api"}
OUTPUT = {"storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}}}


def _configs(objects: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(object name, kind, config text) of every workload ConfigMap."""
    found = []
    for obj in objects:
        component = obj["metadata"]["labels"].get("app.kubernetes.io/component")
        if obj["kind"] == "ConfigMap" and component in COMPONENT_KIND:
            found.append((obj["metadata"]["name"], component,
                          obj["data"][f"{component}.yaml"]))
    return found


def _without_deepspeed(text: str) -> str:
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("deepspeed: ")]
    assert len(lines) - len(kept) <= 1
    return "".join(kept)


def _parse(configs: list[tuple[str, str, str]]) -> dict[str, str]:
    results = llamafactory.parse_configs(
        [(kind, _without_deepspeed(text)) for _, kind, text in configs])  # type: ignore[misc]
    return {name: result.error for (name, _, _), result in zip(configs, results, strict=True)
            if not result.ok}


def _generated_runs() -> dict[str, Any]:
    runs: dict[str, Any] = {}
    shapes = itertools.product(
        ("lora", "freeze", "full"), ("sft", "pt", "rm", "dpo", "kto", "ppo"),
        ("bf16", "fp16", "fp32"))
    for i, (method, stage, precision) in enumerate(shapes):
        run: dict[str, Any] = {
            "model": "Qwen/Qwen3-0.6B", "method": method, "stage": stage,
            "precision": precision, "datasets": ["identity", "alpaca_en_demo"],
            "template": ("qwen3", "llama3", "default")[i % 3],
            "epochs": (1, 2.5, 50)[i % 3], "maxSteps": (0, 20)[i % 2],
            "maxSamples": (0, 100)[i % 2], "warmup": (0, 0.1, 10)[i % 3],
            "learningRate": (1.0e-4, 5.0e-5, 2.0e-6)[i % 3], "nodes": (1, 2)[i % 2],
            "gpus": (1, 4)[i % 2], "lora": {"rank": 16, "alpha": 32, "dropout": 0.05,
                                           "target": "q_proj,v_proj"},
            "freeze": {"trainableLayers": -2, "trainableModules": "mlp"},
            "reportTo": [("none", "tensorboard")[i % 2]],
        }
        if stage == "ppo":
            run["extra"] = {"reward_model": "/app/output/train/rm", "reward_model_type": "full"}
        if i % 4 == 0:
            run["datasetInfo"] = {"identity": {"file_name": "/app/shared_data/identity.json"},
                                  "alpaca_en_demo": {"file_name": "/app/shared_data/a.json",
                                                     "formatting": "alpaca"}}
        if i % 5 == 0:
            run.setdefault("extra", {}).update({"val_size": 0.1, "plot_loss": False,
                                                "flash_attn": "auto"})
        runs[f"g{i}"] = run
    return runs


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_config_passes_llamafactorys_parser(example: str) -> None:
    configs = _configs(lmf_objects("lmf", "ml", files=[str(example_values(example))]))
    assert _parse(configs) == {}


def test_generated_configs_pass_llamafactorys_parser(tmp_path: Path) -> None:
    values = tmp_path / "runs.yaml"
    exports = {
        "lora": {"model": "Qwen/Qwen3-0.6B", "adapter": "/app/output/train/g0",
                 "shardSize": 1, "device": "auto", "legacyFormat": True},
        "plain": {"model": "/root/.cache/huggingface/models/x", "method": "full",
                  "exportDir": "models/x-copy", "extra": {"export_hub_model_id": "me/x"}},
    }
    values.write_text(yaml.safe_dump({**OUTPUT, "train": _generated_runs(),
                                      "export": exports,
                                      "api": {"enabled": True, "model": "Qwen/Qwen3-0.6B",
                                              "adapter": "/app/output/train/g0",
                                              "template": "qwen3"}}))
    configs = _configs(lmf_objects("lmf", "ml", files=[str(values)]))
    assert len(configs) == 54 + 2 + 1
    assert _parse(configs) == {}
