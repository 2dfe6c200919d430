"""The pieces of `lmfchart diff` that need no server: what is compared, how Secret values
are hidden, and how conflicts are read from managedFields (the e2e tests prove the same
against the real API server)."""

from __future__ import annotations

import base64
from typing import Any

from lmfchart.usecases.fieldowners import FieldConflict, owned_paths, taken_fields
from lmfchart.usecases.objectdiff import unified


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _secret(token: str, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "s", "namespace": "ns", **extra},
            "data": {"token": _b64(token), "user": _b64("admin")}}


def _deployment(image: str, replicas: int, fields: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u-1", "resourceVersion": "7",
                     "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                     "managedFields": fields},
        "spec": {"replicas": replicas,
                 "template": {"spec": {"containers": [{"name": "web", "image": image}]}}},
        "status": {"observedGeneration": 3, "replicas": replicas},
    }


HELM_SPEC: dict[str, Any] = {"f:template": {"f:spec": {"f:containers": {
    'k:{"name":"web"}': {".": {}, "f:image": {}, "f:name": {}}}}}}
HELM: dict[str, Any] = {"manager": "helm", "operation": "Apply", "fieldsV1": {"f:spec": HELM_SPEC}}
EDIT = {"manager": "kubectl-edit", "operation": "Update",
        "fieldsV1": {"f:spec": {"f:replicas": {}}}}
STATUS = {"manager": "kube-controller-manager", "operation": "Update", "subresource": "status",
          "fieldsV1": {"f:status": {"f:replicas": {}}}}


def test_server_managed_fields_and_status_never_show_as_changes() -> None:
    live = _deployment("app:1", 1, [HELM, EDIT, STATUS])
    planned = _deployment("app:1", 1, [HELM])
    planned["metadata"].update(resourceVersion="8", generation=4)
    planned["status"] = {}
    assert unified(live, planned, title="Deployment/web") == ""


def test_a_changed_field_is_a_unified_diff_line() -> None:
    text = unified(_deployment("app:1", 1, []), _deployment("app:2", 1, []),
                   title="Deployment/web")
    assert text.splitlines()[:2] == ["--- live Deployment/web", "+++ planned Deployment/web"]
    assert "-          image: app:1" in text.splitlines()
    assert "+          image: app:2" in text.splitlines()


def test_secret_values_are_hidden_and_a_changed_one_is_marked() -> None:
    text = unified(_secret("old-token"), _secret("new-token!"), title="Secret/s")
    assert "old-token" not in text and "new-token" not in text
    assert _b64("old-token") not in text and _b64("new-token!") not in text
    lines = text.splitlines()
    assert "-  token: \"(hidden: 9 bytes)\"" in lines
    assert "+  token: \"(hidden: 10 bytes, changed)\"" in lines
    # The unchanged value is context, not a change.
    assert not any(line.startswith(("-", "+")) and "user" in line for line in lines)


def test_a_secret_created_or_pruned_shows_whole_with_values_hidden() -> None:
    applied = {"kubectl.kubernetes.io/last-applied-configuration":
               '{"data":{"token":"' + _b64("in-clear") + '"}}'}
    for live, planned in ((None, _secret("in-clear")),
                          (_secret("in-clear", annotations=applied), None)):
        text = unified(live, planned, title="Secret/s")
        assert "in-clear" not in text and _b64("in-clear") not in text
        assert "(hidden: 8 bytes)" in text


def test_secret_with_the_same_values_has_no_diff() -> None:
    assert unified(_secret("same"), _secret("same"), title="Secret/s") == ""


def test_owned_paths_read_fields_v1_keys_and_skip_status() -> None:
    owners = owned_paths(_deployment("app:1", 1, [HELM, EDIT, STATUS]))
    assert owners == {
        "helm": {".spec.template.spec.containers[name=web].image",
                 ".spec.template.spec.containers[name=web].name"},
        "kubectl-edit": {".spec.replicas"},
    }


def test_fields_a_forced_apply_takes_from_another_manager_are_conflicts() -> None:
    live = _deployment("app:1", 2, [HELM, EDIT])
    taken = {**HELM, "fieldsV1": {"f:spec": {"f:replicas": {}, **HELM_SPEC}}}
    applied = _deployment("app:1", 1, [taken])  # kubectl-edit's entry is gone
    assert taken_fields(live, applied) == [FieldConflict("kubectl-edit", ".spec.replicas")]
    # Shared ownership (the same value) is no conflict: both keep the field.
    assert taken_fields(live, _deployment("app:1", 2, [taken, EDIT])) == []
