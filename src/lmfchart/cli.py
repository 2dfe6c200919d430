"""The command line: parse flags, call one use case, print its result. No logic lives here."""

from __future__ import annotations

import copy
import errno
import gc
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Protocol, TypeVar

import typer
import typer.core
import typer.main
import typer.models

from lmfchart import __version__
from lmfchart.base.errors import (
    EXIT_DIFF_TROUBLE,
    EXIT_INTERNAL,
    EXIT_OUTPUT,
    EXIT_USAGE,
    LmfchartError,
)
from lmfchart.inputs.options import ValueOptions
from lmfchart.model.names import DEFAULT_NAMESPACE, DEFAULT_RELEASE_NAME

if TYPE_CHECKING:

    from rich.console import Console

    from lmfchart.usecases.cluster import Cluster, ObjectRef
    from lmfchart.usecases.diff import DiffReport
    from lmfchart.usecases.install import InstallResult
    from lmfchart.usecases.launch import LaunchResult
    from lmfchart.usecases.runs import NamedRun, RunRequest
    from lmfchart.usecases.status import Revision, StatusReport
    from lmfchart.usecases.uninstall import UninstallResult

app = typer.Typer(
    name="lmfchart",
    help="Validate values for LLaMA-Factory's web UI on Kubernetes, render them into a Helm "
    "chart, print the manifests it makes, and install, diff, roll back or uninstall it as a "
    "Helm release through the Kubernetes API.\n\nExit codes: 0 done, 1 invalid values, "
    "2 usage error, 3 the chart could not be written, 4 a bug in lmfchart, 5 the cluster "
    "refused or the release cannot be changed; diff: 0 no changes, 2 changes, 1 any "
    "error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's help formatter costs about 70 ms of imports,
    # most of `--help`'s time (rich still draws progress and tables where they are used).
    rich_markup_mode=None,
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

ReleaseName = Annotated[str, typer.Argument(help="Release name.")]
Namespace = Annotated[str, typer.Option("--namespace", "-n", help="Namespace.")]
Kubeconfig = Annotated[
    str | None,
    typer.Option("--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG, "
                 "~/.kube/config, then the in-cluster service account, like kubectl)."),
]
KubeContext = Annotated[
    str | None, typer.Option("--kube-context", help="Kubeconfig context to use."),
]
WaitTimeout = Annotated[
    str, typer.Option("--timeout", help="How long --wait waits: 300s, 5m, 1h30m."),
]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"


class PodSecurityLevel(StrEnum):
    baseline = "baseline"
    restricted = "restricted"


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


Output = Annotated[OutputFormat, typer.Option("--output", "-o", help="text or json.")]


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


def _fail(error: LmfchartError, *, exit_code: int | None = None) -> typer.Exit:
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    return typer.Exit(error.exit_code if exit_code is None else exit_code)


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
        # Warnings name themselves; everything else is a note.
        shown = note if note.startswith("warning: ") else f"note: {note}"
        typer.secho(shown, err=True, fg=typer.colors.YELLOW)


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
    pod_security: Annotated[
        PodSecurityLevel | None,
        typer.Option(help="Pod Security Standard every rendered pod is checked against, "
                     "as a warning: baseline or restricted."),
    ] = None,
    pod_security_enforce: Annotated[
        PodSecurityLevel | None,
        typer.Option(help="Pod Security Standard every rendered pod must meet: a "
                     "violation makes the file invalid (exit 1)."),
    ] = None,
) -> None:
    """Check values: the model, the rendering and every object's Kubernetes schema.

    validate -f base.yaml -f prod.yaml: the merged values, as one deployment.

    validate -f base.yaml prod.yaml staging.yaml: prod and staging, each on top of base.

    validate --pod-security restricted --pod-security-enforce baseline values.yaml: the pods
    must meet baseline; what breaks restricted is a warning.

    Exit 0 when everything is valid (warnings included), 1 otherwise.
    """
    from lmfchart.usecases.podsecurity import PodSecurityModes
    from lmfchart.usecases.reports import format_reports
    from lmfchart.usecases.validate import validate_files

    # The modules and models loaded so far live as long as the process: the collector
    # need not walk them again and again while files are checked (a few percent of a run).
    gc.freeze()
    modes = PodSecurityModes(
        enforce=pod_security_enforce.value if pod_security_enforce else None,
        warn=pod_security.value if pod_security else None,
    )

    try:
        reports = validate_files(files=files or (), values=_options(
            values, set_, set_string,
            set_jsons=set_json, set_files=set_file, set_literals=set_literal,
        ), kube_version=kube_version, pod_security=modes)
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


def _connect(kubeconfig: str | None, context: str | None) -> Cluster:
    # Imported here: only the cluster commands pay for the kubernetes client.
    from lmfchart.kube.connect import connect

    return connect(kubeconfig=kubeconfig, context=context)


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


class _Explained(Protocol):
    def explanation(self) -> str: ...


_Ending = TypeVar("_Ending", bound=_Explained)


def _watched(console: Console, cluster: Cluster, timeout_s: float, *,
             poll: Callable[..., _Ending], goal: str, done: str,
             ok: Callable[[_Ending], bool]) -> Callable[[Sequence[ObjectRef]], _Ending]:
    """--wait as install and uninstall take it: say what it waits for, show its progress
    while POLL (`wait_for_ready`, `wait_until_gone`) runs, and how it ended when OK (a
    failure becomes the command's error message)."""
    from lmfchart.inputs.durations import format_duration
    from lmfchart.waitdisplay import WaitDisplay

    def wait(refs: Sequence[ObjectRef]) -> _Ending:
        console.print(f"waiting up to {format_duration(timeout_s)} for {len(refs)} {goal}",
                      markup=False)
        with WaitDisplay(console, done=done) as display:
            result = poll(cluster=cluster, refs=refs, timeout_s=timeout_s, progress=display)
        if ok(result):
            console.print(result.explanation(), markup=False)
        return result

    return wait


# How each action reads in a plan (dry run) and once done.
_PLANNED = {"created": "would create", "changed": "would change", "unchanged": "unchanged",
            "pruned": "would prune", "kept": "would keep", "deleted": "would delete",
            "failed": "refused", "unchecked": "not checked"}
_STYLES = {"created": "green", "changed": "yellow", "pruned": "red", "deleted": "red",
           "kept": "cyan", "failed": "bold red", "unchecked": "magenta"}


def _print_install(console: Console, result: InstallResult) -> int:
    """Print the outcome; the exit code (non-zero when the dry run found refused objects)."""
    from lmfchart.base.errors import EXIT_CLUSTER

    where = f"release {result.release_name} in namespace {result.namespace}"
    if result.outcome == "unchanged":
        console.print(f"no changes: {where} stays at revision {result.revision}",
                      markup=False)
        return 0
    if result.outcome == "planned":
        if result.namespace_missing:
            console.print(f"dry run: namespace {result.namespace} does not exist yet; "
                          "--create-namespace would create it", markup=False)
        for change in result.changes:
            line = f"  {_PLANNED[change.action]:<13} {change.ref.kind}/{change.ref.name}"
            if change.message:
                line += f": {change.message}"
            console.print(line, style=_STYLES.get(change.action), markup=False)
        failed = any(c.action == "failed" for c in result.changes)
        console.print(f"dry run: nothing was changed; {where} would be at revision "
                      f"{result.revision}" + (" (the server refused some objects)"
                                              if failed else ""), markup=False)
        return EXIT_CLUSTER if failed else 0
    console.print(f"{where} {result.outcome}: revision {result.revision} deployed",
                  markup=False)
    console.print(result.release_notes, markup=False)
    return 0


def _print_uninstall(console: Console, result: UninstallResult) -> None:
    for change in result.changes:
        verb = _PLANNED[change.action] if result.dry_run else change.action
        line = f"  {verb} {change.ref.kind}/{change.ref.name}"
        console.print(line + (f" ({change.message})" if change.message else ""),
                      style=_STYLES.get(change.action), markup=False)
    records = ", ".join(result.records)
    if result.dry_run:
        console.print(f"dry run: nothing was deleted; would delete records {records}",
                      markup=False)
    else:
        console.print(f"release {result.release_name} uninstalled from namespace "
                      f"{result.namespace} (deleted records {records})", markup=False)


def _print_status(console: Console, report: StatusReport, *, as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), indent=2) + "\n")
        return
    for label, value in (("NAME", report.release_name), ("NAMESPACE", report.namespace),
                         ("REVISION", report.revision), ("STATUS", report.status),
                         ("LAST DEPLOYED", report.last_deployed or "-"),
                         ("DESCRIPTION", report.description),
                         ("URL", report.url or "-")):
        console.print(f"{label}: {value}", markup=False)
    console.print("OBJECTS:", markup=False)
    styles = {"Current": "green", "InProgress": "yellow"}
    for state in report.objects:
        console.print(f"  {state.ref.kind}/{state.ref.name}: {state.state}: {state.message}",
                      style=styles.get(state.state, "bold red"), markup=False,
                      highlight=False, soft_wrap=True)
        for reason in state.reasons:
            console.print(f"    - {reason}", markup=False, highlight=False, soft_wrap=True)
    if report.runs:
        from lmfchart.rundisplay import print_runs

        print_runs(console, report.runs)


def _print_history(console: Console, revisions: list[Revision], *, as_json: bool) -> None:
    import json

    if as_json:
        sys.stdout.write(json.dumps([r.as_dict() for r in revisions], indent=2) + "\n")
        return
    rows = [("REVISION", "UPDATED", "STATUS", "CHART", "APP VERSION", "DESCRIPTION")]
    rows += [(str(r.revision), r.updated or "-", r.status, r.chart, r.app_version,
              r.description) for r in revisions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        console.print("  ".join([*cells, row[-1]]), markup=False)


@app.command()
def install(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    create_namespace: Annotated[
        bool, typer.Option("--create-namespace",
                           help="Create the namespace when it does not exist.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Send every object with dryRun=All and print "
                           "what would change; store nothing.")] = False,
    take_ownership: Annotated[
        bool, typer.Option("--take-ownership",
                           help="Adopt objects that belong to no release or another one.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every object is ready; if one fails "
                           "or time runs out, say why for each and record the revision "
                           "failed.")] = False,
    timeout: WaitTimeout = "5m",
    rollback_on_failure: Annotated[
        bool, typer.Option("--rollback-on-failure",
                           help="When the server refuses an object or --wait fails: roll "
                           "an upgrade back to the last deployed revision, remove a failed "
                           "first install.")
    ] = False,
    reuse_values: Annotated[
        bool, typer.Option("--reuse-values",
                           help="Start from the release's current values (its training "
                           "runs too) and merge -f/--set over them, like helm upgrade "
                           "--reuse-values.")] = False,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Install the release, or upgrade it when it exists (like helm upgrade --install).

    Applies the objects `template` prints, server-side as Helm 4 does, prunes what the
    new values no longer render, and records the revision where helm reads it.
    """
    from lmfchart.inputs.durations import parse_duration
    from lmfchart.usecases.install import install as install_release
    from lmfchart.usecases.wait import wait_for_ready

    console = _console()
    try:
        timeout_s = parse_duration(timeout)
        cluster = _connect(kubeconfig, kube_context)
        result = install_release(
            cluster=cluster, release_name=release_name,
            namespace=namespace,
            values=_options(
                values, set_, set_string,
                set_jsons=set_json, set_files=set_file, set_literals=set_literal,
            ),
            create_namespace=create_namespace, dry_run=dry_run,
            take_ownership=take_ownership, rollback_on_failure=rollback_on_failure,
            reuse_values=reuse_values,
            progress=lambda line: console.print(f"  {line}", markup=False),
            wait=_watched(console, cluster, timeout_s, poll=wait_for_ready,
                          goal="objects to be ready", done="ready",
                          ok=lambda result: result.ready) if wait and not dry_run else None,
        )
    except LmfchartError as e:
        raise _fail(e) from e
    _print_notes(result.notes)
    raise typer.Exit(_print_install(console, result))


@app.command()
def uninstall(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be deleted; delete nothing.")
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until every deleted object is gone from the "
                           "server before deleting the records; if time runs out, say what "
                           "holds each one (finalizers) and keep the records.")] = False,
    timeout: WaitTimeout = "5m",
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Delete the release's objects (except those marked keep) and its records."""
    from lmfchart.inputs.durations import parse_duration
    from lmfchart.usecases.deletion import wait_until_gone
    from lmfchart.usecases.uninstall import uninstall as uninstall_release

    console = _console()
    try:
        timeout_s = parse_duration(timeout)
        cluster = _connect(kubeconfig, kube_context)
        result = uninstall_release(
            cluster=cluster, release_name=release_name, namespace=namespace,
            dry_run=dry_run,
            wait=_watched(console, cluster, timeout_s, poll=wait_until_gone,
                          goal="deleted objects to be gone", done="gone",
                          ok=lambda result: result.gone) if wait else None)
    except LmfchartError as e:
        raise _fail(e) from e
    _print_uninstall(console, result)


@app.command()
def status(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    output: Output = OutputFormat.text,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Show the release's revision, status, objects and the web UI's URL."""
    from lmfchart.usecases.status import status as release_status

    try:
        report = release_status(cluster=_connect(kubeconfig, kube_context),
                                release_name=release_name, namespace=namespace)
    except LmfchartError as e:
        raise _fail(e) from e
    _print_status(_console(), report, as_json=output is OutputFormat.json)


@app.command()
def history(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    output: Output = OutputFormat.text,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """List the release's revisions, as helm history does."""
    from lmfchart.usecases.status import history as release_history

    try:
        revisions = release_history(cluster=_connect(kubeconfig, kube_context),
                                    release_name=release_name, namespace=namespace)
    except LmfchartError as e:
        raise _fail(e) from e
    _print_history(_console(), revisions, as_json=output is OutputFormat.json)


@app.command()
def logs(
    release_name: ReleaseName,
    run: Annotated[str, typer.Argument(help="Train or export run name (a key of the "
                                       "values' train or export map).")],
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing lines as the "
                                         "run writes them, until its container stops.")
                      ] = False,
    tail: Annotated[int | None, typer.Option("--tail", min=0, help="Only the last N lines "
                                             "(default: all).")] = None,
    rank: Annotated[int, typer.Option("--rank", min=0, help="Node rank of a multi-node run "
                                      "(0: the master, where the trainer prints progress)."
                                      )] = 0,
    timeout: Annotated[str, typer.Option("--timeout", help="How long to wait for the pod "
                                         "to start: 300s, 5m, 1h30m.")] = "5m",
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Print the log of a train or export run's pod (its newest Job), waiting for it to
    start; -f follows it."""
    from lmfchart.inputs.durations import parse_duration
    from lmfchart.usecases.logs import follow_log, read_log, wait_for_log

    def waiting(why: str) -> None:
        typer.secho(f"waiting: {why}", err=True, fg=typer.colors.YELLOW)

    try:
        timeout_s = parse_duration(timeout)
        cluster = _connect(kubeconfig, kube_context)
        source = wait_for_log(cluster=cluster, release_name=release_name,
                              namespace=namespace, run_name=run, rank=rank,
                              timeout_s=timeout_s, progress=waiting)
        typer.secho(f"pod {source.pod} (rank {source.rank}) container {source.container}",
                    err=True, fg=typer.colors.CYAN)
        if follow:
            for line in follow_log(cluster=cluster, source=source, tail=tail):
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        else:
            sys.stdout.write(read_log(cluster=cluster, source=source, tail=tail))
    except LmfchartError as e:
        raise _fail(e) from e


@app.command()
def progress(
    *,
    log: Annotated[Path | None, typer.Option("--log", help="A train container's log, "
                                             "saved from kubectl logs or lmfchart logs.")
                   ] = None,
    trainer_log: Annotated[Path | None, typer.Option(
        "--trainer-log", help="LLaMA-Factory's trainer_log.jsonl from the run's output "
        "folder.")] = None,
    output: Output = OutputFormat.text,
) -> None:
    """Show how far a training run got (steps, loss, learning rate, epoch) from a saved log
    or trainer_log.jsonl: the numbers status shows."""
    import json

    from lmfchart.usecases.progress import read_progress

    try:
        found = read_progress(log=log, trainer_log=trainer_log)
    except LmfchartError as e:
        raise _fail(e) from e
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(found.as_dict(), indent=2) + "\n")
        return
    from lmfchart.rundisplay import print_progress

    print_progress(_console(), found)


# How each object reads in a diff, and the style of its header.
_DIFF_WORDS = {"create": "would create", "change": "would change", "unchanged": "unchanged",
               "prune": "would prune", "keep": "would keep", "refused": "refused"}
_DIFF_STYLES = {"create": "green", "change": "yellow", "prune": "red", "keep": "cyan",
                "refused": "bold red"}


def _line_style(line: str) -> str | None:
    if line.startswith(("+++", "---")):
        return "bold"
    return {"+": "green", "-": "red", "@": "cyan"}.get(line[:1])


def _print_diff(console: Console, report: DiffReport) -> int:
    """Print each object's diff; the exit code (0 no changes, 2 changes, 1 refused)."""
    from collections import Counter

    from lmfchart.base.errors import EXIT_DIFFERENT

    if report.unchecked:
        console.print(report.unchecked, style="magenta", markup=False)
    for shown in report.objects:
        head = f"{shown.ref.kind}/{shown.ref.name}: {_DIFF_WORDS[shown.action]}"
        console.print(head + (f" ({shown.message})" if shown.message else ""),
                      style=_DIFF_STYLES.get(shown.action), markup=False)
        for conflict in shown.conflicts:
            console.print(f"  conflict: {conflict.describe()}", style="bold red",
                          markup=False)
        for line in shown.text.splitlines():
            console.print(line, style=_line_style(line), markup=False)
    where = f"release {report.release_name} in namespace {report.namespace}"
    if report.refused:
        console.print(f"{where}: the server refused some objects; install would fail",
                      markup=False)
        return EXIT_DIFF_TROUBLE
    if any(shown.conflicts for shown in report.objects):
        console.print("install would be refused for the conflicts above: fields another "
                      "field manager set with a different value", markup=False)
    if not report.changes:
        console.print(f"no changes: {where} matches the cluster", markup=False)
        return 0
    counts = Counter(shown.action for shown in report.objects if shown.action != "unchanged")
    console.print(f"changes: {where}: " + ", ".join(
        f"{count} {_DIFF_WORDS[action]}" for action, count in counts.items()), markup=False)
    return EXIT_DIFFERENT


class _DiffCommand(typer.core.TyperCommand):
    """`diff` exits 2 for "changes found", like `helm diff --detailed-exitcode`, so its usage
    errors take EXIT_DIFF_TROUBLE (1) instead of 2."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as e:
            if getattr(e, "exit_code", None) == EXIT_USAGE:
                e.exit_code = EXIT_DIFF_TROUBLE
            raise


@app.command(cls=_DiffCommand)
def diff(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Show what install would change, as unified diffs from a server-side dry run.

    Exit codes, as helm diff --detailed-exitcode: 0 no changes, 2 changes, 1 any error
    (the server refused an object, invalid values, a usage error).
    """
    from lmfchart.usecases.diff import diff as diff_release

    try:
        report = diff_release(
            cluster=_connect(kubeconfig, kube_context), release_name=release_name,
            namespace=namespace,
            values=_options(values, set_, set_string, set_jsons=set_json,
                            set_files=set_file, set_literals=set_literal),
        )
    except LmfchartError as e:
        raise _fail(e, exit_code=EXIT_DIFF_TROUBLE) from e
    _print_notes(report.notes)
    raise typer.Exit(_print_diff(_console(), report))


@app.command()
def rollback(
    release_name: ReleaseName = DEFAULT_RELEASE_NAME,
    revision: Annotated[
        int | None, typer.Argument(help="Revision to roll back to (default, or 0 as in "
                                   "helm: the previous one).", min=0)] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Deploy a stored revision again, as a new revision (like helm rollback)."""
    from lmfchart.usecases.rollback import rollback as rollback_release

    console = _console()
    try:
        cluster = _connect(kubeconfig, kube_context)
        result = rollback_release(
            cluster=cluster, release_name=release_name,
            namespace=namespace, revision=revision or None,
            progress=lambda line: console.print(f"  {line}", markup=False),
        )
    except LmfchartError as e:
        raise _fail(e) from e
    console.print(f"release {result.release_name} in namespace {result.namespace} rolled "
                  f"back to revision {result.target}: revision {result.revision} deployed",
                  markup=False)


@app.command()
def version() -> None:
    """Print lmfchart's version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app_for(sys.argv[1:])()
    except SystemExit as stop:
        _leave(stop.code)
    except BrokenPipeError:
        # The reader went away (`| head`): nothing left to say, and no one to say it to.
        _leave(1)
    except OSError as e:
        if e.errno not in _CANNOT_WRITE:
            traceback.print_exc()
            _leave(EXIT_INTERNAL)
        _cannot_write(e)
        _leave(EXIT_OUTPUT)
    except Exception:
        # A bug in lmfchart: keep the traceback, but never exit as if the values were bad.
        traceback.print_exc()
        _leave(EXIT_INTERNAL)
    _leave(0)


def app_for(argv: Sequence[str]) -> typer.Typer:
    """The app with only the command ARGV names: Typer builds every command's parameters
    before it parses anything (about 15 ms for twenty commands), and a run needs one."""
    name = argv[0] if argv else ""
    commands = [info for info in app.registered_commands
                if info.callback and _command_name(info) == name]
    groups = [info for info in app.registered_groups if info.name == name]
    if not commands and not groups:
        # Options first, no command or a misspelt one: the whole app answers.
        return app
    lean = copy.copy(app)
    lean.registered_commands = commands
    lean.registered_groups = groups
    return lean


def _command_name(info: typer.models.CommandInfo) -> str:
    assert info.callback is not None
    return info.name or typer.main.get_command_name(info.callback.__name__)


# A full disk or quota, a file too large, an I/O error: the output is incomplete.
_CANNOT_WRITE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


def _cannot_write(error: OSError) -> None:
    with suppress(OSError, ValueError):
        os.write(2, f"error: cannot write the output: {error.strerror}\n".encode())


def _leave(code: object) -> NoReturn:
    """End the process once the command is done, skipping the interpreter's teardown.

    Freeing every module's objects (pydantic's, jinja2's) costs a short command up to a
    fifth of its time; a finished command only needs its output flushed. Nothing in
    lmfchart runs at exit (mypy leaves the same way)."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    status = code if isinstance(code, int) else 0
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):
            # The reader went away (`| head`) or the stream is closed: nothing left to say.
            status = status or 1
        except OSError as e:
            # A full disk: the output is incomplete, and the exit status must say so.
            _cannot_write(e)
            status = status or EXIT_OUTPUT
    if sys.getprofile() is not None or sys.gettrace() is not None:
        # A profiler or coverage is watching: let it write its report at exit.
        sys.exit(status)
    os._exit(status)


# --- train and export: one fine-tuning step without editing values ----------------------

RunRelease = Annotated[str, typer.Option("--release", help="The release the run joins.")]
RunModel = Annotated[str, typer.Option(
    "--model", help="Base model: an absolute path on a volume (the hf cache) or a hub id.")]
RunTemplate = Annotated[str | None, typer.Option(
    "--template", help="Chat template (default: default).")]
PrintOnly = Annotated[bool, typer.Option(
    "--print", help="Print the run's objects, the command its pods run and its config file; "
    "read no cluster (values from -f/--set and these flags only, not the release's).")]
RunDryRun = Annotated[bool, typer.Option(
    "--dry-run", help="Send the upgrade with dryRun=All and print what would change; "
    "store nothing.")]
RunWait = Annotated[bool, typer.Option(
    "--wait", help="Wait until the run's Job completes (a failure or --timeout records the "
    "revision failed). Without it the command returns once the Job is created.")]
CreateNamespace = Annotated[bool, typer.Option(
    "--create-namespace", help="Create the namespace when it does not exist.")]


@dataclass(frozen=True)
class _Step:
    """What train and export share: where the run goes and how it is launched."""

    release: str
    namespace: str
    values: ValueOptions
    print_only: bool
    dry_run: bool
    wait: bool
    timeout: str
    create_namespace: bool
    kubeconfig: str | None
    kube_context: str | None


def _launch_step(step: _Step, request: RunRequest) -> None:
    from lmfchart.base.errors import UsageError
    from lmfchart.inputs.durations import parse_duration
    from lmfchart.usecases.launch import launch
    from lmfchart.usecases.preview import preview
    from lmfchart.usecases.runs import named
    from lmfchart.usecases.wait import wait_for_ready

    console = _console()
    try:
        if step.print_only and (step.dry_run or step.wait):
            raise UsageError("--print reads no cluster: it takes no --dry-run or --wait")
        run = named(request)
        # With --print, stdout is the run's YAML: the name goes to stderr.
        _say_chosen_name(run, err=step.print_only)
        if step.print_only:
            shown = preview(release_name=step.release, namespace=step.namespace,
                            values=step.values, run=run)
            _print_notes(shown.notes)
            sys.stdout.write(shown.text)
            return
        timeout_s = parse_duration(step.timeout)
        cluster = _connect(step.kubeconfig, step.kube_context)
        result = launch(
            cluster=cluster, release_name=step.release, namespace=step.namespace,
            values=step.values, run=run, create_namespace=step.create_namespace,
            dry_run=step.dry_run,
            progress=lambda line: console.print(f"  {line}", markup=False),
            wait=_watched(console, cluster, timeout_s, poll=wait_for_ready,
                          goal="objects of the run to be ready (its Job complete)",
                          done="ready", ok=lambda waited: waited.ready)
            if step.wait and not step.dry_run else None,
        )
    except LmfchartError as e:
        raise _fail(e) from e
    _print_notes(result.install.notes)
    raise typer.Exit(_print_launch(console, result, step))


def _say_chosen_name(run: NamedRun, *, err: bool = False) -> None:
    if run.chosen:
        made = "--model and --method" if run.kind == "train" else "--export-dir or --adapter"
        typer.echo(f"{run.kind} name: {run.name} (made from {made}; give NAME to choose "
                   "another)", err=err)


def _print_launch(console: Console, result: LaunchResult, step: _Step) -> int:
    """Print the release's outcome and the run's Job; the exit code."""
    outcome = result.install
    code = 0
    if outcome.outcome == "planned":
        code = _print_install(console, outcome)
        would = {"created": "would create", "replaced": "would replace",
                 "unchanged": "would keep"}[result.change]
    else:
        # Not _print_install: the web UI's notes are no news to someone launching a run.
        where = f"release {outcome.release_name} in namespace {outcome.namespace}"
        console.print(f"no changes: {where} stays at revision {outcome.revision}"
                      if outcome.outcome == "unchanged" else
                      f"{where} {outcome.outcome}: revision {outcome.revision} deployed",
                      markup=False)
        would = result.change
    job, run = result.job, result.run
    if result.change == "replaced":
        line = f"{run}: {job} {would} {result.previous} (the run's config changed)"
    elif result.change == "unchanged":
        line = (f"{run}: {job} unchanged, nothing runs again; to run the same config again: "
                f"--set {run.kind}.{run.name}.rerun={result.rerun + 1}")
    else:
        line = f"{run}: {would} {job}"
    console.print(line, markup=False)
    if outcome.outcome != "planned":
        where = f"-n {step.namespace}"
        console.print(f"follow it: lmfchart logs {step.release} {run.name} {where}\n"
                      f"           lmfchart status {step.release} {where}", markup=False)
    return code


@app.command()
def train(
    name: Annotated[str | None, typer.Argument(
        help="Run name, a DNS label of at most 30 characters (default: made from the "
        "model's last path part and the method).")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    release: RunRelease = DEFAULT_RELEASE_NAME,
    model: RunModel,
    method: Annotated[str, typer.Option("--method", help="lora, freeze or full.")],
    dataset: Annotated[list[str], typer.Option(
        "--dataset", help="Dataset name in dataset_info.json (repeatable, or a comma list).")],
    stage: Annotated[str | None, typer.Option(
        "--stage", help="pt, sft, rm, ppo, dpo or kto (default: sft).")] = None,
    template: RunTemplate = None,
    epochs: Annotated[float | None, typer.Option("--epochs", help="num_train_epochs.")] = None,
    max_steps: Annotated[int | None, typer.Option(
        "--max-steps", help="max_steps; above 0 it wins over --epochs.")] = None,
    learning_rate: Annotated[float | None, typer.Option(
        "--learning-rate", help="learning_rate.")] = None,
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", help="per_device_train_batch_size.")] = None,
    gpus: Annotated[int | None, typer.Option("--gpus", help="GPUs per node.")] = None,
    nodes: Annotated[int | None, typer.Option("--nodes", help="Nodes (pods) the run spans.")
                     ] = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", help="job (a Kubernetes Job, Indexed across nodes) or pytorchjob "
        "(Kubeflow).")] = None,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    print_only: PrintOnly = False,
    dry_run: RunDryRun = False,
    wait: RunWait = False,
    timeout: WaitTimeout = "5m",
    create_namespace: CreateNamespace = False,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Launch a training run: add it to the release's values (train.NAME) and upgrade the
    release, as `install` does (installed if new).

    The release keeps its current values (as helm upgrade --reuse-values), then -f/--set,
    then these flags; the run NAME is replaced whole by what this command gives. A changed
    run gets a new Job (the old one is pruned); an unchanged one keeps its Job.
    """
    from lmfchart.usecases.runs import RunRequest

    flags = {"--model": model, "--method": method, "--stage": stage, "--dataset": dataset,
             "--template": template, "--epochs": epochs, "--max-steps": max_steps,
             "--learning-rate": learning_rate, "--batch-size": batch_size, "--gpus": gpus,
             "--nodes": nodes, "--engine": engine}
    _launch_step(
        _Step(release, namespace, _options(values, set_, set_string, set_jsons=set_json,
                                           set_files=set_file, set_literals=set_literal),
              print_only, dry_run, wait, timeout, create_namespace, kubeconfig, kube_context),
        RunRequest("train", name, {flag: v for flag, v in flags.items() if v is not None}),
    )


@app.command()
def export(
    name: Annotated[str | None, typer.Argument(
        help="Export name, a DNS label of at most 30 characters (default: the last part of "
        "--export-dir, else of --adapter).")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    release: RunRelease = DEFAULT_RELEASE_NAME,
    model: RunModel,
    adapter: Annotated[str, typer.Option(
        "--adapter", help="The trained adapter: an absolute path (/app/output/train/RUN) or "
        "a hub id.")],
    export_dir: Annotated[str | None, typer.Option(
        "--export-dir", help="Folder below the output volume (default: models/NAME).")
    ] = None,
    template: RunTemplate = None,
    shard_size: Annotated[int | None, typer.Option(
        "--shard-size", help="GB per shard (default: 2).")] = None,
    device: Annotated[str | None, typer.Option(
        "--device", help="cpu or auto (default: cpu).")] = None,
    values: ValuesFiles = None,
    set_: SetValues = None,
    set_string: SetStrings = None,
    set_json: SetJsons = None,
    set_file: SetFiles = None,
    set_literal: SetLiterals = None,
    print_only: PrintOnly = False,
    dry_run: RunDryRun = False,
    wait: RunWait = False,
    timeout: WaitTimeout = "5m",
    create_namespace: CreateNamespace = False,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Launch an export (merge an adapter into its base model): add it to the release's
    values (export.NAME) and upgrade the release, as `train` does."""
    from lmfchart.usecases.runs import RunRequest

    flags = {"--model": model, "--adapter": adapter, "--export-dir": export_dir,
             "--template": template, "--shard-size": shard_size, "--device": device}
    _launch_step(
        _Step(release, namespace, _options(values, set_, set_string, set_jsons=set_json,
                                           set_files=set_file, set_literals=set_literal),
              print_only, dry_run, wait, timeout, create_namespace, kubeconfig, kube_context),
        RunRequest("export", name, {flag: v for flag, v in flags.items() if v is not None}),
    )


secret_app = typer.Typer(
    help="Create the Secrets the values reference (secrets.hfToken, secrets.wandbApiKey, "
    "secrets.swanlabApiKey, api.apiKeySecret).",
    no_args_is_help=True,
)
app.add_typer(secret_app, name="secret")


@secret_app.command("create")
def secret_create(
    name: Annotated[str, typer.Argument(help="Name of the Secret.")],
    namespace: Namespace = DEFAULT_NAMESPACE,
    *,
    from_file: Annotated[
        list[str] | None,
        typer.Option("--from-file", help="KEY=PATH: the key's value is the file's bytes "
                     "(repeatable; binary files too)."),
    ] = None,
    from_stdin: Annotated[
        str | None,
        typer.Option("--from-stdin", help="KEY: the key's value is standard input, less one "
                     "final newline."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace the data of an existing Opaque Secret.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    kube_context: KubeContext = None,
) -> None:
    """Create an Opaque Secret from files or standard input; prints its keys and sizes,
    never a value.

    There is no --from-literal on purpose: a value on the command line is kept in shell
    history and shown in every process listing. Reference the Secret from the values
    (--set secrets.hfToken.name=NAME); the values themselves never hold a secret."""
    from lmfchart.inputs.secretdata import read_secret_entries
    from lmfchart.usecases.secrets import create_secret

    try:
        entries = read_secret_entries(from_files=from_file or (), from_stdin=from_stdin,
                                      stdin=sys.stdin.buffer)
        written = create_secret(cluster=_connect(kubeconfig, kube_context), name=name,
                                namespace=namespace, entries=entries, force=force)
    except LmfchartError as e:
        raise _fail(e) from e
    keys = ", ".join(f"{key} ({size} bytes)" for key, size in written.sizes)
    typer.echo(f"{written.outcome} Secret {written.namespace}/{written.name} "
               f"(Opaque): {keys}")
