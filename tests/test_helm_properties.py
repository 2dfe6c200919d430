"""Generated values, hostile strings included, render the same objects through helm and
lmfchart, and every string stays inside its own value."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmfchart import openapi
from lmfchart.base.errors import InputError
from lmfchart.yamlio import emit as yamlemit
from tests.support.charts import (
    by_identity,
    helm_objects,
    helm_run,
    lmf_objects,
    render_chart_dir,
)
from tests.support.wrong_values import WRONG_VALUES, with_value

pytestmark = [pytest.mark.helm, pytest.mark.slow]

HOSTILE = [
    "\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: injected\n",
    "{{ .Release.Name }}", "{{- fail \"boom\" }}", "}}{{", "!!python/object:os.system",
    "!binary", "yes", "no", "on", "0777", "1e3", "1_000", "null", "~", "2026-01-01", "&anchor",
    "*alias", "- item", "key: value", "# comment", "'single'", '"double"', "\\", "%", "@",
    "`", "|", ">", "\t", "  leading", "trailing  ", "", "😀 ünïcödé 中文", "<>&",
]
# Control characters are rejected by the model (see the bad-input tests); everything else goes.
SAFE_CHARS = st.characters(
    blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cn"),
    blacklist_characters="\ufeff",
) | st.sampled_from(["\n", "\t"])
TEXT = st.one_of(st.sampled_from(HOSTILE), st.text(SAFE_CHARS, max_size=40))
NAME = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
ENV_NAME = st.from_regex(r"[A-Z_][A-Z0-9_]{0,15}", fullmatch=True)
LABEL_VALUE = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,20}[A-Za-z0-9])?)?", fullmatch=True)
QUANTITY = st.sampled_from(["1", "500m", "2Gi", "1.5", "100Mi", 3, 0.5, "1e3", "16G"])
PATH = st.builds(lambda parts: "/" + "/".join(parts), st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Cn"),
                          blacklist_characters="/\ufeff"), min_size=1, max_size=8)
    .filter(lambda p: p not in (".", "..")), min_size=1, max_size=3))


def volume() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.fixed_dictionaries({"type": st.just("none")}),
        st.fixed_dictionaries({"type": st.just("emptyDir"),
                               "sizeLimit": st.sampled_from(["", "1Gi"])}),
        st.fixed_dictionaries({"type": st.just("hostPath"), "hostPath": PATH,
                               "hostPathType": st.sampled_from(["Directory",
                                                                "DirectoryOrCreate"])}),
        st.fixed_dictionaries({"type": st.just("existingClaim"), "existingClaim": NAME}),
        st.fixed_dictionaries({"type": st.just("pvc"), "size": QUANTITY,
                               "storageClass": st.sampled_from(["", "fast"]),
                               "keep": st.booleans()}),
    )


VALUES = st.fixed_dictionaries(
    {},
    optional={
        "seedCompatibility": st.booleans(),
        "fullnameOverride": NAME,
        "image": st.fixed_dictionaries({}, optional={
            "tag": st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,10}[A-Za-z0-9])?", fullmatch=True),
            "pullPolicy": st.sampled_from(["Always", "IfNotPresent", "Never"]),
            "digest": st.sampled_from(["", "sha256:" + "ab" * 32]),
        }),
        "command": st.lists(TEXT, min_size=1, max_size=3),
        "args": st.lists(TEXT, max_size=3),
        "env": st.dictionaries(ENV_NAME, TEXT, max_size=4),
        "podAnnotations": st.dictionaries(NAME, TEXT, max_size=3),
        "podLabels": st.dictionaries(NAME.map(lambda n: "x-" + n), LABEL_VALUE, max_size=2),
        "nodeSelector": st.dictionaries(NAME, LABEL_VALUE, max_size=2),
        "hub": st.fixed_dictionaries({}, optional={
            "source": st.sampled_from(["huggingface", "modelscope", "openmind"]),
            "hfEndpoint": st.sampled_from(["", "https://hf-mirror.com"]),
        }),
        "proxy": st.fixed_dictionaries({}, optional={"noProxy": TEXT}),
        "gpu": st.fixed_dictionaries({"count": st.integers(0, 8)}),
        "resources": st.fixed_dictionaries({
            "limits": st.dictionaries(st.sampled_from(["cpu", "memory", "ephemeral-storage"]),
                                      st.just("64"), max_size=2),
            "requests": st.dictionaries(st.sampled_from(["cpu", "memory"]), QUANTITY,
                                        max_size=2),
        }),
        "shm": st.fixed_dictionaries({"enabled": st.booleans()}),
        "storage": st.fixed_dictionaries({}, optional={
            name: volume() for name in ("saves", "output", "hfCache", "modelScopeCache")
        }),
        "probes": st.fixed_dictionaries({"enabled": st.booleans()}),
        "service": st.fixed_dictionaries({}, optional={
            "port": st.integers(1, 65535),
            "annotations": st.dictionaries(NAME, TEXT, max_size=2),
        }),
        "ingress": st.fixed_dictionaries({"enabled": st.booleans()}, optional={
            "domain": st.sampled_from(["example.com", "172.18.0.2.nip.io"]),
            "host": st.sampled_from(["", "ui.example.com", "*.apps.example.com"]),
            "path": st.sampled_from(["/", "/llama", "/a b"]).filter(lambda p: " " not in p),
            "annotations": st.dictionaries(NAME, TEXT, max_size=2),
            "className": st.sampled_from(["", "nginx"]),
        }).filter(lambda i: not i["enabled"] or i.get("domain") or i.get("host")),
        "tolerations": st.lists(st.fixed_dictionaries({
            "key": NAME, "operator": st.just("Exists"), "effect": st.just("NoSchedule")}),
            max_size=2),
    },
)


class Refusals:
    """Counts what lmfchart accepted and refused, and holds helm to lmfchart's refusals."""

    def __init__(self, default_chart: Path) -> None:
        self.default_chart = default_chart
        self.counts: Counter[str] = Counter()

    def accepted(self) -> None:
        self.counts["accepted"] += 1

    def helm_must_agree(self, refused: InputError, document: str, helm: Path) -> None:
        """lmfchart refused `document`: helm, given it with -f, refuses it too (every
        cross-key rule is also a `fail` guard in the chart, templates/manifests/checks.yaml)."""
        with tempfile.TemporaryDirectory() as scratch:
            overlay = Path(scratch) / "generated.yaml"
            overlay.write_text(document, encoding="utf-8")
            done = helm_run(helm, "template", "lmf", str(self.default_chart), "-f", str(overlay))
        self.counts["both refuse"] += 1
        assert done.returncode != 0, f"lmfchart refuses, helm renders:\n{refused.message}"


@pytest.fixture(scope="module")
def refusals(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Refusals]:
    found = Refusals(render_chart_dir(tmp_path_factory.mktemp("defaults") / "chart"))
    yield found
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        counts = found.counts
        refused = sum(counts.values()) - counts["accepted"]
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\ngenerated values: {counts['accepted']} accepted, {refused} "
                                f"refused by lmfchart: {dict(counts)}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=VALUES, release=NAME, namespace=NAME)
def test_generated_values_render_identically(
    values: dict[str, Any], release: str, namespace: str, helm4: Path, refusals: Refusals
) -> None:
    document = yamlemit.dump(values)
    try:
        expected = lmf_objects(release, namespace, documents=[("generated.yaml", document)])
    except InputError as refused:
        refusals.helm_must_agree(refused, document, helm4)
        return
    refusals.accepted()
    with tempfile.TemporaryDirectory() as scratch:
        chart = render_chart_dir(Path(scratch) / "chart",
                                 documents=[("generated.yaml", document)])
        actual = by_identity(helm_objects(helm4, chart, release, namespace))
    assert actual == by_identity(expected)
    kinds = {o["kind"] for o in expected}
    assert kinds <= {"Deployment", "Service", "Ingress", "PersistentVolumeClaim",
                     "ServiceAccount", "Pod"}, "a value created an object"
    for obj in expected:
        assert openapi.check_object(obj, openapi.default_version()) == []
    container = next(o for o in expected if o["kind"] == "Deployment")[
        "spec"]["template"]["spec"]["containers"][0]
    if "command" in values:
        assert container["command"] == values["command"]
    for name, value in values.get("env", {}).items():
        assert {"name": name, "value": value} in container["env"]


@settings(max_examples=25, deadline=None)
@given(values=VALUES)
def test_overlay_through_helm_equals_lmfchart(
    values: dict[str, Any], helm3: Path, refusals: Refusals
) -> None:
    """A chart rendered from the defaults, tuned with `-f generated.yaml` under Helm 3."""
    document = yamlemit.dump(values)
    try:
        expected = lmf_objects("lmf", "default", documents=[("generated.yaml", document)])
    except InputError as refused:
        refusals.helm_must_agree(refused, document, helm3)
        return
    refusals.accepted()
    with tempfile.TemporaryDirectory() as scratch:
        chart = render_chart_dir(Path(scratch) / "chart")
        overlay = Path(scratch) / "overlay.yaml"
        overlay.write_text(document, encoding="utf-8")
        actual = by_identity(helm_objects(helm3, chart, "lmf", "default",
                                          extra=["-f", str(overlay)]))
    assert actual == by_identity(expected)


WRONG = st.sampled_from(WRONG_VALUES)


@settings(max_examples=30, deadline=None)
@given(values=VALUES, wrong=WRONG)
def test_helm_refuses_what_lmfchart_refuses(
    values: dict[str, Any], wrong: tuple[tuple[str, ...], Any], helm4: Path,
    refusals: Refusals,
) -> None:
    document = yamlemit.dump(with_value(values, *wrong))
    with pytest.raises(InputError) as refused:
        lmf_objects("lmf", "default", documents=[("generated.yaml", document)])
    refusals.helm_must_agree(refused.value, document, helm4)
