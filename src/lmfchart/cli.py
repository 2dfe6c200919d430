"""The command line: parse flags, call one use case, print its result. No logic lives here."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lmfchart import __version__
from lmfchart.errors import LmfchartError
from lmfchart.release import DEFAULT_NAMESPACE, DEFAULT_RELEASE

app = typer.Typer(
    name="lmfchart",
    help="Validate values, render a Helm chart for LLaMA-Factory, and install it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ValuesFiles = Annotated[
    list[str] | None,
    typer.Option("--values", "-f", help="Values file (repeatable; later files win; - is stdin)."),
]
SetValues = Annotated[
    list[str] | None,
    typer.Option("--set", help="Set values like Helm: KEY=VALUE, dotted keys, list[0] indexes."),
]
SetStrings = Annotated[
    list[str] | None,
    typer.Option("--set-string", help="Like --set, but every value stays a string."),
]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _fail(error: LmfchartError) -> typer.Exit:
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(error.exit_code)


def _load(files: list[str] | None, sets: list[str] | None, set_strings: list[str] | None):  # type: ignore[no-untyped-def]
    from lmfchart.loading import load_release

    release = load_release(files or [], sets=sets or [], set_strings=set_strings or [])
    for note in release.notes:
        typer.secho(f"note: {note}", err=True, fg=typer.colors.YELLOW)
    return release


@app.command()
def render(
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Chart directory to write.")
    ] = Path("llama-factory"),
    force: Annotated[bool, typer.Option(help="Replace a non-empty output directory.")] = False,
) -> None:
    """Write a Helm chart for LLaMA-Factory built from the given values."""
    from lmfchart.chart import write_chart

    try:
        written = write_chart(_load(values, set_, set_string), output, force=force)
    except LmfchartError as e:
        raise _fail(e) from e
    typer.echo(f"wrote chart to {written}")


@app.command()
def template(
    release: Annotated[str, typer.Argument(help="Release name.")] = DEFAULT_RELEASE,
    namespace: Annotated[
        str, typer.Option("--namespace", "-n", help="Namespace.")
    ] = DEFAULT_NAMESPACE,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
) -> None:
    """Print the manifests exactly as `install` would apply them."""
    from lmfchart.manifests import render_objects, to_yaml_stream

    try:
        loaded = _load(values, set_, set_string)
        objects = render_objects(loaded.values, release=release, namespace=namespace)
    except LmfchartError as e:
        raise _fail(e) from e
    sys.stdout.write(to_yaml_stream(objects))


@app.command()
def validate(
    files: Annotated[list[str], typer.Argument(help="Values files to check.")],
    format_: Annotated[
        ReportFormat, typer.Option("--format", help="text, json or github (annotations).")
    ] = ReportFormat.text,
    kube_version: Annotated[
        str | None,
        typer.Option(help="Kubernetes version X.Y for the OpenAPI schemas (default: newest)."),
    ] = None,
) -> None:
    """Check values files: the model, the rendering and every object's Kubernetes schema."""
    from lmfchart.validation import format_reports, validate_files

    try:
        reports = validate_files(files, kube_version=kube_version)
    except LmfchartError as e:
        raise _fail(e) from e
    sys.stdout.write(format_reports(reports, format_.value))
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@app.command()
def schema() -> None:
    """Print the values JSON schema (the chart's values.schema.json)."""
    import json

    from lmfchart.schema import values_schema

    sys.stdout.write(json.dumps(values_schema(), indent=2) + "\n")


@app.command()
def version() -> None:
    """Print lmfchart's version."""
    typer.echo(__version__)


def main() -> None:
    app()
