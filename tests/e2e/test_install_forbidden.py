"""`lmfchart install` with a credential that RBAC lets read everything but not create or
change Services and Ingresses: each refused object is named with the server's 403 message,
exit 5, and the revision is recorded `failed` (as the README says)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import example_values

from .cluster import Cluster, grant, service_account_kubeconfig, wait_for
from .commands import get, records

pytestmark = [pytest.mark.e2e]

NAME = "lmf-llama-factory"
# A Role in the namespace may grant `get` on that namespace itself; install reads it first.
RULES = [
    {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]},
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
    {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
     "verbs": ["get", "create", "update", "delete"]},
    {"apiGroups": ["", "apps", "networking.k8s.io"],
     "resources": ["services", "deployments", "ingresses"], "verbs": ["get"]},
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "patch"]},
]


def test_objects_rbac_forbids_are_named_with_the_servers_message_and_the_revision_fails(
        cluster: Cluster, namespace: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    deployer = service_account_kubeconfig(cluster, namespace, tmp_path / "deployer.yaml")
    grant(cluster, namespace, RULES)
    who = f"system:serviceaccount:{namespace}:deployer"
    wait_for("the Role to be in force", lambda: cluster.kubectl(
        "auth", "can-i", "patch", "deployments.apps", "-n", namespace, f"--as={who}",
        check=False).stdout.strip() == "yes")
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))

    def install_as_deployer() -> Any:
        result = CliRunner().invoke(app, ["install", "-n", namespace, "-f",
                                          str(example_values("seed")),
                                          "--kubeconfig", str(deployer)])
        assert "Traceback" not in result.output, result.output
        return result

    refused = install_as_deployer()

    assert refused.exit_code == 5, refused.output
    assert refused.stderr.splitlines() == [
        "error: release/lmf: revision 1 failed (recorded as failed):",
        *(f'  {kind}/{NAME}: {resource} "{NAME}" is forbidden: User "{who}" cannot patch '
          f'resource "{plural}" in API group "{group}" in the namespace "{namespace}" '
          "(HTTP 403 Forbidden)"
          for kind, resource, plural, group in (
              ("Service", "services", "services", ""),
              ("Ingress", "ingresses.networking.k8s.io", "ingresses", "networking.k8s.io")))]
    assert f"  Deployment/{NAME}: created" in refused.stdout
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "failed"}
    assert get(cluster, f"deployment/{NAME}", namespace)["metadata"]["annotations"][
        "meta.helm.sh/release-name"] == "lmf"
    for forbidden in (f"service/{NAME}", f"ingress/{NAME}", "lease/lmfchart-release-lmf"):
        assert cluster.kubectl("get", forbidden, "-n", namespace,
                               check=False).returncode != 0, forbidden

    grant(cluster, namespace, [*RULES, {
        "apiGroups": ["", "networking.k8s.io"], "resources": ["services", "ingresses"],
        "verbs": ["create", "patch"]}])
    wait_for("the wider Role to be in force", lambda: cluster.kubectl(
        "auth", "can-i", "patch", "ingresses.networking.k8s.io", "-n", namespace,
        f"--as={who}", check=False).stdout.strip() == "yes")
    done = install_as_deployer()
    assert done.exit_code == 0, done.output
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "failed",
                                           "sh.helm.release.v1.lmf.v2": "deployed"}
    assert get(cluster, f"service/{NAME}", namespace)["metadata"]["name"] == NAME
