"""The rendered manifests and the generated chart are accepted by a real API server.

OpenAPI schemas miss what only the server checks (admission, defaulting, field
validation rules); these tests send every example to kube-apiserver v1.35.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.manifests import render_objects, to_yaml_stream
from tests.conftest import EXAMPLES, example_values
from tests.support.charts import render_chart_dir

from .cluster import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.helm]


@pytest.mark.parametrize("example", EXAMPLES)
def test_server_side_dry_run_accepts_every_example(
    example: str, cluster: Cluster, namespace: str
) -> None:
    release = load_values(ValueOptions(files=(str(example_values(example)),)))
    manifests = to_yaml_stream(render_objects(release.values, release_name="lmf",
                                              namespace=namespace))
    done = cluster.kubectl("apply", "--server-side", "--dry-run=server",
                           "--field-manager=lmfchart", "-f", "-", stdin=manifests, check=False)
    assert done.returncode == 0, done.stderr
    assert "deployment.apps/lmf-llama-factory serverside-applied (server dry run)" in done.stdout
    # Nothing was stored.
    listed = cluster.kubectl("get", "deployments,services,pvc", "-n", namespace, "-o", "name")
    assert listed.stdout.strip() == ""


def test_helm_installs_and_uninstalls_the_generated_chart(
    cluster: Cluster, namespace: str, helm4: Path, tmp_path: Path
) -> None:
    """A real `helm install` of the chart rendered from the seed values (no kubelet: no wait)."""
    chart = render_chart_dir(tmp_path / "chart", files=[str(example_values("seed"))])

    def helm(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(helm4), *args, "-n", namespace], env=cluster.env(),
                              capture_output=True, text=True, timeout=120, check=False)

    installed = helm("install", "lmf", str(chart))
    assert installed.returncode == 0, installed.stderr
    assert "kubectl -n " + namespace + " port-forward" not in installed.stdout  # ingress on
    assert "http://lmf.172.18.0.2.nip.io/" in installed.stdout
    selector = cluster.kubectl("get", "deployment", "lmf-llama-factory", "-n", namespace,
                               "-o", "jsonpath={.spec.selector.matchLabels}").stdout
    assert selector == '{"app":"lmf-llama-factory"}'
    assert "lmf" in helm("list", "-q").stdout.split()
    upgraded = helm("upgrade", "lmf", str(chart), "--set", "image.tag=v0.6.2")
    assert upgraded.returncode == 0, upgraded.stderr
    image = cluster.kubectl("get", "deployment", "lmf-llama-factory", "-n", namespace, "-o",
                            "jsonpath={.spec.template.spec.containers[0].image}").stdout
    assert image == "kubeagi/llama-factory:v0.6.2"
    removed = helm("uninstall", "lmf")
    assert removed.returncode == 0, removed.stderr
    left = cluster.kubectl("get", "deployments,services,ingresses", "-n", namespace, "-o", "name")
    assert left.stdout.strip() == ""
