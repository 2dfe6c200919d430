"""The GPU smoke run (docs/gpu-run.md) relies on the chart; these checks keep that true in CI.

The run needs a GPU machine. What it relies on does not: the configs and pod settings that
`scripts/gpu_smoke/render_configs.py` extracts from `lmfchart template`, every path they
name lying on a volume the pod mounts, the export merging the adapter the run writes, the
data `make_dataset.py` writes being what the rendered `dataset_info.json` names, and the
ranks of a two-node run coming from each pod's completion index.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

SCRIPTS = REPO / "scripts" / "gpu_smoke"
CONFIG_PATH_KEYS = {
    "train": ("model_name_or_path", "output_dir"),
    "export": ("model_name_or_path", "adapter_name_or_path", "export_dir"),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered")
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "render_configs.py"), str(out)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def kind(pod: str) -> str:
    return "export" if pod == "export" else "train"


def config(rendered: Path, pod: str) -> dict[str, object]:
    loaded = yaml.safe_load((rendered / pod / "configmap" / f"{kind(pod)}.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def dataset_files(rendered: Path, pod: str) -> dict[str, str]:
    info = json.loads((rendered / pod / "configmap" / "dataset_info.json").read_text())
    return {name: entry["file_name"] for name, entry in info.items()}


def on_a_volume(rendered: Path, pod: str, path: str) -> bool:
    mounts = (rendered / pod / "mounts").read_text().split()
    return any(path.startswith(mount.rstrip("/") + "/") for mount in mounts)


@pytest.mark.parametrize("pod", ["train", "export", "train-2nodes"])
def test_every_path_a_config_names_lies_on_a_volume_of_its_pod(rendered: Path, pod: str) -> None:
    values = config(rendered, pod)
    paths = [str(values[key]) for key in CONFIG_PATH_KEYS[kind(pod)]]
    if kind(pod) == "train":
        paths += dataset_files(rendered, pod).values()
    assert [path for path in paths if not on_a_volume(rendered, pod, path)] == []


def test_the_export_merges_the_adapter_the_training_run_writes(rendered: Path) -> None:
    train, export = config(rendered, "train"), config(rendered, "export")
    assert export["adapter_name_or_path"] == train["output_dir"]
    assert export["model_name_or_path"] == train["model_name_or_path"]
    assert (export["finetuning_type"], export["template"]) == ("lora", train["template"])


def test_the_dataset_script_writes_the_file_the_rendered_config_reads(
    rendered: Path, tmp_path: Path
) -> None:
    train = config(rendered, "train")
    ((name, file_name),) = dataset_files(rendered, "train").items()
    assert train["dataset"] == name
    # The config's file lands under tmp_path, at the same place below the data volume.
    data_file = tmp_path / file_name.lstrip("/")
    subprocess.run(
        [sys.executable, str(SCRIPTS / "make_dataset.py"), str(data_file.parent),
         "--name", data_file.stem],
        capture_output=True, check=True,
    )
    rows = json.loads(data_file.read_text())
    assert len(rows) == 20
    assert all(set(row) == {"instruction", "input", "output"} for row in rows)


def pod_env(rendered: Path, pod: str, index: int) -> dict[str, str]:
    script = f'JOB_COMPLETION_INDEX={index}; source "$1"; env -0'
    result = subprocess.run(
        ["bash", "-c", script, "_", str(rendered / pod / "pod.env")],
        capture_output=True, check=True, env={"PATH": "/usr/bin:/bin"},
    )
    return dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if item)


@pytest.mark.parametrize("index", [0, 1])
def test_each_pod_of_a_two_node_run_takes_its_rank_from_its_completion_index(
    rendered: Path, index: int
) -> None:
    env = pod_env(rendered, "train-2nodes", index)
    launcher = {key: env.get(key) for key in ("FORCE_TORCHRUN", "NNODES", "NODE_RANK", "RANK",
                                              "NPROC_PER_NODE")}
    assert launcher == {"FORCE_TORCHRUN": "1", "NNODES": "2", "NODE_RANK": str(index),
                        "RANK": str(index), "NPROC_PER_NODE": "1"}
    assert env["MASTER_ADDR"].split(".")[0].endswith("-0")
    assert config(rendered, "train-2nodes")["data_shared_file_system"] is True


def test_a_one_node_run_starts_no_distributed_launch(rendered: Path) -> None:
    env = pod_env(rendered, "train", 0)
    assert not {"FORCE_TORCHRUN", "NNODES", "NODE_RANK"} & set(env)
    assert "data_shared_file_system" not in config(rendered, "train")
    assert (rendered / "train" / "gpus").read_text().strip() == "1"
    assert (rendered / "export" / "gpus").read_text().strip() == "0"


def test_a_pod_of_two_gpus_launches_one_process_per_gpu(rendered: Path) -> None:
    env = pod_env(rendered, "train-2gpus", 0)
    assert (env.get("FORCE_TORCHRUN"), env.get("NPROC_PER_NODE")) == ("1", "2")
    assert "NNODES" not in env
    assert (rendered / "train-2gpus" / "gpus").read_text().strip() == "2"
