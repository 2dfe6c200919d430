"""The defaults we mean, written out: `lmfchart template` with no values at all.

Golden files pin the defaults too, but `--update-golden` rewrites them without asking; a
change here is a decision, made in this file on purpose.
"""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.support.charts import by_identity, parse_stream

NAME = "lmf-llama-factory"
SELECTOR = {"app.kubernetes.io/name": "llama-factory", "app.kubernetes.io/instance": "lmf"}
LABELS = {
    "helm.sh/chart": "llama-factory-0.1.0",
    **SELECTOR,
    "app.kubernetes.io/version": "0.9.4",
    "app.kubernetes.io/managed-by": "Helm",
}


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str, str], dict[str, Any]]:
    done = CliRunner().invoke(app, ["template"])
    assert done.exit_code == 0, done.output
    assert done.stderr == ""
    return by_identity(parse_stream(done.stdout))


def _pod(objects: dict[Any, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = objects[("apps/v1", "Deployment", NAME)]["spec"]["template"]["spec"]
    return pod


def test_only_a_deployment_and_a_service(objects: dict[Any, Any]) -> None:
    """No Ingress (ingress.enabled: false), no PVC, no ServiceAccount by default; beside
    them only the helm test hook, which install never applies."""
    test_pod = ("v1", "Pod", f"{NAME}-test-connection")
    assert set(objects) == {("apps/v1", "Deployment", NAME), ("v1", "Service", NAME), test_pod}
    for key, obj in objects.items():
        if key != test_pod:
            assert obj["metadata"] == {"name": NAME, "namespace": "default", "labels": LABELS}
    assert objects[test_pod]["metadata"]["annotations"]["helm.sh/hook"] == "test"


def test_deployment_runs_one_pod_replaced_not_rolled(objects: dict[Any, Any]) -> None:
    spec = objects[("apps/v1", "Deployment", NAME)]["spec"]
    assert spec["replicas"] == 1
    assert spec["revisionHistoryLimit"] == 3
    # Two pods must never share one GPU or a ReadWriteOnce volume.
    assert spec["strategy"] == {"type": "Recreate"}
    assert spec["selector"] == {"matchLabels": SELECTOR}
    assert spec["template"]["metadata"] == {"labels": LABELS}


def test_pod_defaults(objects: dict[Any, Any]) -> None:
    pod = _pod(objects)
    assert pod["serviceAccountName"] == "default"
    assert pod["automountServiceAccountToken"] is False
    assert pod["terminationGracePeriodSeconds"] == 30
    for absent in ("nodeSelector", "tolerations", "affinity", "runtimeClassName",
                   "imagePullSecrets"):
        assert absent not in pod
    # Secure by default, as root (the upstream image's user): only seccomp at pod level.
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}


def test_container_runs_the_pinned_webui(objects: dict[Any, Any]) -> None:
    [container] = _pod(objects)["containers"]
    assert container["name"] == "llama-factory"
    assert container["image"] == "hiyouga/llamafactory:0.9.4"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["command"] == ["llamafactory-cli", "webui"]
    assert "args" not in container and "envFrom" not in container
    assert container["ports"] == [{"name": "http", "containerPort": 7860, "protocol": "TCP"}]
    assert container["env"] == [
        {"name": "GRADIO_SERVER_NAME", "value": "0.0.0.0"},
        {"name": "GRADIO_SERVER_PORT", "value": "7860"},
        {"name": "GRADIO_ANALYTICS_ENABLED", "value": "False"},
    ]
    assert container["resources"] == {
        "limits": {"cpu": "8", "memory": "32Gi"},
        "requests": {"cpu": "2", "memory": "8Gi"},
    }
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_probes_timings(objects: dict[Any, Any]) -> None:
    [container] = _pod(objects)["containers"]
    http = {"httpGet": {"path": "/", "port": "http"}}
    # Startup allows 10 minutes to load; liveness is a TCP check so training never restarts it.
    assert container["startupProbe"] == {
        **http, "initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 5,
        "failureThreshold": 60,
    }
    assert container["livenessProbe"] == {
        "tcpSocket": {"port": "http"}, "initialDelaySeconds": 0, "periodSeconds": 30,
        "timeoutSeconds": 10, "failureThreshold": 6,
    }
    assert container["readinessProbe"] == {
        **http, "initialDelaySeconds": 0, "periodSeconds": 10, "timeoutSeconds": 5,
        "failureThreshold": 3,
    }


def test_volumes_types_and_mount_paths(objects: dict[Any, Any]) -> None:
    pod = _pod(objects)
    assert pod["volumes"] == [
        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}},
        {"name": "saves", "emptyDir": {}},
        {"name": "output", "emptyDir": {}},
        {"name": "hf-cache", "emptyDir": {}},
    ]
    # data, modelScopeCache and openMindCache are off; nothing hides the image's /app/data.
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "dshm", "mountPath": "/dev/shm"},
        {"name": "saves", "mountPath": "/app/saves"},
        {"name": "output", "mountPath": "/app/output"},
        {"name": "hf-cache", "mountPath": "/root/.cache/huggingface"},
    ]


def test_service_is_cluster_ip_on_the_webui_port(objects: dict[Any, Any]) -> None:
    spec = objects[("v1", "Service", NAME)]["spec"]
    assert spec == {
        "type": "ClusterIP",
        "selector": SELECTOR,
        "ports": [{"name": "http", "port": 7860, "targetPort": 7860, "protocol": "TCP"}],
    }
    assert "annotations" not in objects[("v1", "Service", NAME)]["metadata"]
