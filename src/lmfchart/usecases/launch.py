"""`train` and `export` on a cluster: the run joins the release's values and the release
is upgraded (installed if new), so the run is part of the release like any other entry:
`helm get values` shows it, removing it prunes its objects, bumping `rerun` runs it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from lmfchart.base.errors import TemplateError
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.manifests import render_objects
from lmfchart.usecases.applying import Progress
from lmfchart.usecases.cluster import Cluster, ObjectRef
from lmfchart.usecases.install import InstallResult, install
from lmfchart.usecases.releases import read_history
from lmfchart.usecases.runs import (
    NamedRun,
    flag_layers,
    label,
    recorded_runner,
    reused_layer,
    run_objects,
    runner,
    values_record,
)
from lmfchart.usecases.wait import Waiter, WaitResult


@dataclass(frozen=True)
class LaunchResult:
    run: NamedRun
    install: InstallResult
    job: str
    """The run's Job (or PyTorchJob) as KIND/NAME."""
    previous: str | None
    """The run's Job in the release before this launch, if it had one."""
    rerun: int
    """The run's `rerun` value: one more runs an unchanged config again."""

    @property
    def change(self) -> Literal["created", "replaced", "unchanged"]:
        if self.previous is None:
            return "created"
        return "unchanged" if self.previous == self.job else "replaced"


def launch(
    *, cluster: Cluster, release_name: str, namespace: str, values: ValueOptions,
    run: NamedRun, create_namespace: bool = False, dry_run: bool = False,
    progress: Progress | None = None, wait: Waiter | None = None,
) -> LaunchResult:
    """Upgrade the release with the run added: the release's current values (as
    `helm upgrade --reuse-values`), then VALUES, then the run's flags. WAIT, when given,
    waits for the run's objects only: other runs may take days."""
    history = [stored.record for stored in read_history(
        cluster=cluster, release_name=release_name, namespace=namespace)]
    reused = values_record(history)
    options = replace(values, before_files=(reused_layer(reused, run),) if reused else (),
                      after_flags=flag_layers(run))
    loaded = load_values(options)
    mine = run_objects(render_objects(loaded.values, release_name=release_name,
                                      namespace=namespace), run)
    job = runner(mine)
    if job is None:
        raise TemplateError(f"the chart made no Job for {run}")
    previous = recorded_runner(history[-1] if history else None, run)
    result = install(
        cluster=cluster, release_name=release_name, namespace=namespace, values=options,
        create_namespace=create_namespace, dry_run=dry_run, progress=progress,
        wait=None if wait is None else _waiting_for({ObjectRef.of(o) for o in mine}, wait),
    )
    entry = (loaded.values.train if run.kind == "train" else loaded.values.export)[run.name]
    return LaunchResult(run, result, label(job), label(previous) if previous else None,
                        entry.rerun)


def _waiting_for(refs: set[ObjectRef], wait: Waiter) -> Waiter:
    def wait_for_run(objects: Sequence[ObjectRef]) -> WaitResult:
        return wait([ref for ref in objects if ref in refs])

    return wait_for_run
