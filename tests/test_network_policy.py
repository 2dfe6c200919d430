"""The NetworkPolicies of networkPolicy.enabled, for each switch: the real helm renders the
generated chart exactly as `lmfchart template` does, every policy passes the Kubernetes
OpenAPI schemas in strict mode, and each policy selects the pods of the workload it is for
(the same labels the workload's own selector or pod template carries).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart import openapi
from tests.support.charts import by_identity, helm_objects, lmf_objects, render_chart_dir

pytestmark = pytest.mark.helm

F = "lmf-llama-factory"
MODEL = "Qwen/Qwen2.5-0.5B"
WORKLOADS = {
    "storage": {"output": {"type": "pvc", "accessModes": ["ReadWriteMany"]}},
    "train": {
        "multi": {"model": MODEL, "datasets": ["alpaca_en_demo"], "gpus": 1, "nodes": 2},
        "kf": {"model": MODEL, "datasets": ["alpaca_en_demo"], "gpus": 1, "nodes": 3,
               "engine": "pytorchjob"},
    },
    "api": {"enabled": True, "model": MODEL},
}
VARIANTS = {
    "defaults": {"networkPolicy": {"enabled": True}},
    "workloads": {**WORKLOADS, "networkPolicy": {"enabled": True}},
    "open-egress": {**WORKLOADS, "networkPolicy": {"enabled": True, "openEgress": True}},
    "extra-rules": {"networkPolicy": {
        "enabled": True, "ingressNamespaces": ["traefik", "monitoring"],
        "extraIngressFrom": [{"podSelector": {"matchLabels": {"app": "client"}}}],
        "dnsNamespace": "dns", "egressExcept": ["10.0.0.0/8", "172.16.0.0/12"],
        "extraEgress": [{"to": [{"ipBlock": {"cidr": "192.168.1.10/32"}}],
                         "ports": [{"port": 3128, "protocol": "TCP"}]}]}},
    "seed-selector": {"seedCompatibility": True, "networkPolicy": {"enabled": True}},
}


def _objects(values: dict[str, Any], tmp_path: Path, helm: Path) -> list[dict[str, Any]]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    ours = lmf_objects("lmf", "ml", files=[str(path)])
    chart = render_chart_dir(tmp_path / "chart", files=[str(path)])
    assert by_identity(helm_objects(helm, chart, "lmf", "ml")) == by_identity(ours)
    return ours


def _policies(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return selector["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("variant", VARIANTS)
def test_policies_render_like_helm_and_pass_openapi(
        variant: str, helm: Path, tmp_path: Path) -> None:
    objects = _objects(VARIANTS[variant], tmp_path, helm)
    policies = [o for o in objects if o["kind"] == "NetworkPolicy"]
    assert policies
    for policy in policies:
        assert openapi.check_object(policy, openapi.default_version()) == [], policy


def test_off_by_default() -> None:
    assert not _policies(lmf_objects("lmf", "ml", files=[]))


def test_each_policy_selects_its_workloads_pods(helm: Path, tmp_path: Path) -> None:
    objects = _objects(VARIANTS["workloads"], tmp_path, helm)
    policies = _policies(objects)
    assert set(policies) == {F, f"{F}-web", f"{F}-api", f"{F}-train-multi", f"{F}-train-kf"}
    pods: dict[str, dict[str, str]] = {}
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            pods[obj["metadata"]["name"]] = obj["spec"]["template"]["metadata"]["labels"]
        elif obj["kind"] == "PyTorchJob":
            for role, replica in obj["spec"]["pytorchReplicaSpecs"].items():
                pods[f"{obj['metadata']['name']}/{role}"] = replica["template"]["metadata"][
                    "labels"]

    def selected(policy: str) -> set[str]:
        return {pod for pod, labels in pods.items()
                if _selects(policies[policy]["podSelector"], labels)}

    assert selected(F) == set(pods)
    assert selected(f"{F}-web") == {F}
    assert selected(f"{F}-api") == {f"{F}-api"}
    for run in ("multi", "kf"):
        policy = policies[f"{F}-train-{run}"]
        members = selected(f"{F}-train-{run}")
        assert len(members) == (1 if run == "multi" else 2)  # a Job; Master and Worker
        assert all(pod.startswith(f"{F}-train-{run}-") for pod in members)
        # Pod to pod on every port, both ways, within the run only.
        [into], [out] = policy["ingress"], policy["egress"]
        assert "ports" not in into and "ports" not in out
        assert into["from"] == out["to"] == [{"podSelector": policy["podSelector"]}]


def test_web_policy_follows_the_seed_selector(helm: Path, tmp_path: Path) -> None:
    """A seed-layout release keeps the seed's selector; the policy must select by it."""
    objects = _objects(VARIANTS["seed-selector"], tmp_path, helm)
    [deployment] = [o for o in objects if o["kind"] == "Deployment"]
    assert _policies(objects)[f"{F}-web"]["podSelector"] == deployment["spec"]["selector"]
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": F}}


def test_open_egress_allows_everything(helm: Path, tmp_path: Path) -> None:
    base = _policies(_objects(VARIANTS["open-egress"], tmp_path, helm))[F]
    assert base["egress"] == [{}]
    assert base["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in base


def test_extra_rules_are_copied_after_the_chart_rules(helm: Path, tmp_path: Path) -> None:
    policies = _policies(_objects(VARIANTS["extra-rules"], tmp_path, helm))
    base, web = policies[F], policies[f"{F}-web"]
    dns, https, proxy = base["egress"]
    assert dns["to"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "dns"}}}]
    assert https["to"] == [{"ipBlock": {"cidr": "0.0.0.0/0",
                                        "except": ["10.0.0.0/8", "172.16.0.0/12"]}}]
    assert proxy == VARIANTS["extra-rules"]["networkPolicy"]["extraEgress"][0]
    [rule] = web["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchExpressions": [{
            "key": "kubernetes.io/metadata.name", "operator": "In",
            "values": ["traefik", "monitoring"]}]}},
        {"podSelector": {"matchLabels": {"app": "client"}}},
    ]
