"""The commands as a user runs them: outputs, exit codes, files written or not."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.model.values import Values
from lmfchart.yamlio.reading import parse_values
from tests.conftest import example_values
from tests.support.charts import parse_stream

runner = CliRunner()


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), input=stdin)


def test_template_defaults_release_lmf_namespace_default() -> None:
    result = run("template")
    assert result.exit_code == 0, result.output
    objects = parse_stream(result.stdout)
    assert {o["metadata"]["name"] for o in objects} == {"lmf-llama-factory",
                                                        "lmf-llama-factory-test-connection"}
    assert {o["metadata"]["namespace"] for o in objects} == {"default"}


def test_later_values_files_win_and_maps_merge(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    second = tmp_path / "b.yaml"
    first.write_text("nodeSelector: {pool: cpu, zone: a}\nimage: {tag: '1.0'}\n")
    second.write_text("nodeSelector: {pool: gpu}\n")
    result = run("template", "r", "-n", "ns", "-f", str(first), "-f", str(second),
                 "--set", "image.tag=2.0", "--set-string", "env.PORT=8080")
    assert result.exit_code == 0, result.output
    pod = next(o for o in parse_stream(result.stdout) if o["kind"] == "Deployment")[
        "spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"pool": "gpu", "zone": "a"}
    assert pod["containers"][0]["image"].endswith(":2.0")
    assert {"name": "PORT", "value": "8080"} in pod["containers"][0]["env"]


def test_values_from_stdin() -> None:
    result = run("template", "-f", "-", stdin="gpu:\n  count: 2\n")
    assert result.exit_code == 0, result.output
    container = next(o for o in parse_stream(result.stdout) if o["kind"] == "Deployment")[
        "spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2


def test_empty_values_file_means_defaults(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    with_empty, without = run("template", "-f", str(empty)), run("template")
    assert with_empty.exit_code == 0, with_empty.output
    assert without.exit_code == 0, without.output
    assert with_empty.stdout == without.stdout
    assert parse_stream(with_empty.stdout), "no objects rendered"


def test_render_writes_a_complete_chart(tmp_path: Path) -> None:
    out = tmp_path / "chart"
    result = run("render", "-f", str(example_values("gpu-pvc")), "-o", str(out))
    assert result.exit_code == 0, result.output
    names = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert {"Chart.yaml", "values.yaml", "values.schema.json", "README.md", ".helmignore",
            "templates/_helpers.tpl", "templates/NOTES.txt", "templates/deployment.yaml",
            "templates/service.yaml", "templates/ingress.yaml", "templates/pvc.yaml"} <= names
    chart = yaml.safe_load((out / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2" and chart["name"] == "llama-factory"
    values = yaml.safe_load((out / "values.yaml").read_text())
    assert values["gpu"]["count"] == 1
    assert values["storage"]["saves"]["type"] == "pvc"
    schema = json.loads((out / "values.schema.json").read_text())
    assert schema["additionalProperties"] is False
    # Every key of the model, nested ones too, sits in values.yaml under its description.
    text = (out / "values.yaml").read_text()
    lines = text.splitlines()
    key_lines = parse_values(text, source="values.yaml").lines
    fields = list(_model_fields(Values))
    assert len(fields) > 80
    for path, description in fields:
        assert path in key_lines, f"{'.'.join(path)} missing from values.yaml"
        above = lines[key_lines[path] - 2].strip()
        assert above == f"# {description}", f"no description above {'.'.join(path)}"
    assert "| `gpu.count` |" in (out / "README.md").read_text()


def _model_fields(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str]]:
    for name, info in model.model_fields.items():
        yield (*prefix, name), str(info.description)
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            yield from _model_fields(info.annotation, (*prefix, name))


def test_render_refuses_non_empty_dir_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "chart"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run("render", "-o", str(out))
    assert result.exit_code == 3
    assert "not empty" in result.output and "--force" in result.output
    assert (out / "keep.txt").read_text() == "mine"
    forced = run("render", "-o", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert not (out / "keep.txt").exists()
    assert (out / "Chart.yaml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart"], "staging left behind"


def test_schema_command_prints_the_chart_schema(tmp_path: Path) -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert "$ref" not in result.stdout and "$defs" not in result.stdout
    run("render", "-o", str(tmp_path / "c"))
    assert json.loads((tmp_path / "c" / "values.schema.json").read_text()) == schema


def test_validate_reports_each_file() -> None:
    result = run("validate", *(str(example_values(n)) for n in ("seed", "gpu-pvc")))
    assert result.exit_code == 0, result.output
    assert "2 valid, 0 invalid" in result.stdout


def test_seed_layout_is_announced() -> None:
    result = run("template", "-f", str(example_values("seed")))
    assert result.exit_code == 0
    assert "seed chart's layout" in result.stderr


def test_fast_commands_never_import_the_kubernetes_client(tmp_path: Path) -> None:
    script = f"""
import sys
from typer.testing import CliRunner
from lmfchart.cli import app
runner = CliRunner()
for args in (["--help"], ["render", "-o", {str(tmp_path / "c")!r}], ["template"],
             ["validate", {str(example_values("seed"))!r}], ["schema"],
             ["train", "--model", "Qwen/Qwen3-0.6B", "--method", "lora", "--dataset", "d",
              "--set", "storage.output.type=pvc", "--print"]):
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (args, result.output)
loaded = sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes."))
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_module_entry_point_shows_help() -> None:
    done = subprocess.run([sys.executable, "-m", "lmfchart", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    for command in ("render", "template", "validate", "schema"):
        assert command in done.stdout
