"""The generated chart is real: a real helm lints it and renders exactly what lmfchart does."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.manifests import render_notes
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import (
    by_identity,
    helm_objects,
    helm_run,
    lmf_objects,
    render_chart_dir,
)

pytestmark = pytest.mark.helm

# Overlays a Helm user might pass to the generated chart; each is valid for every example.
OVERLAY = {
    "image": {"tag": "0.9.5"},
    "podLabels": {"team": "ml"},
    "podAnnotations": {"note": "line one\nline two: {{ .Release.Name }}"},
    "env": {"EXTRA": "--- !!python/object:os.system 'x'"},
    "storage": {"saves": {"type": "pvc", "size": "10Gi", "keep": False}},
    "service": {"type": "NodePort", "annotations": {"a": "b"}},
    "nodeSelector": {"pool": "gpu"},
}
SETS = ["image.tag=0.9.3", "shm.enabled=false", "probes.liveness.periodSeconds=45"]


@pytest.mark.parametrize("example", EXAMPLES)
def test_chart_lints_strict(example: str, helm: Path, tmp_path: Path) -> None:
    chart = render_chart_dir(tmp_path / "chart", files=[str(example_values(example))])
    done = helm_run(helm, "lint", "--strict", str(chart))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("example", EXAMPLES)
def test_helm_template_equals_lmfchart_template(example: str, helm: Path, tmp_path: Path) -> None:
    values = str(example_values(example))
    chart = render_chart_dir(tmp_path / "chart", files=[values])
    expected = by_identity(lmf_objects("rel", "team-a", files=[values]))
    actual = by_identity(helm_objects(helm, chart, "rel", "team-a"))
    assert actual == expected


@pytest.mark.parametrize("example", EXAMPLES)
def test_overlay_file_and_set_on_chart_equal_lmfchart(
    example: str, helm: Path, tmp_path: Path
) -> None:
    values = str(example_values(example))
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY))
    chart = render_chart_dir(tmp_path / "chart", files=[values])
    set_flags = [flag for item in SETS for flag in ("--set", item)]
    expected = by_identity(lmf_objects("lmf", "ns", files=[values, str(overlay)], sets=SETS))
    actual = by_identity(helm_objects(helm, chart, "lmf", "ns",
                                      extra=["-f", str(overlay), *set_flags]))
    assert actual == expected
    deployment = next(o for k, o in actual.items() if k[1] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith(":0.9.3")
    assert {"name": "EXTRA", "value": OVERLAY["env"]["EXTRA"]} in container["env"]


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--set", "ingres.enabled=true"], "ingres"),
        (["--set", "gpu.count=many"], "gpu"),
        (["--set", "image.pullPolicy=Sometimes"], "pullPolicy"),
        (["--set", "storage.saves.type=nfs"], "type"),
        (["--set", "ingress.host=Bad_Host"], "host"),
        (["--set", "resources.limits.memory=lots"], "memory"),
    ],
)
def test_schema_rejects_bad_values_given_to_helm(
    flags: list[str], complaint: str, helm: Path, tmp_path: Path
) -> None:
    chart = render_chart_dir(tmp_path / "chart")
    done = helm_run(helm, "template", "lmf", str(chart), *flags)
    assert done.returncode != 0
    assert "schema" in done.stderr.lower()
    assert complaint in done.stderr


def test_defaults_render_a_current_upstream_webui(helm4: Path, tmp_path: Path) -> None:
    """No values at all: the pinned upstream image, started with `llamafactory-cli webui`."""
    chart = render_chart_dir(tmp_path / "chart")
    objects = by_identity(helm_objects(helm4, chart, "lmf", "default"))
    assert objects == by_identity(lmf_objects("lmf", "default"))
    deployment = objects[("apps/v1", "Deployment", "lmf-llama-factory")]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "hiyouga/llamafactory:0.9.4"
    assert container["command"] == ["llamafactory-cli", "webui"]
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/dev/shm" in mounts and "/app/saves" in mounts
    assert "/app/data" not in mounts
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["GRADIO_SERVER_NAME"] == "0.0.0.0"


@pytest.mark.parametrize("example", EXAMPLES)
def test_notes_match_what_helm_prints(example: str, helm4: Path, tmp_path: Path) -> None:
    """lmfchart's NOTES.txt text is what helm prints after installing the chart."""
    values = str(example_values(example))
    chart = render_chart_dir(tmp_path / "chart", files=[values])
    done = helm_run(helm4, "install", "demo", str(chart), "-n", "team-a", "--dry-run=client",
                    "--kubeconfig", str(tmp_path / "none"))
    assert done.returncode == 0, done.stderr
    helm_notes = done.stdout.split("NOTES:\n", 1)[1]
    loaded = load_values(ValueOptions(files=(values,)))
    ours = render_notes(loaded.values, release_name="demo", namespace="team-a")
    assert ours.strip() == helm_notes.strip()
    assert "demo-llama-factory" in ours
