"""Release records on a real API server, both ways, with the real helm v4 and v3 binaries.

(a) Records written by `helm install`/`helm upgrade` decode with `record_from_secret`.
(b) Records written by lmfchart (objects applied server-side as field manager `helm`) are
    listed, shown, upgraded, rolled back and uninstalled by `helm`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from lmfchart import __version__
from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.model.expr import Scope
from lmfchart.model.values import Values
from lmfchart.release.hooks import is_hook
from lmfchart.release.manifest import build_manifest, manifest_entries, manifest_objects
from lmfchart.release.record import (
    ReleaseRecord,
    chart_payload,
    record_from_secret,
    record_labels,
    record_to_secret,
    rfc3339,
)
from lmfchart.render.chartfiles import chart_files, write_chart
from lmfchart.render.engine import manifest_templates, render_concrete
from lmfchart.render.manifests import render_notes, render_objects
from tests.support.charts import identity, lmf_objects, parse_stream

from .cluster import Cluster

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

# No kubelet runs: probes off keeps nothing waiting for a container.
SETS = ("probes.enabled=false",)
USER_VALUES = {"probes": {"enabled": False}}
OWNERSHIP_LABEL = "app.kubernetes.io/managed-by"


class Helm:
    """One real helm binary pointed at the test cluster and one namespace."""

    def __init__(self, binary: Path, major: int, cluster: Cluster, namespace: str) -> None:
        self.binary, self.major, self.cluster, self.namespace = (
            binary, major, cluster, namespace)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.binary), *args, "-n", self.namespace],
                              env=self.cluster.env(), capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, f"helm {' '.join(args)} failed:\n{done.stderr}"
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


def stored_records(api_client: Any, namespace: str, release: str) -> dict[int, ReleaseRecord]:
    """Every record of RELEASE as the API server returns it, decoded, by revision."""
    from kubernetes import client

    selector = ",".join(f"{k}={v}" for k, v in record_labels(release).items())
    secrets = client.CoreV1Api(api_client).list_namespaced_secret(
        namespace, label_selector=selector).items
    records = [record_from_secret(api_client.sanitize_for_serialization(s)) for s in secrets]
    return {record.version: record for record in records}


def without_modtimes(chart: dict[str, Any]) -> dict[str, Any]:
    """Helm 4 stamps file modification times into the chart; they carry no content."""
    def strip(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in entry.items() if k not in ("modtime", "schemamodtime")}
    return {**strip(chart), "templates": [strip(t) for t in chart["templates"]],
            "files": [strip(f) for f in chart["files"]]}


@pytest.fixture(params=[4, 3], ids=["helm4", "helm3"])
def helm_cli(request: pytest.FixtureRequest, cluster: Cluster, namespace: str) -> Helm:
    binary: Path = request.getfixturevalue(f"helm{request.param}")
    return Helm(binary, request.param, cluster, namespace)


# -- (a) written by helm, read by lmfchart ------------------------------------------------


def test_records_written_by_helm_decode(
    helm_cli: Helm, api_client: Any, namespace: str, tmp_path: Path,
) -> None:
    helm = helm_cli
    defaults = load_values(ValueOptions()).values
    chart = write_chart(defaults, tmp_path / "chart")
    helm.run("install", "lmf", str(chart), "--set", SETS[0], "--labels", "team=ml")

    [first] = stored_records(api_client, namespace, "lmf").values()
    assert (first.name, first.namespace, first.version, first.status) == (
        "lmf", namespace, 1, "deployed")
    assert first.config == USER_VALUES
    assert first.apply_method == ("ssa" if helm.major == 4 else None)
    assert first.extra_labels == {"team": "ml"}
    assert first.first_deployed is not None and first.first_deployed == first.last_deployed
    assert first.deleted is None
    assert first.description == "Install complete"
    # The chart helm stored is the chart lmfchart would store for the same files.
    assert without_modtimes(first.chart) == chart_payload(files=chart_files(defaults))
    assert (first.chart_name, first.chart_version) == ("llama-factory", __version__)
    # Manifest and notes: what helm shows, and what lmfchart renders for the same values.
    objects = manifest_objects(first.manifest)
    assert objects == parse_stream(helm.run("get", "manifest", "lmf").stdout)
    rendered = lmf_objects("lmf", namespace, sets=SETS)
    assert objects == [obj for obj in rendered if not is_hook(obj)]
    # The test hook is kept beside the manifest, as lmfchart keeps it (release/hooks.py).
    assert [manifest_objects(hook["manifest"]) for hook in first.hooks] == [
        [obj] for obj in rendered if is_hook(obj)]
    assert [h["path"] for h in first.hooks] == [
        "llama-factory/templates/tests/test-connection.yaml"]
    sources = {source for source, _ in manifest_entries(first.manifest)}
    assert sources == {"llama-factory/templates/deployment.yaml",
                       "llama-factory/templates/service.yaml"}
    loaded = load_values(ValueOptions(sets=SETS)).values
    assert first.notes == render_notes(loaded, release_name="lmf", namespace=namespace)

    helm.run("upgrade", "lmf", str(chart), "--reuse-values", "--set", "image.tag=0.9.3")
    records = stored_records(api_client, namespace, "lmf")
    assert sorted(records) == [1, 2]
    assert records[1].status == "superseded"
    assert records[2].status == "deployed"
    assert records[2].description == "Upgrade complete"
    assert records[2].config == {**USER_VALUES, "image": {"tag": "0.9.3"}}
    assert records[2].first_deployed == first.first_deployed
    assert records[2].last_deployed != first.last_deployed
    assert records[2].apply_method == first.apply_method
    deployment = next(o for o in manifest_objects(records[2].manifest)
                      if o["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":0.9.3")

    # Rewritten by lmfchart (as an upgrade rewrites the previous revision), helm still reads
    # every revision the same.
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    for record in records.values():
        core.replace_namespaced_secret(record.secret_name, namespace,
                                       record_to_secret(record, created=False))
    assert stored_records(api_client, namespace, "lmf") == records
    history = helm.json("history", "lmf")
    assert [(h["revision"], h["status"]) for h in history] == [(1, "superseded"),
                                                                 (2, "deployed")]
    assert helm.json("get", "values", "lmf", "--revision", "1") == USER_VALUES
    assert manifest_objects(helm.run("get", "manifest", "lmf").stdout) == \
        manifest_objects(records[2].manifest)


# -- (b) written by lmfchart, read by helm ------------------------------------------------


def sourced_objects(values: Values, release: str, namespace: str) -> list[tuple[str, Any]]:
    """The release's objects in install order, each with the template file that makes it."""
    scope = Scope(values=values.model_dump(mode="json"), release_name=release,
                  namespace=namespace, chart_version=__version__)
    source: dict[tuple[str, str, str], str] = {}
    for template in manifest_templates():
        for obj in parse_stream(render_concrete(template, scope)):
            source[identity(obj)] = template.split("/", 1)[1].removesuffix(".j2")
    objects = render_objects(values, release_name=release, namespace=namespace)
    return [(source[identity(obj)], obj) for obj in objects if not is_hook(obj)]


def install_like_lmfchart(
    cluster: Cluster, api_client: Any, *, release: str, namespace: str,
) -> tuple[ReleaseRecord, list[dict[str, Any]]]:
    """Apply the objects as Helm 4 would (server-side, manager `helm`, ownership metadata)
    and store the record lmfchart writes for them."""
    from kubernetes import client

    values = load_values(ValueOptions(sets=SETS)).values
    pairs = sourced_objects(values, release, namespace)
    for _, obj in pairs:
        owned = json.loads(json.dumps(obj))
        owned["metadata"].setdefault("labels", {})[OWNERSHIP_LABEL] = "Helm"
        owned["metadata"].setdefault("annotations", {}).update({
            "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace})
        cluster.kubectl("apply", "--server-side", "--field-manager=helm", "-f", "-",
                        stdin=json.dumps(owned))
    now = rfc3339()
    record = ReleaseRecord(
        name=release, namespace=namespace, version=1, status="deployed",
        config=USER_VALUES, manifest=build_manifest(pairs),
        chart=chart_payload(files=chart_files(load_values(ValueOptions()).values)),
        first_deployed=now, last_deployed=now, deleted=None,
        description="Install complete",
        notes=render_notes(values, release_name=release, namespace=namespace),
        apply_method="ssa", extra_labels={"team": "ml"},
    )
    client.CoreV1Api(api_client).create_namespaced_secret(
        namespace, record_to_secret(record, created=True))
    return record, [obj for _, obj in pairs]


def live_image(cluster: Cluster, namespace: str, name: str) -> str:
    return cluster.kubectl("get", "deployment", name, "-n", namespace, "-o",
                           "jsonpath={.spec.template.spec.containers[0].image}").stdout


def test_helm_manages_a_release_lmfchart_recorded(
    helm_cli: Helm, cluster: Cluster, api_client: Any, namespace: str, tmp_path: Path,
) -> None:
    helm = helm_cli
    release = f"lmf{helm.major}"
    record, objects = install_like_lmfchart(cluster, api_client, release=release,
                                            namespace=namespace)

    [listed] = helm.json("list")
    assert (listed["name"], listed["namespace"], listed["revision"], listed["status"]) == (
        release, namespace, "1", "deployed")
    assert (listed["chart"], listed["app_version"]) == (
        f"llama-factory-{__version__}", record.app_version)
    status = helm.json("status", release)
    assert (status["name"], status["version"], status["info"]["status"]) == (
        release, 1, "deployed")
    assert status["info"]["notes"] == record.notes
    assert helm.json("get", "values", release) == USER_VALUES
    assert parse_stream(helm.run("get", "manifest", release).stdout) == objects
    [revision] = helm.json("history", release)
    assert (revision["revision"], revision["status"], revision["description"]) == (
        1, "deployed", "Install complete")

    # --reuse-values renders the new chart with the values stored in the record: the
    # stored chart's defaults and user values, not the new chart's defaults.
    elsewhere = load_values(ValueOptions(sets=("image.repository=example.org/elsewhere",)))
    chart = write_chart(elsewhere.values, tmp_path / "chart")
    name = f"{release}-llama-factory"
    original_image = live_image(cluster, namespace, name)
    repository = load_values(ValueOptions()).values.image.repository
    assert original_image.startswith(f"{repository}:")
    helm.run("upgrade", release, str(chart), "--reuse-values", "--set", "image.tag=0.9.3")
    assert live_image(cluster, namespace, name) == f"{repository}:0.9.3"
    records = stored_records(api_client, namespace, release)
    assert (records[1].status, records[2].status) == ("superseded", "deployed")
    assert records[2].config == {**USER_VALUES, "image": {"tag": "0.9.3"}}
    assert records[1].extra_labels == {"team": "ml"}   # helm kept lmfchart's user label

    # Rollback renders revision 1 again from the chart lmfchart stored in it.
    helm.run("rollback", release, "1")
    assert live_image(cluster, namespace, name) == original_image
    history = helm.json("history", release)
    assert [(h["revision"], h["status"]) for h in history] == [
        (1, "superseded"), (2, "superseded"), (3, "deployed")]
    rolled_back = stored_records(api_client, namespace, release)[3]
    assert (rolled_back.config, rolled_back.notes) == (USER_VALUES, record.notes)

    helm.run("uninstall", release)
    left = cluster.kubectl("get", "deployments,services,secrets", "-n", namespace, "-o", "name",
                           "-l", f"app.kubernetes.io/instance={release}")
    assert left.stdout.strip() == ""
    assert stored_records(api_client, namespace, release) == {}
