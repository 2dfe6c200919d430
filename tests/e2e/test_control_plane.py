"""Proof that the test control plane is a real Kubernetes API server with working controllers.

These tests pin down the server behaviour that lmfchart's install, dry-run, uninstall,
status and diff rely on, against kube-apiserver and kube-controller-manager built from the
Kubernetes release in scripts/testenv_lib/config.py.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from .cluster import Cluster, make_deployment_ready, run_testenv, wait_for

pytestmark = pytest.mark.e2e

FIELD_MANAGER = "lmfchart-e2e"


def _config_map(name: str, namespace: str, data: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace}, "data": data}


def _deployment(name: str, namespace: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "main", "image": "registry.invalid/app:1"}]},
            },
        },
    }


def test_kubectl_reaches_the_server(cluster: Cluster) -> None:
    version = json.loads(cluster.kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == cluster.kubernetes_version
    assert cluster.kubectl("get", "--raw", "/readyz").stdout.strip() == "ok"
    namespaces = cluster.kubectl("get", "namespaces", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(namespaces)


def test_python_client_reaches_the_server(cluster: Cluster, api_client: Any) -> None:
    from kubernetes import client

    assert client.VersionApi(api_client).get_code().git_version == cluster.kubernetes_version
    names = {ns.metadata.name for ns in client.CoreV1Api(api_client).list_namespace().items}
    assert {"default", "kube-system", "kube-public"} <= names


def test_server_side_apply_creates_then_changes_nothing(dynamic_client: Any,
                                                        namespace: str) -> None:
    config_maps = dynamic_client.resources.get(api_version="v1", kind="ConfigMap")
    body = _config_map("settings", namespace, {"model": "qwen", "port": "7860"})

    created = config_maps.server_side_apply(body=body, namespace=namespace,
                                           field_manager=FIELD_MANAGER)
    again = config_maps.server_side_apply(body=body, namespace=namespace,
                                          field_manager=FIELD_MANAGER)

    assert created.metadata.resourceVersion == again.metadata.resourceVersion
    assert again.data.model == "qwen"
    managers = {entry.manager for entry in again.metadata.managedFields}
    assert managers == {FIELD_MANAGER}

    changed = config_maps.server_side_apply(
        body=_config_map("settings", namespace, {"model": "llama", "port": "7860"}),
        namespace=namespace, field_manager=FIELD_MANAGER)
    assert changed.metadata.resourceVersion != created.metadata.resourceVersion


def test_dry_run_all_persists_nothing(dynamic_client: Any, api_client: Any,
                                      namespace: str) -> None:
    from kubernetes import client

    config_maps = dynamic_client.resources.get(api_version="v1", kind="ConfigMap")
    deployments = dynamic_client.resources.get(api_version="apps/v1", kind="Deployment")

    answer = config_maps.server_side_apply(
        body=_config_map("dry", namespace, {"a": "b"}), namespace=namespace,
        field_manager=FIELD_MANAGER, dry_run="All")
    assert answer.data.a == "b"  # the server answers with the object it would store...
    deployments.server_side_apply(body=_deployment("dry", namespace), namespace=namespace,
                                  field_manager=FIELD_MANAGER, dry_run="All")

    core = client.CoreV1Api(api_client)
    with pytest.raises(client.ApiException) as missing:
        core.read_namespaced_config_map("dry", namespace)  # ...and stores nothing
    assert missing.value.status == 404
    assert client.AppsV1Api(api_client).list_namespaced_deployment(namespace).items == []
    assert core.list_namespaced_pod(namespace).items == []


def test_dry_run_in_a_missing_namespace_is_not_found(dynamic_client: Any) -> None:
    """kubernetes#83562: dry-run does not see a namespace the same manifest would create."""
    from kubernetes.dynamic.exceptions import NotFoundError

    config_maps = dynamic_client.resources.get(api_version="v1", kind="ConfigMap")
    missing = f"absent-{uuid.uuid4().hex[:8]}"
    with pytest.raises(NotFoundError):
        config_maps.server_side_apply(body=_config_map("x", missing, {}), namespace=missing,
                                      field_manager=FIELD_MANAGER, dry_run="All")


def test_deleting_a_namespace_deletes_its_objects(api_client: Any) -> None:
    """Needs kube-controller-manager's namespace controller to finalize the namespace."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    name = f"e2e-doomed-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    core.create_namespaced_config_map(name, _config_map("cm", name, {"k": "v"}))
    core.create_namespaced_secret(name, {"metadata": {"name": "s"},
                                         "stringData": {"password": "x"}})

    core.delete_namespace(name)

    def namespace_gone() -> bool:
        try:
            core.read_namespace(name)
        except client.ApiException as error:
            return error.status == 404
        return False

    wait_for(f"namespace {name} to be finalized", namespace_gone, timeout=90)
    assert core.list_config_map_for_all_namespaces(field_selector=f"metadata.namespace={name}"
                                                   ).items == []
    assert core.list_secret_for_all_namespaces(field_selector=f"metadata.namespace={name}"
                                               ).items == []


def test_deployment_creates_a_replica_set(api_client: Any, namespace: str) -> None:
    """Needs kube-controller-manager's deployment and replicaset controllers."""
    from kubernetes import client

    apps = client.AppsV1Api(api_client)
    created = apps.create_namespaced_deployment(namespace, _deployment("web", namespace, 2))

    def owned_replica_set() -> Any:
        for replica_set in apps.list_namespaced_replica_set(namespace).items:
            owners = replica_set.metadata.owner_references or []
            if any(o.uid == created.metadata.uid and o.controller for o in owners):
                return replica_set
        return None

    replica_set = wait_for("a ReplicaSet owned by the Deployment", owned_replica_set)
    assert replica_set.spec.replicas == 2
    # The ReplicaSet controller creates the Pods; with no scheduler and no kubelet they stay
    # Pending and unassigned.
    core = client.CoreV1Api(api_client)
    pods = wait_for("two Pods", lambda: (
        items if len(items := core.list_namespaced_pod(namespace).items) == 2 else None))
    assert {pod.status.phase for pod in pods} == {"Pending"}
    assert all(pod.spec.node_name is None for pod in pods)


def test_deployment_rolls_out_once_its_pods_report_ready(api_client: Any,
                                                         namespace: str) -> None:
    """No kubelet runs here, so Pods never start by themselves. The test writes the Pod
    status a kubelet would write (Running, Ready) through the API; the ReplicaSet and
    Deployment controllers then derive their status from it, as in a real cluster, and the
    Deployment passes kubectl's rollout-complete rules."""
    from kubernetes import client

    apps = client.AppsV1Api(api_client)
    apps.create_namespaced_deployment(namespace, _deployment("api", namespace, 2))

    ready = make_deployment_ready(client.CoreV1Api(api_client), apps, "api", namespace)

    assert ready.status.available_replicas == 2
    assert ready.status.ready_replicas == 2


def test_credential_without_rights_is_forbidden(cluster: Cluster, api_client: Any,
                                                namespace: str) -> None:
    """A ServiceAccount token (TokenRequest API) authenticates but has no RBAC rights."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "nobody"}})
    token_request = core.create_namespaced_service_account_token(
        "nobody", namespace, {"spec": {"expirationSeconds": 600}})
    token = token_request.status.token

    configuration = client.Configuration()
    configuration.host = cluster.server
    configuration.ssl_ca_cert = str(cluster.ca_cert)
    configuration.api_key = {"authorization": f"Bearer {token}"}
    with client.ApiClient(configuration) as limited:
        review = client.AuthenticationV1Api(limited).create_self_subject_review({})
        assert review.status.user_info.username == (
            f"system:serviceaccount:{namespace}:nobody")  # authenticated: 403, not 401
        with pytest.raises(client.ApiException) as forbidden:
            client.CoreV1Api(limited).list_namespaced_config_map(namespace)
        assert forbidden.value.status == 403

    denied = cluster.kubectl("get", "secrets", "-n", namespace, f"--token={token}",
                             "--kubeconfig=/dev/null", f"--server={cluster.server}",
                             f"--certificate-authority={cluster.ca_cert}", check=False)
    assert denied.returncode != 0
    assert "forbidden" in denied.stderr.lower()


def test_testenv_env_prints_the_kubeconfig(cluster: Cluster) -> None:
    result = run_testenv("env", f"--state-dir={cluster.state_dir}")
    assert result.returncode == 0, result.stderr
    assert f"export KUBECONFIG={cluster.kubeconfig}" in result.stdout.splitlines()
