"""Write the Helm chart: every file is produced in memory, then put in place in one move."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from lmfchart import __version__
from lmfchart.base.errors import OutputError
from lmfchart.model.schema import values_schema
from lmfchart.model.values import Values
from lmfchart.model.valuesdoc import reference_table, values_yaml
from lmfchart.render.dialect import CHART_NAME
from lmfchart.render.engine import helm_helpers, manifest_templates, render_helm, render_plain


def chart_files(values: Values) -> dict[str, str]:
    """Relative path -> content of every file of the chart."""
    effective = values.model_dump(mode="json")
    files = {
        "Chart.yaml": render_plain(
            "chart/Chart.yaml.j2",
            name=CHART_NAME,
            version=__version__,
            app_version=json.dumps(effective["image"]["tag"] or "latest"),
        ),
        "values.yaml": values_yaml(effective),
        "values.schema.json": json.dumps(values_schema(), indent=2) + "\n",
        "README.md": render_plain(
            "chart/README.md.j2", name=CHART_NAME, version=__version__,
            values_table=reference_table(),
        ),
        ".helmignore": render_plain("chart/helmignore.j2"),
        "templates/_helpers.tpl": helm_helpers(),
        "templates/NOTES.txt": render_helm("NOTES.txt.j2"),
    }
    for name in manifest_templates():
        files["templates/" + name.split("/", 1)[1].removesuffix(".j2")] = render_helm(name)
    return files


def write_chart(values: Values, out_dir: Path, *, force: bool = False) -> Path:
    """Write the chart to `out_dir` atomically: all of it, or nothing."""
    files = chart_files(values)
    target = out_dir.resolve()
    if target.exists() and not target.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a directory")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise OutputError(f"{out_dir}: directory is not empty (use --force to replace it)")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as e:
        raise OutputError(f"{out_dir}: cannot create the chart here: {e.strerror}") from e
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        os.chmod(staging, 0o755)
        _swap_into_place(staging, target)
    except OSError as e:
        raise OutputError(f"{out_dir}: cannot write the chart: {e.strerror}") from e
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _swap_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        staging.rename(target)
        return
    # Replacing (--force): keep the old chart until the new one is in place.
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
    retired.rmdir()
    target.rename(retired)
    try:
        staging.rename(target)
    except OSError:
        retired.rename(target)
        raise
    shutil.rmtree(retired, ignore_errors=True)
