"""Behaviour that mutation testing (mutmut, README "Tests") showed no fast test pinned:
whole messages of the cross-key checks, length limits, and the schema Helm users get."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.inputs.setvalues import apply_set
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import parse_stream
from tests.support.wrong_values import WRONG_VALUES, with_value

runner = CliRunner()

# (values file, line and key blamed, the whole message)
CROSS_CHECKS = {
    "ingress-without-host": (
        "ingress:\n  enabled: true\n", "1: ingress",
        "ingress.enabled is true but neither ingress.host nor ingress.domain is set: give one "
        "so the Ingress has a host"),
    "tls-without-host": (
        "ingress:\n  tls:\n    secretName: s\n", "3: ingress.tls.secretName",
        "TLS needs a host: set ingress.host or ingress.domain"),
    "hostPath-without-path": (
        "storage:\n  data:\n    type: hostPath\n", "2: storage.data.hostPath",
        "type hostPath needs hostPath, an absolute folder on the node"),
    "existingClaim-without-name": (
        "storage:\n  data:\n    type: existingClaim\n", "2: storage.data.existingClaim",
        "type existingClaim needs the name of an existing PersistentVolumeClaim"),
    "mount-path-with-trailing-slash": (
        "storage:\n  data:\n    type: emptyDir\n    mountPath: /app/saves/\n",
        "4: storage.data.mountPath", "mountPath '/app/saves/' is already used by storage.saves"),
    "mount-over-shm": (
        "storage:\n  output:\n    mountPath: /dev/shm\n", "3: storage.output.mountPath",
        "mountPath '/dev/shm' is already used by shm"),
    "empty-tag": (
        "image:\n  tag: ''\n", "2: image.tag",
        "an empty image.tag needs image.digest: the image would be 'hiyouga/llamafactory:', "
        "which no registry can pull"),
    "no-command": (
        "command: []\n", "1: command",
        "hiyouga/llamafactory images have no start command: set command, e.g. "
        "[llamafactory-cli, webui]"),
    "gpu-twice": (
        "gpu:\n  count: 1\nresources:\n  requests:\n    nvidia.com/gpu: 1\n",
        "5: resources.requests.nvidia\\.com/gpu",
        "gpu.count is 1 and resources.requests also names nvidia.com/gpu: set GPUs in one "
        "place only (gpu.count)"),
    "env-set-by-chart": (
        "env:\n  HF_ENDPOINT: x\nhub:\n  hfEndpoint: https://m.example\n", "2: env.HF_ENDPOINT",
        "HF_ENDPOINT is set by the chart (hub.hfEndpoint); change that key instead of env"),
}


@pytest.mark.parametrize("name", sorted(CROSS_CHECKS))
def test_cross_check_message_in_full(name: str, tmp_path: Path) -> None:
    text, where, message = CROSS_CHECKS[name]
    values = tmp_path / "values.yaml"
    values.write_text(text)
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 1, done.output
    assert (done.stdout, done.stderr) == ("", f"error: {values}:{where}: {message}\n")


# Seed-layout files: mistakes the translation itself finds, named as the user wrote them.
SEED_LAYOUT_ERRORS = {
    "volume-not-a-map": (
        "volume: [a]\n", "1: volume", "expected a mapping of hfcache, data, output paths"),
    "unknown-seed-volume": (
        "volume:\n  models: /x\n", "2: volume.models",
        "unknown seed volume: expected one of hfcache, data, output"),
    "seed-volume-not-text": (
        "volume:\n  data: 5\n", "2: volume.data", "expected a host path string, got 5"),
    "pull-policy-twice": (
        "imagePullPolicy: Always\nimage:\n  pullPolicy: Never\n", "1: imagePullPolicy",
        "given twice: as imagePullPolicy (seed layout) and image.pullPolicy; keep one"),
    "pull-policy-beside-a-list": (
        "imagePullPolicy: Always\nimage: [x]\n", "2: image",
        "expected a mapping or repo:tag string"),
    "ingress-enable-twice": (
        "ingress:\n  enable: true\n  enabled: true\n", "2: ingress.enable",
        "given twice: as ingress.enable (seed layout) and ingress.enabled; keep one"),
}


@pytest.mark.parametrize("name", sorted(SEED_LAYOUT_ERRORS))
def test_seed_layout_mistake_message_in_full(name: str, tmp_path: Path) -> None:
    text, where, message = SEED_LAYOUT_ERRORS[name]
    values = tmp_path / "values.yaml"
    values.write_text(text)
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 1, done.output
    assert (done.stdout, done.stderr) == ("", f"error: {values}:{where}: {message}\n")


def test_seed_host_path_becomes_a_directory_volume(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("image: kubeagi/llama-factory:v0.6.1\nvolume:\n  output: /data/out\n")
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 0, done.output
    pod = next(o for o in parse_stream(done.stdout) if o["kind"] == "Deployment")[
        "spec"]["template"]["spec"]
    assert {"name": "output", "hostPath": {"path": "/data/out", "type": "Directory"}} in pod[
        "volumes"]
    assert {"name": "output", "mountPath": "/app/output"} in pod["containers"][0][
        "volumeMounts"]
    assert "command" not in pod["containers"][0]
    assert "seed chart's layout" in done.stderr


def test_without_shm_a_volume_may_use_dev_shm() -> None:
    done = runner.invoke(app, ["template", "--set", "shm.enabled=false",
                               "--set", "storage.output.mountPath=/dev/shm"])
    assert done.exit_code == 0, done.output
    pod = next(o for o in parse_stream(done.stdout) if o["kind"] == "Deployment")[
        "spec"]["template"]["spec"]
    assert {"name": "output", "mountPath": "/dev/shm"} in pod["containers"][0]["volumeMounts"]


@pytest.mark.parametrize(("length", "accepted"), [(199, True), (200, False)])
def test_ingress_domain_leaves_room_for_the_release_name(length: int, accepted: bool) -> None:
    labels = ["a" * 63, "b" * 63, "c" * 63]
    domain = ".".join([*labels, "d" * (length - 3 * 64)])
    assert len(domain) == length
    done = runner.invoke(app, ["template", "--set", "ingress.enabled=true",
                               "--set", f"ingress.domain={domain}"])
    if accepted:
        assert done.exit_code == 0, done.output
        ingress = next(o for o in parse_stream(done.stdout) if o["kind"] == "Ingress")
        assert ingress["spec"]["rules"][0]["host"] == f"lmf.{domain}"
    else:
        assert done.exit_code == 1
        assert done.stderr == (
            "error: --set: ingress.domain: expected a domain of at most 199 characters\n"
        )


# --- the chart's values.schema.json, as `lmfchart schema` prints it -------------------------


@pytest.fixture(scope="module")
def schema_validator() -> Any:
    done = runner.invoke(app, ["schema"])
    assert done.exit_code == 0, done.output
    schema = json.loads(done.stdout)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def chart_values(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """values.yaml of the chart rendered from each example: what Helm validates."""
    found = {}
    for example in EXAMPLES:
        out = tmp_path_factory.mktemp(example) / "chart"
        done = runner.invoke(app, ["render", "-f", str(example_values(example)), "-o", str(out)])
        assert done.exit_code == 0, done.output
        found[example] = yaml.safe_load((out / "values.yaml").read_text())
    return found


def test_schema_accepts_every_rendered_chart(
    schema_validator: Any, chart_values: dict[str, dict[str, Any]]
) -> None:
    for example, values in chart_values.items():
        assert list(schema_validator.iter_errors(values)) == [], example


@pytest.mark.parametrize(("path", "value"), WRONG_VALUES,
                         ids=[".".join(p) for p, _ in WRONG_VALUES])
def test_schema_refuses_what_lmfchart_refuses(
    path: tuple[str, ...], value: Any, schema_validator: Any,
    chart_values: dict[str, dict[str, Any]], tmp_path: Path,
) -> None:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(with_value({}, path, value)))
    assert runner.invoke(app, ["template", "-f", str(values_file)]).exit_code == 1
    for example, values in chart_values.items():
        wrong = with_value(copy.deepcopy(values), path, value)
        assert not schema_validator.is_valid(wrong), (example, path, value)


@pytest.mark.parametrize("path", [("image", "tag"), ("storage", "saves"), ("probes",)])
def test_schema_refuses_a_key_nulled_out(
    path: tuple[str, ...], schema_validator: Any, chart_values: dict[str, dict[str, Any]]
) -> None:
    """`--set image.tag=null` deletes the key: every key the chart reads must be there."""
    values = copy.deepcopy(chart_values["gpu-pvc"])
    parent = values
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    assert not schema_validator.is_valid(values)


# --- --set expressions the parity test in test_yaml_reading.py does not cover -----------------

MORE_SETS = [
    "XLA_FLAGS=aXb", "tags={a,b},after=1", "caps={X,Y}", "esc=a\\,b,next=1", "tail=a\\\\",
    "plus=+5", "x5=X5", "min=-9223372036854775808", "over=9223372036854775808",
    "under=-9223372036854775809", "objs[0].a=1,objs[0].b=2", "grid[0][0]=1,grid[0][1]=2",
    "deep[1].list[0]=x",
]


@pytest.mark.helm
def test_more_set_flags_build_the_same_values_as_helm(helm4: Path, tmp_path: Path) -> None:
    from tests.test_yaml_reading import _helm_values

    ours: dict[str, Any] = {}
    for expression in MORE_SETS:
        apply_set(ours, expression)
    flags = [part for expression in MORE_SETS for part in ("--set", expression)]
    assert ours == _helm_values(helm4, tmp_path, *flags)
