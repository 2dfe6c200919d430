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
from lmfchart.model.schema import values_schema
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import helm_run, parse_stream
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
    "env-gradio-always-set": (
        "env:\n  GRADIO_SERVER_NAME: x\n", "2: env.GRADIO_SERVER_NAME",
        "GRADIO_SERVER_NAME is set by the chart ((always set)); change that key instead of env"),
    "env-root-path": (
        "ingress:\n  enabled: true\n  host: a.example.com\n  path: /ui\n  allowAnonymous: true\n"
        "env:\n  GRADIO_ROOT_PATH: /x\n", "7: env.GRADIO_ROOT_PATH",
        "GRADIO_ROOT_PATH is set by the chart (ingress.path); change that key instead of env"),
    "env-modelscope": (
        "hub:\n  source: modelscope\nenv:\n  USE_MODELSCOPE_HUB: '0'\n",
        "4: env.USE_MODELSCOPE_HUB",
        "USE_MODELSCOPE_HUB is set by the chart (hub.source); change that key instead of env"),
    "env-openmind": (
        "hub:\n  source: openmind\nenv:\n  USE_OPENMIND_HUB: '0'\n", "4: env.USE_OPENMIND_HUB",
        "USE_OPENMIND_HUB is set by the chart (hub.source); change that key instead of env"),
    "env-proxies": (
        "proxy:\n  httpProxy: http://p:3128\n  httpsProxy: http://p:3128\n"
        "env:\n  HTTP_PROXY: x\n  HTTPS_PROXY: z\n", "5: env.HTTP_PROXY",
        "HTTP_PROXY is set by the chart (proxy.httpProxy); change that key instead of env\n"
        "{file}:6: env.HTTPS_PROXY: HTTPS_PROXY is set by the chart (proxy.httpsProxy); "
        "change that key instead of env"),
    "mount-after-a-disabled-volume": (
        "storage:\n  hfCache:\n    mountPath: /app/output\n", "3: storage.hfCache.mountPath",
        "mountPath '/app/output' is already used by storage.output"),
    "two-control-characters-in-a-list": (
        'command: ["a\\x01", "b\\x02"]\n', "1: command[0]",
        "contains the control character U+0001 at position 1; only printable text, tabs and "
        "newlines are allowed\n{file}:1: command[1]: contains the control character U+0002 at "
        "position 1; only printable text, tabs and newlines are allowed"),
    "first-list-item-named": (
        "command: [5]\n", "1: command[0]", "Input should be a valid string"),
    "integer-beyond-float64": (
        "terminationGracePeriodSeconds: 9007199254740993\n", "1: terminationGracePeriodSeconds",
        "9007199254740993 is too large: Helm holds numbers as 64-bit floats and would change "
        "it; quote it if it is text"),
}


@pytest.mark.parametrize("name", sorted(CROSS_CHECKS))
def test_cross_check_message_in_full(name: str, tmp_path: Path) -> None:
    text, where, message = CROSS_CHECKS[name]
    values = tmp_path / "values.yaml"
    values.write_text(text)
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 1, done.output
    message = message.replace("{file}", str(values))
    assert (done.stdout, done.stderr) == ("", f"error: {values}:{where}: {message}\n")


@pytest.mark.parametrize("text", [
    "storage:\n  data:\n    mountPath: /app/saves\n",  # type none: mounts nothing
    "ingress:\n  path: /ui\nenv:\n  GRADIO_ROOT_PATH: /x\n",  # no Ingress, no root path
    "terminationGracePeriodSeconds: 9007199254740992\n",  # 2**53 is exact in a float64
])
def test_values_near_a_rule_are_accepted(text: str, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(text)
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 0, done.output


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


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("# seed\nvolume:\n  data: relative\n", 3,
         "expected an absolute path starting with '/', got 'relative'"),
        ("command: []\n\nimage: 'team/img:bad tag'\n", 3, "got 'bad tag'"),
        ("image: kubeagi/llama-factory:v0.6.1\n\nimagePullPolicy: Sometimes\n", 3,
         "Input should be 'Always', 'IfNotPresent' or 'Never'"),
    ],
)
def test_seed_layout_values_are_blamed_on_their_line(
    text: str, line: int, message: str, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(text)
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 1, done.output
    assert done.stderr.startswith(f"error: {values}:{line}: ")
    assert done.stderr.rstrip("\n").endswith(message)


def test_each_seed_layout_file_is_announced(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("image: kubeagi/llama-factory:v0.6.1\nimagePullPolicy: Always\n")
    second.write_text("ingress:\n  enable: false\n")
    done = runner.invoke(app, ["template", "-f", str(first), "-f", str(second)])
    assert done.exit_code == 0, done.output
    notes = [line for line in done.stderr.splitlines() if "seed chart's layout" in line]
    assert notes == [
        f"note: {first}: read in the seed chart's layout (seedCompatibility: true)",
        f"note: {second}: read in the seed chart's layout (seedCompatibility: true)",
    ]
    deployment = next(o for o in parse_stream(done.stdout) if o["kind"] == "Deployment")
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "lmf-llama-factory"}}
    assert deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"


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
                               "--set", "ingress.allowAnonymous=true",
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


@pytest.fixture
def schema_validator() -> Any:
    # Built afresh for each test rather than from the process-wide cache, so mutation
    # testing sees that every one of these tests reads the schema.
    values_schema.cache_clear()
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


# --set mistakes helm refuses as well, and what lmfchart says about each.
REFUSED_SETS = {
    "a[65537]=x": "list index 65537 is larger than 65536",
    "tags={a,b": "a list must end with '}'",
    "a[0]x=1": "unexpected 'x' after a list index",
    "a,": "key 'a' has no value (cannot end with ',')",
    "a=1,,b=2": "key '' has no value (cannot end with ',')",
    "a..b=1": "empty key name",
    "a": "key 'a' has no value (expected KEY=VALUE)",
}


@pytest.mark.parametrize("expression", sorted(REFUSED_SETS))
def test_set_mistake_is_a_usage_error(expression: str) -> None:
    done = runner.invoke(app, ["template", "--set", expression])
    assert done.exit_code == 2, done.output
    assert done.stderr == f"error: --set {expression!r}: {REFUSED_SETS[expression]}\n"


@pytest.mark.helm
@pytest.mark.parametrize("expression", sorted(REFUSED_SETS))
def test_helm_refuses_the_same_set_mistakes(expression: str, helm4: Path, tmp_path: Path) -> None:
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    done = helm_run(helm4, "template", "x", str(chart), "--set", expression)
    assert done.returncode != 0, done.stdout


def test_index_limit_and_nesting_limit_boundaries() -> None:
    # Helm counts levels by dots: 31 keys (30 dots) is the most --set takes.
    deepest = ".".join(["k"] * 31) + "=1"
    assert runner.invoke(app, ["template", "--set", "a[65536]=x"]).exit_code == 1
    assert runner.invoke(app, ["template", "--set", deepest]).exit_code == 1
    too_deep = runner.invoke(app, ["template", "--set", "k." + deepest])
    assert too_deep.exit_code == 2
    assert too_deep.stderr.endswith(": keys nest deeper than 30 levels\n")
