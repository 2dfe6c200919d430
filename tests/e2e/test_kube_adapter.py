"""`lmfchart.kube.KubeCluster` against the real API server: what install builds on.

Each test asserts the cluster's state (read back with the admin client or kubectl) as well
as what the adapter returned or raised.
"""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart.base.errors import ClusterError, ConflictError
from lmfchart.kube.cluster import KubeCluster
from lmfchart.kube.connect import connect
from lmfchart.kube.restmapper import BUILT_IN
from lmfchart.usecases.cluster import ObjectRef

from .cluster import Cluster as ControlPlane

pytestmark = pytest.mark.e2e

SECRET_TEXT = "hunter2-do-not-print"


def _config_map(name: str, namespace: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": data}


def _deployment(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "main",
                                                  "image": "registry.invalid/app:1"}]}},
            **spec,
        },
    }


def _secret(name: str, namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "data": {"value": base64.b64encode(SECRET_TEXT.encode()).decode()}}


def _live(cluster: ControlPlane, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    done = cluster.kubectl("get", kind, name, "-n", namespace, "-o", "json",
                           "--show-managed-fields", check=False)
    if done.returncode != 0:
        assert "NotFound" in done.stderr, done.stderr
        return None
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def test_apply_creates_then_changes_nothing(kube: KubeCluster, cluster: ControlPlane,
                                            namespace: str) -> None:
    body = _config_map("settings", namespace, model="qwen")

    created = kube.apply(body)
    again = kube.apply(body)

    live = _live(cluster, "configmap", "settings", namespace)
    assert live is not None and live["data"] == {"model": "qwen"}
    assert created["metadata"]["uid"] == live["metadata"]["uid"]
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"] \
        == live["metadata"]["resourceVersion"]
    managers = [(entry["manager"], entry["operation"])
                for entry in live["metadata"]["managedFields"]]
    assert managers == [("helm", "Apply")]


def _role(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}


def test_kinds_lmfchart_writes_need_no_discovery(
        kube: KubeCluster, namespace: str, requests_sent: list[str]) -> None:
    # A cold discovery cache (a cluster never seen): still one request per operation.
    kube.apply(_config_map("first", namespace, a="1"))
    kube.apply(_deployment("web", namespace))
    query = "?fieldValidation=Strict&fieldManager=helm"
    assert requests_sent == [
        f"PATCH api/v1/namespaces/{namespace}/configmaps/first{query}",
        f"PATCH apis/apps/v1/namespaces/{namespace}/deployments/web{query}",
    ]


def test_other_kinds_are_discovered_once_then_read_from_the_cache(
        kube: KubeCluster, namespace: str, requests_sent: list[str]) -> None:
    kube.apply(_role("reader", namespace))
    # Discovery asks for the one group version used, nothing else of the server.
    query = "?fieldValidation=Strict&fieldManager=helm"
    assert requests_sent == [
        "GET apis/rbac.authorization.k8s.io/v1",
        f"PATCH apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/reader{query}",
    ]
    requests_sent.clear()

    # A later run reads the discovery cache from disk: only the operations go out.
    later = KubeCluster(kube.api_client)
    later.apply(_role("writer", namespace))
    later.get(ObjectRef("rbac.authorization.k8s.io/v1", "Role", namespace, "reader"))
    later.list_secrets(namespace, labels={"owner": "helm"})
    later.delete(ObjectRef("rbac.authorization.k8s.io/v1", "Role", namespace, "reader"))
    assert [line.split(" ")[0] for line in requests_sent] == ["PATCH", "GET", "GET", "DELETE"]


def test_the_built_in_table_is_what_the_server_serves(cluster: ControlPlane) -> None:
    for (api_version, kind), (plural, namespaced) in BUILT_IN.items():
        done = cluster.kubectl("get", "--raw", f"/api/{api_version}" if "/" not in api_version
                               else f"/apis/{api_version}")
        assert done.returncode == 0, done.stderr
        served = {r["kind"]: (r["name"], r["namespaced"])
                  for r in json.loads(done.stdout)["resources"] if "/" not in r["name"]}
        assert served.get(kind) == (plural, namespaced), (api_version, kind)


def test_a_field_of_another_manager_conflicts_unless_forced(
        kube: KubeCluster, cluster: ControlPlane, namespace: str) -> None:
    kube.apply(_config_map("settings", namespace, a="1"))
    cluster.kubectl("patch", "configmap", "settings", "-n", namespace, "--type=merge",
                    "-p", '{"data":{"a":"edited"}}', "--field-manager=kubectl-edit")

    with pytest.raises(ConflictError) as raised:
        kube.apply(_config_map("settings", namespace, a="2"))
    assert raised.value.status == 409
    assert str(raised.value).startswith("ConfigMap/settings: Apply failed with 1 conflict: "
                                        'conflict with "kubectl-edit"')
    assert ".data.a" in str(raised.value)
    live = _live(cluster, "configmap", "settings", namespace)
    assert live is not None and live["data"] == {"a": "edited"}

    kube.apply(_config_map("settings", namespace, a="2"), force=True)
    live = _live(cluster, "configmap", "settings", namespace)
    assert live is not None and live["data"] == {"a": "2"}
    owners = [e["manager"] for e in live["metadata"]["managedFields"]
              if "f:a" in json.dumps(e.get("fieldsV1", {}))]
    assert owners == ["helm"]


def test_dry_run_stores_nothing(kube: KubeCluster, cluster: ControlPlane,
                                namespace: str) -> None:
    answer = kube.apply(_config_map("draft", namespace, a="1"), dry_run=True)

    assert answer["data"] == {"a": "1"}
    assert _live(cluster, "configmap", "draft", namespace) is None
    assert kube.get(ObjectRef("v1", "ConfigMap", namespace, "draft")) is None

    kube.apply(_config_map("kept", namespace, a="1"))
    kube.apply(_config_map("kept", namespace, a="2"), dry_run=True)
    kube.patch(ObjectRef("v1", "ConfigMap", namespace, "kept"), {"data": {"a": "3"}},
               strategic=False, dry_run=True)
    kube.delete(ObjectRef("v1", "ConfigMap", namespace, "kept"), dry_run=True)
    live = _live(cluster, "configmap", "kept", namespace)
    assert live is not None and live["data"] == {"a": "1"}


def test_an_unknown_field_is_refused_naming_the_object_and_field(
        kube: KubeCluster, cluster: ControlPlane, namespace: str) -> None:
    body = _deployment("web", namespace, replica=2)

    with pytest.raises(ClusterError) as raised:
        kube.apply(body)

    error = raised.value
    assert error.exit_code == 5
    assert str(error).startswith("Deployment/web: ")
    assert ".spec.replica: field not declared in schema" in str(error)
    assert (error.kind, error.name) == ("Deployment", "web")
    assert _live(cluster, "deployment", "web", namespace) is None


def test_missing_objects_read_as_none_and_delete_quietly(kube: KubeCluster,
                                                         namespace: str) -> None:
    assert kube.get(ObjectRef("v1", "ConfigMap", namespace, "absent")) is None
    assert kube.get(ObjectRef("apps/v1", "Deployment", namespace, "absent")) is None
    kube.delete(ObjectRef("v1", "ConfigMap", namespace, "absent"))
    kube.delete_secret(namespace, "absent")


def test_a_namespace_that_does_not_exist_is_a_404_naming_it(kube: KubeCluster,
                                                           namespace: str) -> None:
    missing = f"{namespace}-absent"
    for dry_run in (True, False):
        with pytest.raises(ClusterError) as raised:
            kube.apply(_config_map("settings", missing, a="1"), dry_run=dry_run)
        assert (raised.value.status, raised.value.reason) == (404, "NotFound")
        assert str(raised.value) == (f'ConfigMap/settings: namespaces "{missing}" not found '
                                     f"(HTTP 404 NotFound)")


def test_an_unserved_kind_is_a_cluster_error(kube: KubeCluster, namespace: str) -> None:
    with pytest.raises(ClusterError, match=r"^Widget/w: the API server does not serve "
                                           r"Widget in example.com/v1"):
        kube.apply({"apiVersion": "example.com/v1", "kind": "Widget",
                    "metadata": {"name": "w", "namespace": namespace}})


def test_namespaces(kube: KubeCluster, cluster: ControlPlane, namespace: str) -> None:
    fresh = f"{namespace}-new"
    assert kube.namespace_exists(namespace)
    assert not kube.namespace_exists(fresh)
    kube.create_namespace(fresh)
    kube.create_namespace(fresh)  # one that exists already is what was asked for
    try:
        assert kube.namespace_exists(fresh)
        assert "namespace/" + fresh in cluster.kubectl("get", "namespaces", "-o", "name").stdout
    finally:
        cluster.kubectl("delete", "namespace", fresh, "--wait=false")


def test_secrets_with_resource_version_preconditions(kube: KubeCluster, cluster: ControlPlane,
                                                     namespace: str) -> None:
    created = kube.create_secret(_secret("record.v1", namespace, {"owner": "helm", "name": "lmf"}))
    kube.create_secret(_secret("other", namespace, {"owner": "someone", "name": "lmf"}))

    listed = kube.list_secrets(namespace, labels={"owner": "helm", "name": "lmf"})
    assert [(s["kind"], s["metadata"]["name"]) for s in listed] == [("Secret", "record.v1")]

    with pytest.raises(ConflictError) as duplicate:
        kube.create_secret(_secret("record.v1", namespace, {"owner": "helm"}))
    assert duplicate.value.status == 409 and "Secret/record.v1" in str(duplicate.value)

    current = {**created, "metadata": {**created["metadata"],
                                       "labels": {"owner": "helm", "status": "superseded"}}}
    replaced = kube.replace_secret(current)
    assert replaced["metadata"]["labels"]["status"] == "superseded"

    stale = {**current, "metadata": {**current["metadata"], "labels": {"status": "mine"}}}
    with pytest.raises(ConflictError) as conflict:
        kube.replace_secret(stale)  # still carries the resourceVersion before the replace
    message = str(conflict.value)
    assert message.startswith("Secret/record.v1: ") and "modified" in message
    assert SECRET_TEXT not in message and created["data"]["value"] not in message
    live = _live(cluster, "secret", "record.v1", namespace)
    assert live is not None and live["metadata"]["labels"]["status"] == "superseded"

    kube.delete_secret(namespace, "record.v1")
    assert _live(cluster, "secret", "record.v1", namespace) is None


def test_strategic_patch_lets_an_apply_switch_to_recreate(kube: KubeCluster,
                                                          cluster: ControlPlane,
                                                          namespace: str) -> None:
    ref = ObjectRef("apps/v1", "Deployment", namespace, "web")
    first = kube.apply(_deployment("web", namespace))
    assert first["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": "25%",
                                                          "maxUnavailable": "25%"}
    recreate = _deployment("web", namespace, strategy={"type": "Recreate"})

    # The server defaulted rollingUpdate; an apply that only sets the type cannot drop it.
    with pytest.raises(ClusterError) as refused:
        kube.apply(recreate)
    assert refused.value.status == 422
    assert "spec.strategy.rollingUpdate: Forbidden" in str(refused.value)

    kube.patch(ref, {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}})
    applied = kube.apply(recreate)

    live = _live(cluster, "deployment", "web", namespace)
    assert live is not None
    assert live["spec"]["strategy"] == {"type": "Recreate"} == applied["spec"]["strategy"]
    assert live["metadata"]["uid"] == first["metadata"]["uid"]
    ours = {e["operation"] for e in live["metadata"]["managedFields"] if e["manager"] == "helm"}
    assert ours == {"Apply", "Update"}  # the patch is an Update, the apply an Apply


def test_merge_patch(kube: KubeCluster, cluster: ControlPlane, namespace: str) -> None:
    ref = ObjectRef("v1", "ConfigMap", namespace, "settings")
    kube.apply(_config_map("settings", namespace, a="1", b="2"))
    patched = kube.patch(ref, {"data": {"a": None, "c": "3"}}, strategic=False)
    live = _live(cluster, "configmap", "settings", namespace)
    assert live is not None and live["data"] == {"b": "2", "c": "3"} == patched["data"]


def _kubeconfig(path: Path, *, server: str, user: dict[str, str],
                ca_data: str | None) -> Path:
    cluster_entry: dict[str, str] = {"server": server}
    if ca_data is not None:
        cluster_entry["certificate-authority-data"] = ca_data
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": cluster_entry}],
        "users": [{"name": "test", "user": user}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }))
    return path


def _admin_entry(cluster: ControlPlane, section: str) -> dict[str, Any]:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    entry: dict[str, Any] = config[section][0][section[:-1]]
    return entry


def test_a_forbidden_credential_names_the_object(cluster: ControlPlane, namespace: str,
                                                 api_client: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "nobody"}})
    token = core.create_namespaced_service_account_token(
        "nobody", namespace, {"spec": {"expirationSeconds": 600}}).status.token
    path = _kubeconfig(tmp_path / "nobody.yaml", server=cluster.server, user={"token": token},
                       ca_data=_admin_entry(cluster, "clusters")["certificate-authority-data"])
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    nobody = connect(kubeconfig=str(path), context=None)

    with pytest.raises(ClusterError) as raised:
        nobody.apply(_config_map("settings", namespace, a="1"))
    error = raised.value
    assert (error.status, error.kind, error.name) == (403, "ConfigMap", "settings")
    assert str(error).startswith("ConfigMap/settings: ")
    assert f'"system:serviceaccount:{namespace}:nobody" cannot patch resource "configmaps"' \
        in str(error)
    assert "HTTP 403" in str(error)

    with pytest.raises(ClusterError) as listing:
        nobody.list_secrets(namespace, labels={"owner": "helm"})
    assert listing.value.status == 403 and 'cannot list resource "secrets"' in str(listing.value)
    assert _live(cluster, "configmap", "settings", namespace) is None


def test_a_refused_credential(cluster: ControlPlane, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    path = _kubeconfig(tmp_path / "bogus.yaml", server=cluster.server,
                       user={"token": "not-a-token"},
                       ca_data=_admin_entry(cluster, "clusters")["certificate-authority-data"])
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    stranger = connect(kubeconfig=str(path), context=None)

    with pytest.raises(ClusterError) as raised:
        stranger.get(ObjectRef("v1", "ConfigMap", "default", "settings"))

    assert raised.value.status == 401
    assert str(raised.value).startswith("ConfigMap/settings: ")
    assert "HTTP 401" in str(raised.value) and "not-a-token" not in str(raised.value)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_server_that_is_not_listening(cluster: ControlPlane, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    path = _kubeconfig(tmp_path / "down.yaml", server=f"https://127.0.0.1:{port}",
                       user=_admin_entry(cluster, "users"),
                       ca_data=_admin_entry(cluster, "clusters")["certificate-authority-data"])
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    down = connect(kubeconfig=str(path), context=None)

    with pytest.raises(ClusterError) as raised:
        down.apply(_config_map("settings", "default", a="1"))

    assert str(raised.value) == (f"ConfigMap/settings: cannot reach the API server at "
                                 f"https://127.0.0.1:{port}: connection refused (is it running?)")
    assert raised.value.status is None and raised.value.exit_code == 5


def test_a_server_that_never_answers(cluster: ControlPlane, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections (in the kernel) and never says a word
        server = f"https://127.0.0.1:{silent.getsockname()[1]}"
        path = _kubeconfig(tmp_path / "silent.yaml", server=server,
                           user=_admin_entry(cluster, "users"),
                           ca_data=_admin_entry(cluster, "clusters")["certificate-authority-data"])
        monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
        hanging = KubeCluster(connect(kubeconfig=str(path), context=None).api_client,
                              request_timeout=(0.5, 0.5))

        with pytest.raises(ClusterError) as raised:
            hanging.apply(_config_map("settings", "default", a="1"))

    assert str(raised.value) == (f"ConfigMap/settings: the API server at {server} did not "
                                 f"answer in time")
    assert (raised.value.status, raised.value.reason) == (None, "Timeout")


def test_a_server_certificate_that_is_not_trusted(cluster: ControlPlane, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    admin = _admin_entry(cluster, "users")
    # The admin's client certificate is signed by the cluster CA but is no CA itself.
    path = _kubeconfig(tmp_path / "wrong-ca.yaml", server=cluster.server, user=admin,
                       ca_data=admin["client-certificate-data"])
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))
    untrusting = connect(kubeconfig=str(path), context=None)

    with pytest.raises(ClusterError) as raised:
        untrusting.get(ObjectRef("v1", "ConfigMap", "default", "settings"))

    message = str(raised.value)
    assert message.startswith(f"ConfigMap/settings: TLS handshake with the API server at "
                              f"{cluster.server} failed: ")
    assert "certificate verify failed" in message
    assert raised.value.reason == "TLSError"
