"""The command line: parse flags, call one use case, print its result. No logic lives here."""

from __future__ import annotations

import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from lmfchart import __version__
from lmfchart.base.errors import EXIT_INTERNAL, LmfchartError
from lmfchart.inputs.options import ValueOptions
from lmfchart.model.names import DEFAULT_NAMESPACE, DEFAULT_RELEASE_NAME

app = typer.Typer(
    name="lmfchart",
    help="Validate values for LLaMA-Factory's web UI on Kubernetes, render them into a Helm "
    "chart, and print the manifests it makes.\n\nExit codes: 0 done, 1 invalid values, "
    "2 usage error, 3 the chart could not be written, 4 a bug in lmfchart.",
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
SetJsons = Annotated[
    list[str] | None,
    typer.Option("--set-json", help="Like --set, but each value is JSON (or one JSON object)."),
]
SetFiles = Annotated[
    list[str] | None,
    typer.Option("--set-file", help="Like --set, but each value is read from the file named."),
]
SetLiterals = Annotated[
    list[str] | None,
    typer.Option("--set-literal", help="KEY=VALUE, VALUE taken as-is (commas included)."),
]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True,
                     help="Print lmfchart's version and exit."),
    ] = False,
) -> None:
    pass


def _fail(error: LmfchartError) -> typer.Exit:
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(error.exit_code)


def _options(
    files: list[str] | None, sets: list[str] | None, set_strings: list[str] | None,
    *, set_jsons: list[str] | None = None, set_files: list[str] | None = None,
    set_literals: list[str] | None = None,
) -> ValueOptions:
    return ValueOptions(
        files=tuple(files or ()), sets=tuple(sets or ()), set_strings=tuple(set_strings or ()),
        set_jsons=tuple(set_jsons or ()), set_files=tuple(set_files or ()),
        set_literals=tuple(set_literals or ()),
    )


def _print_notes(notes: tuple[str, ...]) -> None:
    for note in notes:
        typer.secho(f"note: {note}", err=True, fg=typer.colors.YELLOW)


@app.command()
def render(
    *,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Chart directory to write.")
    ] = Path("llama-factory"),
    force: Annotated[bool, typer.Option(help="Replace a non-empty output directory.")] = False,
) -> None:
    """Write a Helm chart for LLaMA-Factory built from the given values."""
    from lmfchart.usecases.render_chart import render_chart

    try:
        rendered = render_chart(
            values=_options(
                values, set_, set_string,
                set_jsons=set_json, set_files=set_file, set_literals=set_literal,
            ),
            output=output, force=force,
        )
    except LmfchartError as e:
        raise _fail(e) from e
    _print_notes(rendered.notes)
    typer.echo(f"wrote chart to {rendered.path}")


@app.command()
def template(
    release_name: Annotated[str, typer.Argument(help="Release name.")] = DEFAULT_RELEASE_NAME,
    namespace: Annotated[
        str, typer.Option("--namespace", "-n", help="Namespace.")
    ] = DEFAULT_NAMESPACE,
    *,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
) -> None:
    """Print the manifests the chart makes for a release name and namespace."""
    from lmfchart.usecases.template import template as template_objects

    try:
        output = template_objects(
            release_name=release_name, namespace=namespace,
            values=_options(
                values, set_, set_string,
                set_jsons=set_json, set_files=set_file, set_literals=set_literal,
            ),
        )
    except LmfchartError as e:
        raise _fail(e) from e
    _print_notes(output.notes)
    sys.stdout.write(output.text)


@app.command()
def validate(
    files: Annotated[
        list[str] | None,
        typer.Argument(help="Values files to check, each one on top of the -f files "
                       "(then --set applies)."),
    ] = None,
    *,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    format_: Annotated[
        ReportFormat, typer.Option("--format", help="text, json or github (annotations).")
    ] = ReportFormat.text,
    kube_version: Annotated[
        str | None,
        typer.Option(help="Kubernetes version for the OpenAPI schemas, as Helm takes it: "
                     "1.30, v1.30 or 1.30.2 (default: newest known)."),
    ] = None,
) -> None:
    """Check values: the model, the rendering and every object's Kubernetes schema.

    validate -f base.yaml -f prod.yaml: the merged values, as one deployment.

    validate -f base.yaml prod.yaml staging.yaml: prod and staging, each on top of base.

    Exit 0 when everything is valid, 1 otherwise.
    """
    from lmfchart.usecases.reports import format_reports
    from lmfchart.usecases.validate import validate_files

    try:
        reports = validate_files(files=files or (), values=_options(
            values, set_, set_string,
            set_jsons=set_json, set_files=set_file, set_literals=set_literal,
        ), kube_version=kube_version)
    except LmfchartError as e:
        raise _fail(e) from e
    sys.stdout.write(format_reports(reports, format_.value))
    raise typer.Exit(0 if all(r.ok for r in reports) else 1)


@app.command()
def schema() -> None:
    """Print the values JSON schema (the chart's values.schema.json)."""
    import json

    from lmfchart.model.schema import values_schema

    sys.stdout.write(json.dumps(values_schema(), indent=2) + "\n")


@app.command()
def version() -> None:
    """Print lmfchart's version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except Exception:
        # A bug in lmfchart: keep the traceback, but never exit as if the values were bad.
        traceback.print_exc()
        sys.exit(EXIT_INTERNAL)
