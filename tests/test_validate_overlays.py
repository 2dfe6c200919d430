"""`validate` checks values as they are deployed: -f files, positional files, --set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from lmfchart.cli import app

runner = CliRunner()


def _files(tmp_path: Path, **texts: str) -> dict[str, str]:
    for name, text in texts.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return {name: str(tmp_path / f"{name}.yaml") for name in texts}


def _json(*args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(app, ["validate", "--format", "json", *args])
    assert result.stderr == "", result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_f_files_are_one_deployment(tmp_path: Path) -> None:
    # Valid on its own each; together the request exceeds the limit.
    f = _files(tmp_path, base="resources:\n  limits:\n    cpu: '4'\n",
               prod="image:\n  tag: '1.0'\nresources:\n  requests:\n    cpu: '6'\n")
    for alone in (f["base"], f["prod"]):
        assert _json(alone)[0] == 0
    code, report = _json("-f", f["base"], "-f", f["prod"])
    assert code == 1
    [deployment] = report["files"]
    assert deployment["file"] == f"{f['base']} + {f['prod']}"
    [error] = deployment["errors"]
    assert (error["file"], error["line"], error["key"]) == (f["prod"], 5,
                                                              "resources.requests.cpu")


def test_a_positional_file_is_checked_on_top_of_the_f_files(tmp_path: Path) -> None:
    f = _files(tmp_path, base="ingress:\n  domain: example.com\n  allowAnonymous: true\n",
               prod="ingress:\n  enabled: true\n", staging="ingress:\n  enabled: true\n  "
               "domain: ''\n")
    assert _json(f["prod"])[0] == 1, "prod alone has an ingress without host or domain"
    code, report = _json("-f", f["base"], f["prod"], f["staging"])
    assert code == 1
    assert [(r["file"], r["valid"]) for r in report["files"]] == [
        (f["prod"], True), (f["staging"], False)]
    [error] = report["files"][1]["errors"]
    assert error["file"] == f["staging"] and error["key"].startswith("ingress")


def test_set_applies_after_the_positional_file(tmp_path: Path) -> None:
    f = _files(tmp_path, prod="ingress:\n  enabled: true\n")
    assert _json(f["prod"], "--set", "ingress.enabled=false")[0] == 0
    code, report = _json(f["prod"], "--set-string", "gpu.count=2")
    assert code == 1
    [error] = report["files"][0]["errors"]
    assert (error["file"], error["key"]) == ("--set-string", "gpu.count")


def test_set_alone_checks_the_defaults_with_it() -> None:
    code, report = _json("--set", "gpu.count=-1")
    assert code == 1
    assert report["files"][0]["file"] == "--set"
    assert _json("--set", "gpu.count=1")[0] == 0


def test_text_report_names_the_merged_deployment(tmp_path: Path) -> None:
    f = _files(tmp_path, base="gpu:\n  count: 1\n", prod="shm:\n  enabled: false\n")
    result = runner.invoke(app, ["validate", "-f", f["base"], "-f", f["prod"]])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok    {f['base']} + {f['prod']}\n1 valid, 0 invalid\n"


def test_errors_of_one_file_come_in_line_order(tmp_path: Path) -> None:
    # The model's field order is fullnameOverride, image, ..., ingress: the reverse.
    f = _files(tmp_path, bad="ingress:\n  pathType: Sometimes\nimage:\n  tag: 'a b'\n"
               "fullnameOverride: Bad_Name\n", other="gpu:\n  count: -1\nshm:\n  enabled: 3\n")
    _, report = _json("-f", f["bad"], "-f", f["other"])
    errors = report["files"][0]["errors"]
    assert [(e["file"], e["line"]) for e in errors] == [
        (f["bad"], 2), (f["bad"], 4), (f["bad"], 5), (f["other"], 2), (f["other"], 4)]
    result = runner.invoke(app, ["template", "-f", f["bad"]])
    assert result.exit_code == 1
    lines = [int(line.removeprefix("error: ").split(":")[1])
             for line in result.stderr.splitlines()]
    assert lines == [2, 4, 5], result.stderr


def test_every_value_flag_reaches_validate(tmp_path: Path) -> None:
    """--set-json, --set-file and --set-literal apply in validate as in render/template."""
    bad_count = tmp_path / "count.txt"
    bad_count.write_text("-1")
    for flag, expression in (("--set-json", "gpu={\"count\": -1}"),
                             ("--set-file", f"gpu.count={bad_count}"),
                             ("--set-literal", "image.tag=a,b")):
        code, report = _json(flag, expression)
        assert code == 1, (flag, report)
        [error] = report["files"][0]["errors"]
        assert error["file"] == flag, (flag, error)
    assert _json("--set-json", "gpu={\"count\": 1}")[0] == 0
