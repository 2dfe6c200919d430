"""The seed values file renders what the seed chart rendered (docs/seed-chart.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import example_values
from tests.support.charts import by_identity, lmf_objects

RELEASE, NAMESPACE = "lmf", "team-llm"
NAME = f"{RELEASE}-llama-factory"


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str, str], dict[str, Any]]:
    return by_identity(lmf_objects(RELEASE, NAMESPACE, files=[str(example_values("seed"))]))


def test_renders_deployment_service_ingress(objects: dict[Any, Any]) -> None:
    objects = {key: obj for key, obj in objects.items() if key[1] != "Pod"}  # the test hook
    assert set(objects) == {
        ("apps/v1", "Deployment", NAME),
        ("v1", "Service", NAME),
        ("networking.k8s.io/v1", "Ingress", NAME),
    }
    assert all(o["metadata"]["namespace"] == NAMESPACE for o in objects.values())
    assert all(o["metadata"]["labels"]["app"] == NAME for o in objects.values())


def test_deployment_keeps_seed_identity(objects: dict[Any, Any]) -> None:
    deployment = objects[("apps/v1", "Deployment", NAME)]
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["selector"] == {"matchLabels": {"app": NAME}}
    assert spec["template"]["metadata"]["labels"]["app"] == NAME
    pod = spec["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 30
    [container] = pod["containers"]
    assert container["name"] == "llama-factory"
    assert container["image"] == "kubeagi/llama-factory:v0.6.1"
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert "command" not in container, "the seed image must keep its own start command"
    assert {"name": "http", "containerPort": 7860, "protocol": "TCP"} in container["ports"]
    assert container["resources"] == {
        "limits": {"cpu": "4", "memory": "12Gi", "nvidia.com/gpu": "0"},
        "requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "0"},
    }
    # Seed paths are all empty, so no hostPath volume, and nothing over /app/data.
    assert not any("hostPath" in v for v in pod["volumes"])


SEED_PATHS = {"hfcache": "/data/hf", "data": "/data/ds", "output": "/data/out"}


def _seed_file_with_paths(tmp_path: Path) -> dict[str, Any]:
    seed = example_values("seed").read_text()
    for key, path in SEED_PATHS.items():
        assert f'{key}: ""' in seed
        seed = seed.replace(f'{key}: ""', f"{key}: {path}")
    return {"documents": [("seed.yaml", seed)]}


def _seed_file_and_overlay(tmp_path: Path) -> dict[str, Any]:
    overlay = tmp_path / "paths.yaml"
    overlay.write_text("volume:\n" + "".join(f"  {k}: {p}\n" for k, p in SEED_PATHS.items()))
    return {"files": [str(example_values("seed")), str(overlay)]}


def _seed_file_and_set(tmp_path: Path) -> dict[str, Any]:
    return {"files": [str(example_values("seed"))],
            "sets": [f"volume.{k}={p}" for k, p in SEED_PATHS.items()]}


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(_seed_file_with_paths, id="in-the-seed-file"),
        pytest.param(_seed_file_and_overlay, id="seed-layout-overlay-file"),
        pytest.param(_seed_file_and_set, id="set-on-a-seed-file"),
    ],
)
def test_seed_host_paths_mount_where_the_seed_mounted_them(given: Any, tmp_path: Path) -> None:
    objects = by_identity(lmf_objects(RELEASE, NAMESPACE, **given(tmp_path)))
    pod = objects[("apps/v1", "Deployment", NAME)]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    expected = {
        "/data/hf": "/root/.cache/huggingface/", "/data/ds": "/app/data",
        "/data/out": "/app/output",
    }
    found = {v["hostPath"]["path"]: mounts[name] for name, v in volumes.items()
             if "hostPath" in v}
    assert found == expected
    assert all(v["hostPath"]["type"] == "Directory" for v in volumes.values() if "hostPath" in v)


def test_service_matches_seed(objects: dict[Any, Any]) -> None:
    spec = objects[("v1", "Service", NAME)]["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == {"app": NAME}
    assert spec["ports"] == [{"name": "http", "port": 7860, "targetPort": 7860, "protocol": "TCP"}]


def test_ingress_matches_seed(objects: dict[Any, Any]) -> None:
    spec = objects[("networking.k8s.io/v1", "Ingress", NAME)]["spec"]
    assert spec["ingressClassName"] == "portal-ingress"
    [rule] = spec["rules"]
    assert rule["host"] == f"{RELEASE}.172.18.0.2.nip.io"
    [path] = rule["http"]["paths"]
    assert path["path"] == "/"
    assert path["pathType"] == "ImplementationSpecific"
    assert path["backend"] == {"service": {"name": NAME, "port": {"number": 7860}}}


def test_chart_env_list_matches_the_template() -> None:
    """crosschecks.chart_env names exactly the variables the Deployment template sets."""
    from lmfchart.inputs.loading import load_values
    from lmfchart.inputs.options import ValueOptions
    from lmfchart.model.crosschecks import chart_env

    sets = ["ingress.enabled=true", "ingress.host=a.example.com", "ingress.path=/ui",
            "ingress.allowAnonymous=true",
            "hub.source=modelscope", "hub.hfEndpoint=https://hf-mirror.com",
            "proxy.httpProxy=http://p:3128", "proxy.httpsProxy=http://p:3128",
            "proxy.noProxy=localhost"]
    release = load_values(ValueOptions(sets=tuple(sets)))
    deployment = next(o for o in lmf_objects("lmf", "ns", sets=sets) if o["kind"] == "Deployment")
    rendered = {e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert rendered == set(chart_env(release.values))
