"""lmfchart's Pod Security verdicts equal the API server's PodSecurity admission.

Every pod template the chart renders (every example, and variants that break each level
in other ways) is created as a Pod, `dryRun=All`, in namespaces labelled
`pod-security.kubernetes.io/enforce=baseline` and `=restricted`: the server refuses it
with the names of the checks it fails, and those must be the checks lmfchart reports.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.usecases.podsecurity import PodTemplate, pod_templates, violations
from lmfchart.usecases.podstandards import LEVELS, Level
from tests.support.podsecurity import CASES, Case

pytestmark = [pytest.mark.e2e]


@pytest.fixture(scope="module")
def enforcing(api_client: Any) -> Iterator[dict[Level, str]]:
    """One namespace per level, enforcing it (the latest version of the standard)."""
    from kubernetes import client

    core = client.CoreV1Api(api_client)
    names: dict[Level, str] = {level: f"e2e-pss-{level}-{uuid.uuid4().hex[:6]}"
                               for level in LEVELS}
    for level, name in names.items():
        core.create_namespace({"metadata": {"name": name, "labels": {
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/enforce-version": "latest"}}})
        _default_account(core, name)
    try:
        yield names
    finally:
        for name in names.values():
            core.delete_namespace(name)


def _as_pod(template: PodTemplate, namespace: str, index: int) -> dict[str, Any]:
    spec = dict(template.spec)
    # Other admission plugins look these up (the account, the RuntimeClass); Pod Security
    # reads neither, and the test namespaces have only the "default" account.
    spec.pop("serviceAccountName", None)
    spec.pop("runtimeClassName", None)
    metadata = {key: template.metadata[key] for key in ("labels", "annotations")
                if key in template.metadata}
    return {"apiVersion": "v1", "kind": "Pod", "spec": spec,
            "metadata": {**metadata, "name": f"pss-{index}", "namespace": namespace}}


def _server_checks(dynamic_client: Any, pod: Mapping[str, Any]) -> set[str]:
    """The checks the server's admission names when it refuses POD; none when it admits."""
    from kubernetes.dynamic.exceptions import DynamicApiError

    pods = dynamic_client.resources.get(api_version="v1", kind="Pod")
    try:
        pods.create(body=pod, namespace=pod["metadata"]["namespace"], dry_run="All")
    except DynamicApiError as error:
        message = json.loads(error.body)["message"]
        assert error.status == 403 and "violates PodSecurity" in message, message
        return set(_check_names(message.split('": ', 1)[1]))
    return set()


def _check_names(reasons: str) -> Iterator[str]:
    """`a (x, y), b (z)` -> a, b: the names before each detail in parentheses."""
    depth, start = 0, 0
    for at, char in enumerate(reasons + ", "):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and reasons[at:at + 2] in (", ", ""):
            if at > start:
                yield reasons[start:at].split(" (", 1)[0]
            start = at + 2


def _default_account(core: Any, namespace: str) -> None:
    # The controller creates it soon after the namespace; a test need not wait for that.
    from kubernetes import client

    try:
        core.create_namespaced_service_account(namespace, {"metadata": {"name": "default"}})
    except client.ApiException as error:
        if error.status != 409:
            raise


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_verdicts_equal_the_admission_plugin(
    case: Case, enforcing: dict[Level, str], dynamic_client: Any
) -> None:
    objects = case.objects()
    templates = [t for obj in objects for t in pod_templates(obj)]
    assert templates, "every case renders at least one pod"
    for level, namespace in enforcing.items():
        found = violations(objects, level)
        for index, template in enumerate(templates):
            ours = {v.finding.check for v in found if v.pod == template}
            server = _server_checks(dynamic_client, _as_pod(template, namespace, index))
            assert ours == server, f"{case.name}, {level}, {template.label}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_enforced_verdict_is_the_exit_code(
    case: Case, enforcing: dict[Level, str], dynamic_client: Any
) -> None:
    """`validate --pod-security-enforce LEVEL` exits 1 exactly when the server refuses a pod
    of the release; `--pod-security LEVEL` only warns and exits 0."""
    objects = case.objects()
    templates = [t for obj in objects for t in pod_templates(obj)]
    flags = [*(a for f in case.files for a in ("-f", f)),
             *(a for s in case.set_json for a in ("--set-json", s))]
    for level, namespace in enforcing.items():
        refused = any(_server_checks(dynamic_client, _as_pod(t, namespace, i))
                      for i, t in enumerate(templates))
        enforced = CliRunner().invoke(
            app, ["validate", "--pod-security-enforce", level, "--format", "json", *flags])
        assert enforced.exit_code == (1 if refused else 0), enforced.output
        assert json.loads(enforced.output)["valid"] is not refused
        warned = CliRunner().invoke(
            app, ["validate", "--pod-security", level, "--format", "json", *flags])
        assert warned.exit_code == 0, warned.output
        [report] = json.loads(warned.output)["files"]
        pod_security = [w for w in report["warnings"] if "Pod Security" in w["message"]]
        assert bool(pod_security) is refused
