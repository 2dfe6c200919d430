"""Edges a user meets through the CLI: image shorthands, quantity units, odd file names in
GitHub annotations, and Helm's 53-character release-name limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.support.charts import by_identity, helm_objects, helm_run, parse_stream, render_chart_dir

runner = CliRunner()
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _deployment(stdout: str) -> dict[str, Any]:
    return next(o for o in parse_stream(stdout) if o["kind"] == "Deployment")


# --- `image: repo:tag` shorthand (the seed chart's layout) ------------------------------------


@pytest.mark.parametrize(
    ("shorthand", "image", "version_label"),
    [
        ("registry:5000/team/img:1.0", "registry:5000/team/img:1.0", "1.0"),
        ("registry:5000/team/img", "registry:5000/team/img:latest", "latest"),
        ("team/img", "team/img:latest", "latest"),
        ("img:v2", "img:v2", "v2"),
        ("img", "img:latest", "latest"),
        (f"team/img@{DIGEST}", f"team/img@{DIGEST}", ""),
        (f"registry:5000/team/img@{DIGEST}", f"registry:5000/team/img@{DIGEST}", ""),
        # A digest pins the image; the tag only labels it.
        (f"registry:5000/team/img:1.0@{DIGEST}", f"registry:5000/team/img@{DIGEST}", "1.0"),
    ],
)
@pytest.mark.parametrize("given_as", ["file", "set"])
def test_image_shorthand(
    shorthand: str, image: str, version_label: str, given_as: str, tmp_path: Path
) -> None:
    if given_as == "file":
        values = tmp_path / "values.yaml"
        values.write_text(f"image: {shorthand!r}\nimagePullPolicy: Always\n")
        args = ["-f", str(values)]
    else:
        args = ["--set", f"image={shorthand}"]
    done = runner.invoke(app, ["template", *args])
    assert done.exit_code == 0, done.output
    deployment = _deployment(done.stdout)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == image
    assert container["imagePullPolicy"] == ("Always" if given_as == "file" else "IfNotPresent")
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == version_label


@pytest.mark.parametrize(
    "shorthand", ["registry:5000/team/Img:1.0", "team/img:", "team/img@sha256:short"]
)
def test_bad_image_shorthand_is_refused(shorthand: str, tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(f"image: {shorthand!r}\n")
    done = runner.invoke(app, ["template", "-f", str(values)])
    assert done.exit_code == 1, done.output
    assert done.stdout == ""
    # The error names the key as the user wrote it: the `image` shorthand string.
    assert done.stderr.startswith(f"error: {values}:1: image: ")


# --- request versus limit, with units ---------------------------------------------------------


@pytest.mark.parametrize(
    ("request_", "limit", "refused"),
    [
        ("1500m", "1", True),
        ("1", "1500m", False),
        ("2Ki", "2k", True),  # 2048 > 2000
        ("2k", "2Ki", False),
        ("1Mi", "1M", True),
        ("1M", "1Mi", False),
        ("1Gi", "1G", True),
        ("1G", "1000M", False),  # equal is fine
        ("2e3", "1k", True),
        ("1k", "2e3", False),
        ("1E", "1e3", True),  # E alone is exa, not an exponent
        ("1e3", "1E", False),
        ("0.6", "500m", True),
        ("0.5", "500m", False),
        ("1.5Gi", "1536Mi", False),
        ("1.5Gi", "1535Mi", True),
        ("2000", "1Ki", True),
        ("100", "1Ki", False),
        (2, "1500m", True),
        ("1500m", 2, False),
        (0.5, "400m", True),
    ],
)
def test_request_above_limit_compares_units(
    request_: str | float, limit: str | float, refused: bool, tmp_path: Path
) -> None:
    values = tmp_path / "values.yaml"
    values.write_text(
        "resources:\n"
        f"  requests: {{cpu: {request_!r}, memory: 1Gi}}\n"
        f"  limits: {{cpu: {limit!r}, memory: 1Gi}}\n"
    )
    done = runner.invoke(app, ["template", "-f", str(values)])
    if not refused:
        assert done.exit_code == 0, done.output
        return
    assert done.exit_code == 1, done.output
    assert done.stdout == ""
    assert done.stderr == (
        f"error: {values}:2: resources.requests.cpu: request {request_} is more than the "
        f"limit {limit}; Kubernetes rejects that\n"
    )


# --- GitHub annotations from awkward file names -----------------------------------------------


def test_github_annotation_escapes_file_name(tmp_path: Path) -> None:
    assert not set(":,%\n") & set(str(tmp_path))
    bad = tmp_path / "prod:eu,50%\nnew.yaml"
    bad.write_text("gpu:\n  count: many\n")
    done = runner.invoke(app, ["validate", "--format", "github", str(bad)])
    assert done.exit_code == 1, done.output
    annotation, summary = done.stdout.splitlines()
    assert summary == "0 valid, 1 invalid"
    # GitHub's workflow-command escaping: %, CR and LF everywhere; ':' and ',' in properties.
    assert annotation == (
        f"::error file={tmp_path}/prod%3Aeu%2C50%25%0Anew.yaml,line=2,title=gpu.count::"
        "gpu.count: Input should be a valid integer"
    )


def test_github_annotation_escapes_message(tmp_path: Path) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text('env:\n  "A:B,50%": x\n')
    done = runner.invoke(app, ["validate", "--format", "github", str(bad)])
    assert done.exit_code == 1, done.output
    [annotation] = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    props, message = annotation.removeprefix("::error ").split("::", 1)
    assert props == f"file={bad},line=2,title=env.A%3AB%2C50%25"
    assert message.startswith("env.A:B,50%25: bad key: ")


# --- release names: Helm's 53-character limit -------------------------------------------------


def test_release_name_of_53_characters_is_accepted() -> None:
    name = "r" * 53
    done = runner.invoke(app, ["template", name])
    assert done.exit_code == 0, done.output
    objects = parse_stream(done.stdout)
    assert {o["metadata"]["labels"]["app.kubernetes.io/instance"] for o in objects} == {name}
    # Object names stay DNS labels: <release>-llama-factory cut at 63 characters (46 for
    # the test hook, which adds -test-connection).
    assert {o["metadata"]["name"] for o in objects} == {
        (name + "-llama-factory")[:63], (name + "-llama-factory")[:46] + "-test-connection"}


def test_release_name_of_54_characters_is_a_usage_error() -> None:
    name = "r" * 54
    done = runner.invoke(app, ["template", name])
    assert done.exit_code == 2, done.output
    assert done.stdout == ""
    assert done.stderr == (
        f"error: release name {name!r}: 54 characters is too long "
        "(at most 53 characters, like Helm)\n"
    )


@pytest.mark.helm
def test_release_name_limit_is_helms(helm4: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    accepted = "r" * 53
    ours = runner.invoke(app, ["template", accepted])
    assert ours.exit_code == 0, ours.output
    assert by_identity(helm_objects(helm4, chart, accepted, "default")) == by_identity(
        parse_stream(ours.stdout))
    refused = helm_run(helm4, "template", "r" * 54, str(chart))
    assert refused.returncode != 0
    assert "53" in refused.stderr
