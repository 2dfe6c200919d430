"""Helm rejects what lmfchart rejects: the bad-input catalogue, run through a real helm.

A chart rendered with default values gets each bad values file with `-f` (and the case's
--set flags). Both `lmfchart template` and `helm template` must refuse it. Where the refusal
is one of lmfchart's cross-checks, Helm must fail in the chart's guards with the same
message. Cases that cannot be written as values for Helm, or that lmfchart refuses on
purpose where Helm reads the input differently, are listed in EXCLUDED with the reason and
printed when the test runs (`pytest -rA`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.support.charts import helm_run, render_chart_dir
from tests.test_bad_inputs import CASES, Case

pytestmark = pytest.mark.helm

runner = CliRunner()

_TAGS = "lmfchart refuses YAML tags on purpose; Helm's YAML reader drops them"
_SET_SYNTAX = ("--set syntax that Helm's parser reads differently; the --set parser is "
               "compared with Helm's in the inputs layer's tests")
EXCLUDED: dict[str, str] = {
    "yaml-python-object-map": _TAGS,
    "yaml-python-apply-list": _TAGS,
    "yaml-python-name-scalar": _TAGS,
    "yaml-python-object-top-level": _TAGS,
    "yaml-binary": _TAGS,
    "yaml-local-tag": _TAGS,
    "duplicate-top-level-key": "Helm's YAML reader lets the last duplicate key win",
    "duplicate-nested-key": "Helm's YAML reader lets the last duplicate key win",
    "two-documents": "Helm reads only the first document of a values file",
    "utf16-with-bom": "Helm 3 decodes a UTF-16 file with a byte order mark",
    "integer-beyond-float64": "Helm reads the number as the float64 next to it, which the "
                              "schema accepts: the values Helm sees are valid",
    "set-empty-key": _SET_SYNTAX,
    "set-empty": _SET_SYNTAX,
    "set-trailing-backslash": _SET_SYNTAX,
    "set-unclosed-index": _SET_SYNTAX,
}
# Refused by a cross-check (model/crosschecks.py) for Helm too, not by the schema first.
CROSS_CHECKED = {
    "ingress-without-host-or-domain", "tls-without-host", "env-collides-with-chart-variable",
    "env-gradio-port", "gpu-twice-limits", "gpu-twice-requests", "hostPath-without-path",
    "existingClaim-without-name", "two-volumes-one-mountPath", "volume-on-dev-shm",
    "three-volumes-one-mountPath", "cpu-request-above-limit", "memory-request-above-limit",
    "request-above-limit-across-units", "upstream-image-without-command",
    "empty-tag-without-digest", "set-empty-image-tag", "train-output-on-emptyDir",
    "train-nodes-without-gpus", "train-nodes-on-hostPath-output", "train-nodes-on-rwo-output",
    "train-dataset-dir-and-info", "export-lora-without-adapter", "export-adapter-with-full",
    "api-without-model", "env-shadows-workload-variable", "train-ppo-without-reward-model",
    "ingress-without-authentication", "basic-auth-without-nginx", "external-auth-on-traefik",
    "traefik-middlewares-on-nginx", "basic-and-external-auth", "auth-signin-without-url",
    "issuer-and-cluster-issuer", "cert-manager-without-host",
    "annotation-repeats-chart-annotation", "httproute-without-parent-refs",
    "httproute-without-authentication", "httproute-path-differs-from-ingress",
    "api-path-with-trailing-slash", "env-fastapi-root-path",
    "non-root-mount-below-root", "non-root-and-pod-run-as-user", "privileged-without-escalation",
    "env-hf-token-inline", "env-api-key-suffix-inline", "env-password-by-set",
    "train-extra-hf-hub-token", "export-extra-ms-hub-token", "api-extra-hub-token",
    "train-wandb-without-key", "train-swanlab-without-key",
}


def _as_values(case: Case) -> bool:
    return not callable(case.text)


HELM_CASES = [case for case in CASES if _as_values(case) and case.id not in EXCLUDED]


def test_exclusions_are_listed() -> None:
    files = [case.id for case in CASES if not _as_values(case)]
    for case_id in files:
        print(f"excluded {case_id}: a problem with the file itself, not values in it")
    for case_id, reason in EXCLUDED.items():
        print(f"excluded {case_id}: {reason}")
    ids = {case.id for case in CASES}
    assert set(EXCLUDED) <= ids, set(EXCLUDED) - ids
    assert {case.id for case in HELM_CASES} >= CROSS_CHECKED


@pytest.fixture(scope="module")
def default_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_chart_dir(tmp_path_factory.mktemp("chart") / "llama-factory")


def _values_args(case: Case, tmp_path: Path) -> list[str]:
    if case.text is None:
        return list(case.sets)
    path = tmp_path / "bad.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        assert isinstance(case.text, str)
        path.write_text(case.text, encoding="utf-8")
    return ["-f", str(path), *case.sets]


def _message(stderr: str) -> str:
    """lmfchart's `error: FILE:LINE: KEY: MESSAGE` without the location and key."""
    first = stderr.removeprefix("error: ").splitlines()[0]
    return re.split(r": ", first, maxsplit=2)[-1]


@pytest.mark.parametrize("case", HELM_CASES, ids=[case.id for case in HELM_CASES])
def test_helm_rejects_what_lmfchart_rejects(
    case: Case, helm: Path, default_chart: Path, tmp_path: Path
) -> None:
    args = _values_args(case, tmp_path)
    ours = runner.invoke(app, ["template", *args])
    assert ours.exit_code != 0, ours.output
    theirs = helm_run(helm, "template", "lmf", str(default_chart), *args)
    assert theirs.returncode != 0, f"helm accepted {case.id}:\n{theirs.stdout[:2000]}"
    if case.id in CROSS_CHECKED:
        assert "templates/checks.yaml" in theirs.stderr, theirs.stderr
        assert _message(ours.stderr) in theirs.stderr, (ours.stderr, theirs.stderr)


@pytest.mark.parametrize(
    ("domain", "valid"),
    [("example.com", True), ("a-b.example.com", True), ("*.example.com", False),
     ("x.*.example.com", False), ("Example.com", False), ("example.com.", False)],
)
def test_domain_python_and_chart_schema_agree(
    domain: str, valid: bool, helm: Path, default_chart: Path
) -> None:
    """A wildcard is no domain: <release>.*.example.com is no host an Ingress takes."""
    sets = ["--set", "ingress.enabled=true", "--set", "ingress.allowAnonymous=true",
            "--set-string", f"ingress.domain={domain}"]
    ours = runner.invoke(app, ["template", *sets])
    theirs = helm_run(helm, "template", "lmf", str(default_chart), *sets)
    assert (ours.exit_code == 0, theirs.returncode == 0) == (valid, valid), (
        ours.output, theirs.stderr)
    if valid:
        assert f"host: lmf.{domain}" in ours.stdout
        assert f"host: \"lmf.{domain}\"" in theirs.stdout
