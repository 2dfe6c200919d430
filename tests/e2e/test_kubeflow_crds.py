"""The Kubeflow training operator's PyTorchJob CRD in the real control plane: the API server
checks PyTorchJobs against its structural schema (as the offline schema fixture does), and
install refuses a release with a PyTorchJob, before writing anything, where the cluster
does not serve kubeflow.org/v1."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from lmfchart.base.errors import ClusterError, ReleaseStateError
from lmfchart.kube.cluster import KubeCluster
from lmfchart.kube.connect import connect
from lmfchart.usecases.servedkinds import refuse_unserved

from .cluster import Cluster
from .commands import get
from .crds import install_crd, remove_crd

pytestmark = pytest.mark.e2e


def pytorchjob(namespace: str, *, master_replicas: Any = 1) -> dict[str, Any]:
    """A PyTorchJob as a train run with engine pytorchjob renders one (labels included)."""
    pod = {"metadata": {"labels": {"app.kubernetes.io/component": "train",
                                   "llama-factory/run": "yi-agent"}},
           "spec": {"restartPolicy": "Never",
                    "containers": [{"name": "pytorch", "image": "busybox",
                                    "command": ["sh", "-c", "exec true"]}]}}
    return {"apiVersion": "kubeflow.org/v1", "kind": "PyTorchJob",
            "metadata": {"name": "lmf-llama-factory-train-yi-agent-0123abcd",
                         "namespace": namespace,
                         "labels": {"app.kubernetes.io/component": "train"}},
            "spec": {"pytorchReplicaSpecs": {
                "Master": {"replicas": master_replicas, "restartPolicy": "Never",
                           "template": pod},
                "Worker": {"replicas": 2, "restartPolicy": "Never",
                           "template": copy.deepcopy(pod)}}}}


def test_the_server_checks_pytorchjobs_as_the_offline_schema_does(
        kubeflow_crds: dict[str, Any], pytorchjob_schema: dict[str, Any], kube: KubeCluster,
        namespace: str, cluster: Cluster) -> None:
    good = pytorchjob(namespace)
    jsonschema.validate(good, pytorchjob_schema)
    stored = kube.apply(good)
    assert stored["spec"]["pytorchReplicaSpecs"]["Worker"]["replicas"] == 2
    listed = get(cluster, "pytorchjobs.kubeflow.org", namespace)["items"]
    assert [job["metadata"]["name"] for job in listed] == [good["metadata"]["name"]]

    wrong_type = pytorchjob(namespace, master_replicas="one")
    with pytest.raises(jsonschema.ValidationError, match="'one' is not of type 'integer'"):
        jsonschema.validate(wrong_type, pytorchjob_schema)
    with pytest.raises(ClusterError) as refused:
        kube.apply(wrong_type, dry_run=True)
    print(refused.value.message)
    # Server-side apply types the patch with the CRD's schema first (a 500 from 1.35).
    assert ("spec.pytorchReplicaSpecs.Master.replicas: expected numeric (int or float), "
            "got string") in refused.value.message

    # Strict field validation: a misspelt field is refused, not dropped.
    misspelt = pytorchjob(namespace)
    misspelt["spec"]["pytorchReplicaSpecs"]["Master"]["replica"] = 1
    with pytest.raises(jsonschema.ValidationError, match="'replica' was unexpected"):
        jsonschema.validate(misspelt, pytorchjob_schema)
    with pytest.raises(ClusterError, match=r"\.spec\.pytorchReplicaSpecs\.Master\.replica: "
                                           "field not declared in schema"):
        kube.apply(misspelt, dry_run=True)


def test_a_cluster_with_the_crd_serves_pytorchjobs(kubeflow_crds: dict[str, Any],
                                                   kube: KubeCluster, namespace: str) -> None:
    assert kube.serves("kubeflow.org/v1", "PyTorchJob")
    refuse_unserved(cluster=kube, objects=[pytorchjob(namespace)], release_name="lmf",
                    namespace=namespace)


def test_without_the_crd_the_run_is_named_with_what_to_do(
        without_kubeflow_crds: None, kube: KubeCluster, namespace: str) -> None:
    assert not kube.serves("kubeflow.org/v1", "PyTorchJob")
    assert kube.serves("batch/v1", "Job")
    job = pytorchjob(namespace)
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "lmf-llama-factory-train-yi-agent",
                              "namespace": namespace}}
    with pytest.raises(ReleaseStateError) as refused:
        refuse_unserved(cluster=kube, objects=[configmap, job], release_name="lmf",
                        namespace=namespace)
    print(refused.value.message)
    assert refused.value.message == (
        f"release lmf in namespace {namespace}: the cluster does not serve 1 kind the "
        "release needs; nothing was changed:\n"
        f"  train run yi-agent (PyTorchJob/{job['metadata']['name']}): kubeflow.org/v1 "
        "PyTorchJob is not served: install the Kubeflow training operator (its CRDs serve "
        "kubeflow.org/v1 PyTorchJob) or set train.yi-agent.engine: job "
        "(`lmfchart train --engine job`)")


def test_a_crd_removed_since_discovery_was_cached_is_seen_gone(
        kubeflow_crds: dict[str, Any], kube: KubeCluster, cluster: Cluster,
        api_client: Any) -> None:
    assert kube.serves("kubeflow.org/v1", "PyTorchJob")  # now in the discovery cache
    remove_crd(api_client, kubeflow_crds)
    try:
        # A later run, same cache file: the custom group is asked again.
        later = connect(kubeconfig=str(cluster.kubeconfig), context=None)
        assert not later.serves("kubeflow.org/v1", "PyTorchJob")
        assert later.serves("apps/v1", "Deployment")
    finally:
        install_crd(api_client, kubeflow_crds)
