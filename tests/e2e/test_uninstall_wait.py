"""`lmfchart uninstall --wait` against a real API server: it returns once the deleted objects
are gone (404); an object a finalizer holds makes it time out naming the object and the
finalizer, with the records kept, and a re-run finishes once the finalizer is removed."""

from __future__ import annotations

import json

import pytest

from tests.conftest import example_values

from .cluster import Cluster
from .commands import lmfchart, records

pytestmark = [pytest.mark.e2e]

SEED = str(example_values("seed"))
FINALIZER = "example.com/hold"
RELEASE_OBJECTS = "deployment,service,ingress"


def _installed(cluster: Cluster, namespace: str) -> None:
    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert done.exit_code == 0, done.output


def _left(cluster: Cluster, namespace: str) -> list[str]:
    return cluster.kubectl("get", RELEASE_OBJECTS, "-n", namespace, "-o", "name").stdout.split()


def test_uninstall_wait_returns_once_the_objects_are_gone(cluster: Cluster,
                                                          namespace: str) -> None:
    _installed(cluster, namespace)
    removed = lmfchart(cluster, "uninstall", "-n", namespace, "--wait")
    assert removed.exit_code == 0, removed.output
    lines = removed.stdout.splitlines()
    assert "waiting up to 5m0s for 3 deleted objects to be gone" in lines
    assert any(line.startswith("all 3 objects gone after ") for line in lines), removed.stdout
    assert _left(cluster, namespace) == []
    assert records(cluster, namespace) == {}


def test_a_finalizer_makes_the_wait_time_out_naming_it_then_a_rerun_finishes(
        cluster: Cluster, namespace: str) -> None:
    _installed(cluster, namespace)
    cluster.kubectl("patch", "deployment/lmf-llama-factory", "-n", namespace, "--type=merge",
                    "-p", json.dumps({"metadata": {"finalizers": [FINALIZER]}}))

    timed_out = lmfchart(cluster, "uninstall", "-n", namespace, "--wait", "--timeout", "5s")
    assert timed_out.exit_code == 5, timed_out.output
    held = json.loads(cluster.kubectl("get", "deployment/lmf-llama-factory", "-n", namespace,
                                      "-o", "json").stdout)["metadata"]
    assert (f"error: uninstall of release lmf in namespace {namespace}: timed out after 5s; "
            "1 of 3 deleted objects are still there:\n"
            f"  Deployment/lmf-llama-factory: finalizers still set: {FINALIZER} "
            f"(deletion requested at {held['deletionTimestamp']})\n"
            "the records are kept: run the uninstall again once these are gone"
            ) in timed_out.output
    assert _left(cluster, namespace) == ["deployment.apps/lmf-llama-factory"]
    assert records(cluster, namespace) == {"sh.helm.release.v1.lmf.v1": "deployed"}

    cluster.kubectl("patch", "deployment/lmf-llama-factory", "-n", namespace, "--type=json",
                    "-p", '[{"op": "remove", "path": "/metadata/finalizers"}]')
    again = lmfchart(cluster, "uninstall", "-n", namespace, "--wait", "--timeout", "30s")
    assert again.exit_code == 0, again.output
    assert "waiting" not in again.stdout  # nothing was left to delete, so nothing to wait for
    assert _left(cluster, namespace) == []
    assert records(cluster, namespace) == {}
