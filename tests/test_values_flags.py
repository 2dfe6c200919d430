"""Value flags through the CLI: nulls, the new --set-* flags, seed-layout keys, conflicts.

Where helm can say what is right, helm says it: the chart lmfchart writes from the
defaults is given the same flags, and `lmfchart template` must print the same objects
(or both must refuse).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import example_values
from tests.support.charts import by_identity, helm_run, parse_stream, render_chart_dir

runner = CliRunner()
SEED = str(example_values("seed"))


def _template(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["template", "lmf", "-n", "ns", *args])
    return result.exit_code, result.stdout, result.stderr


def _container(stdout: str) -> dict[str, object]:
    deployment = next(o for o in parse_stream(stdout) if o["kind"] == "Deployment")
    container: dict[str, object] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


# --- nulls, judged by helm on the chart lmfchart writes -----------------------------------


@pytest.fixture(scope="module")
def default_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_chart_dir(tmp_path_factory.mktemp("defaults") / "chart")


@pytest.mark.helm
@pytest.mark.parametrize("flags", [
    ["--set", "resources.limits.cpu=null"],
    ["--set", "resources.requests.memory=null,resources.limits.memory=null"],
    ["--set-json", 'nodeSelector={"disk": "ssd"}', "--set", "resources.limits.cpu=null"],
    ["--set-literal", "env.NOTE=a,b=c"],
])
def test_accepted_nulls_and_flags_give_helms_objects(
    flags: list[str], helm: Path, default_chart: Path, tmp_path: Path
) -> None:
    code, stdout, stderr = _template(*flags)
    assert code == 0, stderr
    done = helm_run(helm, "template", "lmf", str(default_chart), "-n", "ns", *flags)
    assert done.returncode == 0, done.stderr
    assert by_identity(parse_stream(stdout)) == by_identity(parse_stream(done.stdout))


def test_null_removes_the_default_cpu_limit() -> None:
    code, stdout, stderr = _template("--set", "resources.limits.cpu=null")
    assert code == 0, stderr
    assert _container(stdout)["resources"] == {
        "limits": {"memory": "32Gi"}, "requests": {"cpu": "2", "memory": "8Gi"}}


@pytest.mark.helm
@pytest.mark.parametrize("case", [
    ("gpu:\n  count: 1\nimage:\n  tag: null\n", [], "{file}:4", "image.tag"),
    ("", ["--set", "resources.requests=null"], "--set", "resources.requests"),
    ("", ["--set", "podAnnotations=null"], "--set", "podAnnotations"),
    ("", ["--set-json", "storage.data.accessModes=null"], "--set-json",
     "storage.data.accessModes"),
])
def test_null_removing_a_required_key_is_refused_by_both(
    case: tuple[str, list[str], str, str], helm: Path, default_chart: Path, tmp_path: Path
) -> None:
    text, flags, where, key = case
    values = tmp_path / "values.yaml"
    values.write_text(text)
    code, stdout, stderr = _template("-f", str(values), *flags)
    assert (code, stdout) == (1, "")
    place = where.format(file=values)
    assert stderr.startswith(f"error: {place}: {key}: required key removed by a null"), stderr
    done = helm_run(helm, "template", "lmf", str(default_chart), "-f", str(values), *flags)
    assert done.returncode != 0
    assert key.rsplit(".", 1)[-1] in done.stderr


def test_null_without_a_default_is_refused_clearly() -> None:
    code, stdout, stderr = _template("--set", "env.FOO=null")
    assert (code, stdout) == (1, "")
    assert stderr.startswith("error: --set: env.FOO: null is not allowed here")


def test_nested_nulls_in_a_file_remove_only_defaults(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("resources:\n  requests:\n    cpu: null\n    gpu: null\n")
    code, _, stderr = _template("-f", str(values))
    assert code == 1
    # cpu had a default and is gone; gpu had none, so its null stays and is judged.
    assert stderr.startswith(f"error: {values}:4: resources.requests.gpu: null is not allowed")
    assert "resources.requests.cpu" not in stderr


# --- the new flags ---------------------------------------------------------------------


def test_set_file_reads_the_value_from_a_file(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("two words, one comma")
    code, stdout, stderr = _template("--set-file", f"env.NOTE={note}")
    assert code == 0, stderr
    assert {"name": "NOTE", "value": "two words, one comma"} in _container(stdout)["env"]


def test_set_file_error_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "gone.txt"
    code, stdout, stderr = _template("--set-file", f"env.NOTE={missing}")
    assert (code, stdout) == (2, "")
    assert stderr == f"error: --set-file 'env.NOTE={missing}': {missing}: file not found\n"


def test_flags_apply_in_helms_order() -> None:
    # Helm: --set-json, then --set, --set-string, --set-file, --set-literal, whatever the
    # order on the command line.
    code, stdout, stderr = _template(
        "--set-literal", "env.A=literal", "--set", "env.A=set", "--set-json", 'env.B="json"',
        "--set", "env.B=set")
    assert code == 0, stderr
    env = _container(stdout)["env"]
    assert {"name": "A", "value": "literal"} in env
    assert {"name": "B", "value": "set"} in env


def test_bad_json_names_flag_and_expression() -> None:
    code, _, stderr = _template("--set-json", "env.A={nope}")
    assert code == 2
    assert stderr.startswith("error: --set-json 'env.A={nope}': env.A: not valid JSON")


@pytest.mark.parametrize(("flags", "key"), [
    (["--set", "env=x,env.A=1"], "env"),
    (["--set", "args[0]=x,args[0][0]=y"], "args[0]"),
    (["--set", "gpu.count=1", "--set-string", "gpu.count.x=1"], "gpu.count"),
    (["--set", "tolerations[0]=x,tolerations[0].key=y"], "tolerations[0]"),
])
def test_set_through_a_value_of_another_type_is_a_usage_error(
    flags: list[str], key: str
) -> None:
    code, stdout, stderr = _template(*flags)
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"error: {flags[-2]} {flags[-1]!r}: {key} holds "), stderr


def test_set_through_a_file_value_of_another_type(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("env: plain\n")
    code, _, stderr = _template("-f", str(values), "--set", "env.A=1")
    assert code == 2
    assert stderr.startswith("error: --set 'env.A=1': env holds 'plain', not a mapping")


def test_index_digits_must_be_ascii() -> None:
    code, _, stderr = _template("--set", "args[\u0661]=x")
    assert code == 2
    assert "list index '\u0661' is not a non-negative integer" in stderr


def test_yaml_merge_keys_are_read_like_helm(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("podLabels:\n  <<: [{team: a, app: b}, {team: c, tier: x}]\n  app: lmf\n")
    code, stdout, stderr = _template("-f", str(values))
    assert code == 0, stderr
    deployment = next(o for o in parse_stream(stdout) if o["kind"] == "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    # The first map of the list wins; the explicit key wins over both.
    assert (labels["team"], labels["tier"], labels["app"]) == ("a", "x", "lmf")


# --- seed-layout keys -------------------------------------------------------------------


def test_set_reaches_every_seed_key_of_a_seed_file() -> None:
    code, stdout, stderr = _template(
        "-f", SEED, "--set", "imagePullPolicy=Always", "--set", "ingress.ingressDomain=example.com",
        "--set", "ingress.ingressClassName=nginx", "--set", "volume.hfcache=/srv/hf",
        "--set", "ingress.enable=true")
    assert code == 0, stderr
    objects = parse_stream(stdout)
    container = _container(stdout)
    assert container["imagePullPolicy"] == "Always"
    ingress = next(o for o in objects if o["kind"] == "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "lmf.example.com"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert {"path": "/srv/hf", "type": "Directory"} in [v.get("hostPath") for v in volumes]


@pytest.mark.parametrize(("flags", "text", "where", "message"), [
    ([], "volume:\n  hfcache: models\n", "{file}:2: volume.hfcache: ",
     "expected an absolute path"),
    (["--set", "volume.hfcache=models"], None, "--set: volume.hfcache: ",
     "expected an absolute path"),
    ([], "imagePullPolicy: Sometimes\n", "{file}:1: imagePullPolicy: ", "Input should be"),
    (["--set", "imagePullPolicy=Sometimes"], None, "--set: imagePullPolicy: ",
     "Input should be"),
    ([], "ingress:\n  enable: true\n  ingressDomain: Bad_Domain\n",
     "{file}:3: ingress.ingressDomain: ", "expected a DNS host name"),
    (["--set", "ingress.ingressDomain=Bad_Domain"], None, "--set: ingress.ingressDomain: ",
     "expected a DNS host name"),
    (["--set", "ingress.enable=maybe"], None, "--set: ingress.enable: ",
     "valid boolean"),
])
def test_seed_errors_name_the_key_as_written(
    flags: list[str], text: str | None, where: str, message: str, tmp_path: Path
) -> None:
    values = tmp_path / "seed.yaml"
    values.write_text(text if text is not None else Path(SEED).read_text())
    code, stdout, stderr = _template("-f", str(values), *flags)
    assert (code, stdout) == (1, "")
    prefix = "error: " + where.format(file=values)
    assert stderr.startswith(prefix), stderr
    assert message in stderr


def test_later_layer_wins_between_a_seed_key_and_its_new_name(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text("ingress:\n  domain: example.org\n")
    code, stdout, stderr = _template("-f", SEED, "-f", str(overlay))
    assert code == 0, stderr
    ingress = next(o for o in parse_stream(stdout) if o["kind"] == "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "lmf.example.org"
    code, stdout, stderr = _template("-f", str(overlay), "-f", SEED)
    assert code == 0, stderr
    ingress = next(o for o in parse_stream(stdout) if o["kind"] == "Ingress")
    assert ingress["spec"]["rules"][0]["host"] == "lmf.172.18.0.2.nip.io"


def test_seed_volume_and_storage_combine_later_wins(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("storage:\n  hfCache:\n    type: hostPath\n    hostPath: /old\n")
    seed = tmp_path / "seed.yaml"
    seed.write_text("volume:\n  hfcache: /new\nimage: kubeagi/llama-factory:v0.6.1\n")
    for files, path in (([base, seed], "/new"), ([seed, base], "/old")):
        code, stdout, stderr = _template(*(arg for f in files for arg in ("-f", str(f))))
        assert code == 0, stderr
        deployment = next(o for o in parse_stream(stdout) if o["kind"] == "Deployment")
        host_paths = [v["hostPath"]["path"] for v in deployment["spec"]["template"]["spec"][
            "volumes"] if "hostPath" in v]
        assert host_paths == [path]


def test_seed_layout_implied_command_is_blamed_on_the_seed_file(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("volume:\n  hfcache: /new\n")
    code, _, stderr = _template("-f", str(seed))
    assert code == 1
    assert stderr.startswith(f"error: {seed}: command: hiyouga/llamafactory images have no "
                             "start command"), stderr
