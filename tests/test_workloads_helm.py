"""Training runs, exports and the API: what helm renders from a user's partial entries.

A user adds `train.NAME` with a few keys; the chart's values.yaml cannot hold defaults for
entries it does not know, so the chart fills them in itself. Helm must then render exactly
the objects lmfchart renders, and each run's config file byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.charts import by_identity, helm_objects, helm_run, lmf_objects, render_chart_dir

pytestmark = pytest.mark.helm

PARTIAL = {
    "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
    "secrets": {"hfToken": {"name": "hub"}, "wandbApiKey": {"name": "trackers", "key": "wandb"}},
    "train": {
        "one": {"model": "/root/.cache/huggingface/models/tiny", "datasets": ["alpaca_en_demo"],
                "learningRate": 5.0e-5, "gpus": 2, "lora": {"dropout": 0.05}},
        "multi": {"model": "Qwen/Qwen3-0.6B", "datasets": ["mine"],
                  "datasetInfo": {"mine": {"file_name": "/app/shared_data/mine.json",
                                           "columns": {"prompt": "q", "response": "a"}}},
                  "nodes": 2, "extra": {"val_size": 0.1, "plot_loss": True},
                  "ttlSecondsAfterFinished": 0},
        "kf": {"model": "Qwen/Qwen3-0.6B", "datasets": ["identity", "alpaca_en_demo"],
               "nodes": 3, "gpus": 4, "engine": "pytorchjob", "method": "freeze",
               "freeze": {"trainableLayers": -2}, "precision": "fp16", "maxSteps": 1000000,
               "deepspeed": "z3_offload", "reportTo": ["tensorboard", "wandb"]},
    },
    "export": {"merged": {"model": "Qwen/Qwen3-0.6B", "adapter": "/app/output/train/one",
                          "extra": {"export_hub_model_id": "me/merged"}}},
    "api": {"enabled": True, "model": "/app/output/models/merged", "modelName": "merged",
            "apiKeySecret": {"name": "api-key"}},
}


def _write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_partial_entries_render_as_lmfchart_renders_them(helm: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    values = _write(tmp_path, "runs.yaml", PARTIAL)
    expected = by_identity(lmf_objects("lmf", "ml", files=[values]))
    actual = by_identity(helm_objects(helm, chart, "lmf", "ml", extra=["-f", values]))
    assert actual == expected
    kinds = sorted(kind for _, kind, _ in actual)
    assert kinds.count("Job") == 3 and kinds.count("PyTorchJob") == 1
    assert kinds.count("ConfigMap") == 5


def test_set_adds_a_run_like_lmfchart(helm: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    base = _write(tmp_path, "base.yaml", {"storage": {"output": {"type": "hostPath",
                                                                  "hostPath": "/data/out"}}})
    sets = ["train.quick.model=Qwen/Qwen3-0.6B", "train.quick.datasets[0]=identity",
            "train.quick.epochs=2", "train.quick.warmup=0"]
    flags = [f for s in sets for f in ("--set", s)]
    expected = by_identity(lmf_objects("lmf", "ml", files=[base], sets=sets))
    actual = by_identity(helm_objects(helm, chart, "lmf", "ml", extra=["-f", base, *flags]))
    assert actual == expected
    config = actual[("v1", "ConfigMap", "lmf-llama-factory-train-quick")]["data"]["train.yaml"]
    assert "num_train_epochs: 2\n" in config and "warmup_steps: 0\n" in config


def test_changed_run_gets_a_new_job_name_unchanged_keeps_it(helm: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    values = _write(tmp_path, "runs.yaml", PARTIAL)

    def job_names(*sets: str) -> set[str]:
        flags = [f for s in sets for f in ("--set", s)]
        objects = helm_objects(helm, chart, "lmf", "ml", extra=["-f", values, *flags])
        return {o["metadata"]["name"] for o in objects if o["kind"] in ("Job", "PyTorchJob")}

    before = job_names()
    assert job_names() == before
    after = job_names("train.one.epochs=4")
    changed = before - after
    assert len(changed) == 1 and next(iter(changed)).startswith("lmf-llama-factory-train-one-")
    rerun = job_names("export.merged.rerun=1")
    assert len(before - rerun) == 1 and next(iter(before - rerun)).startswith(
        "lmf-llama-factory-export-merged-")


@pytest.mark.parametrize(
    ("sets", "complaint"),
    [
        (["train.x.model=Qwen/Qwen3-0.6B"], "datasets"),
        (["train.x.model=Qwen/Qwen3-0.6B", "train.x.datasets[0]=a", "train.x.stage=foo"],
         "stage"),
        (["train.x.model=Qwen/Qwen3-0.6B", "train.x.datasets[0]=a",
          "train.x.lora.rank=eight"], "rank"),
        (["train.Bad_Name.model=Qwen/Qwen3-0.6B"], "Bad_Name"),
    ],
)
def test_schema_refuses_bad_runs(sets: list[str], complaint: str, helm: Path,
                                 tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    done = helm_run(helm, "template", "lmf", str(chart),
                    *[f for s in sets for f in ("--set", s)])
    assert done.returncode != 0
    assert complaint in done.stderr, done.stderr
