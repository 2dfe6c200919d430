"""`lmfchart install/status/history/uninstall` against a real API server, and the releases
they leave managed by the real helm 4 and helm 3 binaries (and the reverse).

Each test asserts the cluster's state (objects, uids, resourceVersions, record Secrets), read
with kubectl or helm, not only what lmfchart prints.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import example_values
from tests.support.charts import render_chart_dir

from . import commands
from .cluster import Cluster
from .commands import get, helm_install_rendered, helm_run, lmfchart, records

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

SEED = str(example_values("seed"))
DEPLOYMENT = "deployment/lmf-llama-factory"


def snapshot(cluster: Cluster, namespace: str) -> dict[str, str]:
    """Every object of every listable namespaced kind in NAMESPACE -> its resourceVersion."""
    kinds = cluster.kubectl("api-resources", "--namespaced", "--verbs=list",
                            "-o", "name").stdout.split()
    listed = get(cluster, ",".join(k for k in kinds if k != "events" and
                                   not k.startswith("events.")), namespace)
    return {f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
            for o in listed["items"]}


def helm_history(helm: Path, cluster: Cluster, namespace: str) -> list[tuple[int, str]]:
    """(revision, status) of each revision, as `helm history lmf` shows them."""
    return [(revision, status) for revision, status, _ in
            commands.helm_history(helm, cluster, namespace)]


def test_install_is_idempotent_and_status_reads_it(cluster: Cluster, namespace: str) -> None:
    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert done.exit_code == 0, done.output
    assert "Deployment/lmf-llama-factory: created" in done.stdout
    deployment = get(cluster, DEPLOYMENT, namespace)
    annotations = deployment["metadata"]["annotations"]
    assert annotations["meta.helm.sh/release-name"] == "lmf"
    assert annotations["meta.helm.sh/release-namespace"] == namespace
    assert [(f["manager"], f["operation"]) for f in deployment["metadata"]["managedFields"]
            if f["manager"] == "helm"] == [("helm", "Apply")]
    before = snapshot(cluster, namespace)
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "deployed"}

    again = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert again.exit_code == 0, again.output
    assert f"no changes: release lmf in namespace {namespace} stays at revision 1" in (
        again.stdout)
    assert snapshot(cluster, namespace) == before

    shown = lmfchart(cluster, "status", "-n", namespace, "-o", "json")
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert (report["revision"], report["status"], report["url"]) == (
        1, "deployed", "http://lmf.172.18.0.2.nip.io/")
    assert {(o["kind"], o["exists"]) for o in report["objects"]} == {
        ("Service", True), ("Deployment", True), ("Ingress", True)}


def test_upgrade_prunes_and_keep_survives_prune_and_uninstall(
    cluster: Cluster, namespace: str, helm4: Path,
) -> None:
    first = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                     "--set", "storage.saves.type=pvc")
    assert first.exit_code == 0, first.output
    uid = get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"]
    upgraded = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                        "--set", "ingress.enable=false")
    assert upgraded.exit_code == 0, upgraded.output
    assert "Ingress/lmf-llama-factory: pruned" in upgraded.stdout
    assert ("PersistentVolumeClaim/lmf-llama-factory-saves: kept "
            "(helm.sh/resource-policy: keep)") in upgraded.stdout
    left = cluster.kubectl("get", "ingress,pvc,deployment", "-n", namespace, "-o", "name")
    assert sorted(left.stdout.split()) == [
        "deployment.apps/lmf-llama-factory", "persistentvolumeclaim/lmf-llama-factory-saves"]
    assert get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"] == uid
    assert helm_history(helm4, cluster, namespace) == [(1, "superseded"), (2, "deployed")]
    history = lmfchart(cluster, "history", "-n", namespace, "-o", "json")
    assert [(r["revision"], r["status"]) for r in json.loads(history.stdout)] == [
        (1, "superseded"), (2, "deployed")]

    back = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                    "--set", "storage.saves.type=pvc")
    assert back.exit_code == 0, back.output
    removed = lmfchart(cluster, "uninstall", "-n", namespace)
    assert removed.exit_code == 0, removed.output
    assert "kept PersistentVolumeClaim/lmf-llama-factory-saves" in removed.stdout
    left = cluster.kubectl("get", "deployment,service,ingress,pvc", "-n", namespace,
                           "-o", "name")
    assert left.stdout.split() == ["persistentvolumeclaim/lmf-llama-factory-saves"]
    assert records(cluster, namespace) == {}


def test_dry_run_changes_nothing_and_prints_the_plan(cluster: Cluster, namespace: str) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    before = snapshot(cluster, namespace)
    planned = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--dry-run",
                       "--set", "ingress.enable=false", "--set", "resources.limits.cpu=2",
                       "--set", "storage.saves.type=pvc")
    assert planned.exit_code == 0, planned.output
    for line in ("would create  PersistentVolumeClaim/lmf-llama-factory-saves",
                 "unchanged     Service/lmf-llama-factory",
                 "would change  Deployment/lmf-llama-factory",
                 "would prune   Ingress/lmf-llama-factory"):
        assert line in planned.stdout, planned.stdout
    assert snapshot(cluster, namespace) == before

    # An object only the server refuses: a toleration with operator Exists and a value.
    refused = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--dry-run",
                       "--set-json", 'tolerations=[{"key":"a","operator":"Exists","value":"x"}]')
    assert refused.exit_code == 5, refused.output
    assert "refused       Deployment/lmf-llama-factory:" in refused.stdout
    assert snapshot(cluster, namespace) == before


def test_dry_run_into_a_namespace_that_does_not_exist(cluster: Cluster, namespace: str) -> None:
    missing = namespace + "-new"
    planned = lmfchart(cluster, "install", "-n", missing, "--dry-run", "--create-namespace")
    assert planned.exit_code == 0, planned.output
    assert f"namespace {missing} does not exist yet" in planned.stdout
    assert "kubernetes#83562" in planned.stdout
    refused = lmfchart(cluster, "install", "-n", missing, "--dry-run")
    assert refused.exit_code == 5
    assert f"namespace {missing} does not exist; create it or pass --create-namespace" in (
        refused.stderr)
    assert cluster.kubectl("get", "namespace", missing, check=False).returncode != 0


def test_objects_of_no_release_are_refused_unless_taken_over(
    cluster: Cluster, namespace: str,
) -> None:
    cluster.kubectl("create", "service", "clusterip", "lmf-llama-factory", "--tcp=80:80",
                    "-n", namespace)
    refused = lmfchart(cluster, "install", "-n", namespace)
    assert refused.exit_code == 5
    assert ("Service/lmf-llama-factory exists and belongs to no release (no Helm ownership "
            "label and annotations)") in refused.stderr
    assert cluster.kubectl("get", "deployments", "-n", namespace, "-o", "name").stdout == ""
    assert records(cluster, namespace) == {}
    taken = lmfchart(cluster, "install", "-n", namespace, "--take-ownership")
    assert taken.exit_code == 0, taken.output
    service = get(cluster, "service/lmf-llama-factory", namespace)
    assert service["metadata"]["annotations"]["meta.helm.sh/release-name"] == "lmf"


def test_helm_manages_a_release_lmfchart_installed(
    cluster: Cluster, namespace: str, helm: Path, tmp_path: Path,
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    listed = helm_run(helm, cluster, "list", "-n", namespace, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [(r["name"], r["revision"], r["status"]) for r in json.loads(listed.stdout)] == [
        ("lmf", "1", "deployed")]
    assert helm_run(helm, cluster, "status", "lmf", "-n", namespace).returncode == 0
    values = helm_run(helm, cluster, "get", "values", "lmf", "-n", namespace, "-o", "json")
    assert values.returncode == 0, values.stderr
    # The values given, in the chart's layout (the seed file's keys translated).
    given = json.loads(values.stdout)
    assert (given["image"]["tag"], given["ingress"]["enabled"]) == ("v0.6.1", True)
    assert "imagePullPolicy" not in given and "enable" not in given["ingress"]
    chart = render_chart_dir(tmp_path / "chart", files=[SEED])
    # No values: helm reuses the recorded ones, which must pass the chart's schema.
    reused = helm_run(helm, cluster, "upgrade", "lmf", str(chart), "-n", namespace)
    assert reused.returncode == 0, reused.stderr
    upgraded = helm_run(helm, cluster, "upgrade", "lmf", str(chart), "-n", namespace,
                        "--set", "image.tag=v0.6.2")
    assert upgraded.returncode == 0, upgraded.stderr
    image = get(cluster, DEPLOYMENT, namespace)["spec"]["template"]["spec"]["containers"][0][
        "image"]
    assert image == "kubeagi/llama-factory:v0.6.2"
    assert helm_history(helm, cluster, namespace) == [
        (1, "superseded"), (2, "superseded"), (3, "deployed")]
    removed = helm_run(helm, cluster, "uninstall", "lmf", "-n", namespace)
    assert removed.returncode == 0, removed.stderr
    left = cluster.kubectl("get", "deployment,service,ingress", "-n", namespace, "-o", "name")
    assert left.stdout == ""
    assert records(cluster, namespace) == {}


def test_lmfchart_upgrades_a_release_helm_installed(
    cluster: Cluster, namespace: str, helm: Path, tmp_path: Path,
) -> None:
    helm_install_rendered(helm, cluster, namespace, tmp_path / "chart", SEED)
    uid = get(cluster, DEPLOYMENT, namespace)["metadata"]["uid"]
    shown = json.loads(lmfchart(cluster, "status", "-n", namespace, "-o", "json").stdout)
    assert (shown["revision"], shown["status"], shown["url"]) == (
        1, "deployed", "http://lmf.172.18.0.2.nip.io/")
    assert all(o["exists"] for o in shown["objects"]) and len(shown["objects"]) == 3
    upgraded = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                        "--set", "image=kubeagi/llama-factory:v0.6.2")
    assert upgraded.exit_code == 0, upgraded.output
    deployment = get(cluster, DEPLOYMENT, namespace)
    assert deployment["metadata"]["uid"] == uid
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v0.6.2")
    assert helm_history(helm, cluster, namespace) == [(1, "superseded"), (2, "deployed")]
    rolled = helm_run(helm, cluster, "rollback", "lmf", "1", "-n", namespace)
    assert rolled.returncode == 0, rolled.stderr
    assert get(cluster, DEPLOYMENT, namespace)["spec"]["template"]["spec"]["containers"][0][
        "image"].endswith(":v0.6.1")
    listed = lmfchart(cluster, "history", "-n", namespace, "-o", "json")
    assert [(r["revision"], r["status"]) for r in json.loads(listed.stdout)] == [
        (1, "superseded"), (2, "superseded"), (3, "deployed")]
    removed = lmfchart(cluster, "uninstall", "-n", namespace)
    assert removed.exit_code == 0, removed.output
    left = cluster.kubectl("get", "deployment,service,ingress", "-n", namespace, "-o", "name")
    assert left.stdout == "" and records(cluster, namespace) == {}


# The seed chart, written from docs/seed-chart.md: no strategy, selector `app: R-...`.
SEED_CHART = {
    "Chart.yaml": "apiVersion: v2\nname: llama-factory\nversion: 0.0.1\nappVersion: 0.6.1\n",
    "values.yaml": Path(SEED).read_text(),
    "templates/deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-llama-factory
  labels: {app: {{ .Release.Name }}-llama-factory}
spec:
  replicas: 1
  selector:
    matchLabels: {app: {{ .Release.Name }}-llama-factory}
  template:
    metadata:
      labels: {app: {{ .Release.Name }}-llama-factory}
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: llama-factory
          image: {{ .Values.image }}
          imagePullPolicy: {{ .Values.imagePullPolicy }}
          ports: [{containerPort: 7860, protocol: TCP}]
          resources: {{ toJson .Values.resources }}
""",
    "templates/service.yaml": """\
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-llama-factory
  labels: {app: {{ .Release.Name }}-llama-factory}
spec:
  type: ClusterIP
  selector: {app: {{ .Release.Name }}-llama-factory}
  ports: [{name: http, port: 7860, targetPort: 7860, protocol: TCP}]
""",
    "templates/ingress.yaml": """\
{{- if .Values.ingress.enable }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ .Release.Name }}-llama-factory
  labels: {app: {{ .Release.Name }}-llama-factory}
  annotations: {kubernetes.io/ingress.class: {{ .Values.ingress.ingressClassName }}}
spec:
  rules:
    - host: {{ .Release.Name }}.{{ .Values.ingress.ingressDomain }}
      http:
        paths:
          - path: /
            pathType: ImplementationSpecific
            backend:
              service: {name: {{ .Release.Name }}-llama-factory, port: {number: 7860}}
{{- end }}
""",
}


def test_seed_chart_release_is_taken_over_in_place(
    cluster: Cluster, namespace: str, helm: Path, tmp_path: Path,
) -> None:
    chart = tmp_path / "seed"
    for name, text in SEED_CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    installed = helm_run(helm, cluster, "install", "lmf", str(chart), "-n", namespace)
    assert installed.returncode == 0, installed.stderr
    before = get(cluster, DEPLOYMENT, namespace)
    assert before["spec"]["strategy"]["type"] == "RollingUpdate"
    untouched = snapshot(cluster, namespace)
    planned = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert "would change  Deployment/lmf-llama-factory: strategy RollingUpdate to Recreate" in (
        planned.stdout)
    assert snapshot(cluster, namespace) == untouched

    taken = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert taken.exit_code == 0, taken.output
    after = get(cluster, DEPLOYMENT, namespace)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["selector"] == {"matchLabels": {"app": "lmf-llama-factory"}}
    assert after["spec"]["strategy"] == {"type": "Recreate"}
    assert helm_history(helm, cluster, namespace) == [(1, "superseded"), (2, "deployed")]
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "superseded",
                                           "sh.helm.release.v1.lmf.v2": "deployed"}
    # Helm can still manage it: back to the seed chart's revision, in place.
    rolled = helm_run(helm, cluster, "rollback", "lmf", "1", "-n", namespace)
    assert rolled.returncode == 0, rolled.stderr
    back = get(cluster, DEPLOYMENT, namespace)
    assert back["metadata"]["uid"] == before["metadata"]["uid"]
    assert helm_history(helm, cluster, namespace)[-1] == (3, "deployed")
