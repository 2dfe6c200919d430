"""What lmfchart's PyTorchJob relies on, read from the Kubeflow training operator's own
controller source (the pinned release, fetched at run time): which variables the operator
sets on every replica, and what they count.

LLaMA-Factory launches torchrun from NNODES (nodes), NODE_RANK, MASTER_ADDR and
MASTER_PORT; the PyTorchJob maps NNODES from PET_NNODES and NODE_RANK from PET_NODE_RANK.
WORLD_SIZE would be the wrong source for NNODES: the operator counts processes in it.
"""

from __future__ import annotations

import re

import pytest

from tests.conftest import _tool, example_values
from tests.support import kubeflow
from tests.support.charts import lmf_objects


@pytest.fixture(scope="module")
def controller_source() -> str:
    return _tool(kubeflow.pytorch_controller_source, "the Kubeflow training operator's source")


def test_operator_sets_the_variables_the_pytorchjob_maps_from(
        controller_source: str) -> None:
    env = kubeflow.operator_env(controller_source)
    print(f"{kubeflow.MODULE}@{kubeflow.VERSION} {kubeflow.PYTORCH_CONTROLLER} sets:")
    for name, values in sorted(env.items()):
        print(f"  {name} = {' | '.join(values)}")
    for name in ("PET_NNODES", "PET_NODE_RANK", "MASTER_ADDR", "MASTER_PORT", "RANK",
                 "WORLD_SIZE"):
        assert name in env, f"the operator no longer sets {name}"
    # Both ranks are the replica's node rank (Master 0, Worker i+1), not a process rank.
    assert env["PET_NODE_RANK"] == env["RANK"] == ["strconv.Itoa(rank)"]
    assert re.search(r"if rtype == .*Worker.*\{\s*rank = rank \+ 1", controller_source)
    # MASTER_ADDR is the Master replica 0's name: its Service's DNS name in the namespace.
    assert env["MASTER_ADDR"] == ["masterAddr"]
    assert re.search(r"masterAddr := replicaName\(job\.Name, \S+Master, 0\)",
                     controller_source)


def test_nnodes_counts_replicas_and_world_size_counts_processes(
        controller_source: str) -> None:
    env = kubeflow.operator_env(controller_source)
    assert "strconv.Itoa(int(totalReplicas))" in env["PET_NNODES"]
    assert re.search(r"jobReplicas \+= \*r\.Replicas", controller_source), (
        "totalReplicas is no longer the sum of the replica specs' replicas")
    assert env["WORLD_SIZE"] == ["strconv.Itoa(worldSize)"]
    world = re.search(r"worldSize := (.+)", controller_source)
    assert world is not None
    print(f"worldSize := {world.group(1)}")
    # replicas x nprocPerNode: with 2 GPUs a node, NNODES from it would be twice too many.
    assert world.group(1).strip() == "int(totalReplicas) * nprocPerNode"


def test_master_port_comes_from_the_pytorch_containers_named_port(
        controller_source: str) -> None:
    """MASTER_PORT is the port of the Master's container `pytorch` named `pytorchjob-port`
    (the operator's webhook adds 23456 when there is none): the run's masterPort reaches
    torchrun only through that port."""
    env = kubeflow.operator_env(controller_source)
    assert env["MASTER_PORT"] == ["strconv.Itoa(int(masterPort))"]
    assert re.search(r"masterPort, err := getPortFromPyTorchJob\(job, \S+Master\)",
                     controller_source)
    types = (kubeflow.module_dir() / "pkg/apis/kubeflow.org/v1/pytorch_types.go").read_text()
    constants = kubeflow.go_constants(types)
    print(f"container {constants['PyTorchJobDefaultContainerName']!r}, "
          f"port {constants['PyTorchJobDefaultPortName']!r}")
    assert constants["PyTorchJobDefaultContainerName"] == "pytorch"
    assert constants["PyTorchJobDefaultPortName"] == "pytorchjob-port"


def test_lmfchart_pytorchjob_reads_only_what_the_operator_sets(controller_source: str) -> None:
    env = kubeflow.operator_env(controller_source)
    types = kubeflow.go_constants(
        (kubeflow.module_dir() / "pkg/apis/kubeflow.org/v1/pytorch_types.go").read_text())
    objects = lmf_objects("lmf", "llm", files=[str(example_values("fine-tuning"))], sets=[
        "train.kf.model=Qwen/Qwen3-0.6B,train.kf.datasets={identity},train.kf.nodes=3",
        "train.kf.engine=pytorchjob,train.kf.gpus=2,train.kf.masterPort=29511"])
    [job] = [o for o in objects if o["kind"] == "PyTorchJob"]
    assert job["spec"]["nprocPerNode"] == "2"  # so WORLD_SIZE = 3 x 2 processes
    for replica, spec in job["spec"]["pytorchReplicaSpecs"].items():
        [container] = spec["template"]["spec"]["containers"]
        assert container["name"] == types["PyTorchJobDefaultContainerName"]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports[types["PyTorchJobDefaultPortName"]] == 29511, ports
        script = container["command"][-1]
        mapped = dict(re.findall(r'(\w+)="\$(\w+)"', script))
        print(f"{replica}: {mapped}")
        assert mapped["NNODES"] == "PET_NNODES" and mapped["NODE_RANK"] == "PET_NODE_RANK"
        assert set(mapped.values()) <= set(env), "lmfchart reads a variable nobody sets"
        assert "WORLD_SIZE" not in script
        # The operator's own variables are left to it.
        own = {item["name"] for item in container.get("env") or []}
        assert not own & {"MASTER_ADDR", "MASTER_PORT", "NNODES", "NODE_RANK", "RANK"}
