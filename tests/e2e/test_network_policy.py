"""The hardened example's NetworkPolicies installed into the real control plane: stored as
rendered, and their selectors, evaluated by the API server, pick the pods the controllers
made from the chart's workloads (the web UI's ReplicaSet, the Indexed Job's two pods).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import example_values
from tests.support.charts import lmf_objects

from .cluster import Cluster, wait_for
from .commands import get, lmfchart

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

F = "lmf-llama-factory"
RUN = "qwen-lora"


def _selector(match_labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(match_labels.items()))


def _pods(cluster: Cluster, namespace: str, match_labels: dict[str, str]) -> set[str]:
    """The pods the API server selects with MATCH_LABELS."""
    found = cluster.kubectl("get", "pods", "-n", namespace, "-l", _selector(match_labels),
                            "-o", "jsonpath={.items[*].metadata.name}").stdout
    return set(found.split())


def _rendered_policies(namespace: str) -> dict[str, dict[str, Any]]:
    objects = lmf_objects("lmf", namespace, files=[str(example_values("hardened"))])
    return {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}


def test_hardened_policies_select_the_release_pods(cluster: Cluster, namespace: str) -> None:
    # No RuntimeClass nvidia here: admission would refuse the pods (the policies are the same).
    done = lmfchart(cluster, "install", "-n", namespace, "-f", str(example_values("hardened")),
                    "--set", "runtimeClassName=")
    assert done.exit_code == 0, done.output
    stored = {p["metadata"]["name"]: p["spec"]
              for p in get(cluster, "networkpolicies", namespace)["items"]}
    # The server keeps every rule as rendered: nothing dropped, nothing it had to default.
    assert stored == _rendered_policies(namespace)
    assert set(stored) == {F, f"{F}-web", f"{F}-train-{RUN}"}

    every = {"app.kubernetes.io/instance": "lmf"}

    def all_three() -> set[str] | None:
        found = _pods(cluster, namespace, every)
        return found if len(found) == 3 else None

    pods = wait_for("the web UI pod and both training pods", all_three)
    train_pods = {p for p in pods if p.startswith(f"{F}-train-{RUN}-")}
    [web_pod] = pods - train_pods
    assert len(train_pods) == 2 and web_pod.startswith(f"{F}-")

    # The default-deny-ingress policy with DNS and HTTPS egress covers every pod.
    base = stored[F]
    assert _pods(cluster, namespace, base["podSelector"]["matchLabels"]) == pods
    assert base["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in base
    assert [rule["ports"] for rule in base["egress"]] == [
        [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
        [{"port": 443, "protocol": "TCP"}]]
    assert base["egress"][1]["to"] == [
        {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}]

    # Only the web UI is open, on its port, to the ingress controller's namespace.
    web = stored[f"{F}-web"]
    assert _pods(cluster, namespace, web["podSelector"]["matchLabels"]) == {web_pod}
    [rule] = web["ingress"]
    assert rule["ports"] == [{"port": 7860, "protocol": "TCP"}]
    [peer] = rule["from"]
    assert peer == {"namespaceSelector": {"matchExpressions": [{
        "key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ingress-nginx"]}]}}

    # The run's pods reach each other on every port (no ports: NCCL picks them at random).
    train = stored[f"{F}-train-{RUN}"]
    assert _pods(cluster, namespace, train["podSelector"]["matchLabels"]) == train_pods
    [into] = train["ingress"]
    [out] = train["egress"]
    for rule in (into, out):
        assert "ports" not in rule
    [source] = into["from"]
    [target] = out["to"]
    assert _pods(cluster, namespace, source["podSelector"]["matchLabels"]) == train_pods
    assert _pods(cluster, namespace, target["podSelector"]["matchLabels"]) == train_pods


def test_ingress_namespaces_select_by_the_servers_name_label(
        cluster: Cluster, namespace: str) -> None:
    """The peer matches the label the API server puts on every namespace, so a namespace
    is picked by its name alone."""
    spec = _rendered_policies(namespace)[f"{F}-web"]
    [expression] = spec["ingress"][0]["from"][0]["namespaceSelector"]["matchExpressions"]
    selector = f"{expression['key']} in ({','.join(expression['values'])})"
    cluster.kubectl("create", "namespace", "ingress-nginx")
    try:
        found = cluster.kubectl("get", "namespaces", "-l", selector, "-o",
                                "jsonpath={.items[*].metadata.name}").stdout
        assert found.split() == ["ingress-nginx"]
    finally:
        cluster.kubectl("delete", "namespace", "ingress-nginx", "--wait=false")
