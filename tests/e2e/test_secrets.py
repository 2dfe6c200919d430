"""Secrets against a real API server: `lmfchart secret create`, a release that references
the Secret and holds its values nowhere else, and the `helm test` hook that install records
for helm 4 and helm 3 to run."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from lmfchart.cli import app
from lmfchart.release.hooks import same_hook
from lmfchart.release.record import ReleaseRecord, record_from_secret, secret_name

from .cluster import Cluster
from .commands import get, helm_install_rendered, helm_run

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

TEST_POD = "lmf-llama-factory-test-connection"


class Session:
    """Runs lmfchart against the cluster and keeps every word it printed."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.printed: list[str] = []

    def run(self, *args: str, stdin: bytes | None = None, code: int = 0) -> Result:
        local = args[0] in ("render", "template")
        kubeconfig = () if local else ("--kubeconfig", str(self.cluster.kubeconfig))
        result = CliRunner().invoke(app, [*args, *kubeconfig], input=stdin)
        self.printed += [result.stdout, result.stderr]
        assert result.exit_code == code, result.output
        return result


def decoded(secret: dict[str, Any]) -> dict[str, bytes]:
    return {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}


def record(cluster: Cluster, namespace: str, revision: int = 1) -> ReleaseRecord:
    return record_from_secret(get(cluster, f"secret/{secret_name('lmf', revision)}", namespace))


def test_secret_create_stores_the_bytes_and_replaces_only_with_force(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    lmf = Session(cluster)
    token, blob = secrets.token_hex(20), secrets.token_bytes(64)
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "blob").write_bytes(blob)
    created = lmf.run("secret", "create", "tokens", "-n", namespace,
                      "--from-file", f"HF_TOKEN={tmp_path / 'token'}",
                      "--from-file", f"blob={tmp_path / 'blob'}",
                      "--from-stdin", "API_KEY", stdin=f"{token}-api\n".encode())
    assert created.stdout == (f"created Secret {namespace}/tokens (Opaque): HF_TOKEN (41 "
                              "bytes), blob (64 bytes), API_KEY (44 bytes)\n")
    stored = get(cluster, "secret/tokens", namespace)
    assert stored["type"] == "Opaque"
    assert decoded(stored) == {"HF_TOKEN": f"{token}\n".encode(), "blob": blob,
                               "API_KEY": f"{token}-api".encode()}

    refused = lmf.run("secret", "create", "tokens", "-n", namespace,
                      "--from-stdin", "HF_TOKEN", stdin=b"other", code=5)
    assert "exists already; nothing was changed" in refused.stderr
    assert get(cluster, "secret/tokens", namespace)["metadata"]["resourceVersion"] == (
        stored["metadata"]["resourceVersion"])

    lmf.run("secret", "create", "tokens", "-n", namespace, "--force",
            "--from-stdin", "HF_TOKEN", stdin=b"other")
    assert decoded(get(cluster, "secret/tokens", namespace)) == {"HF_TOKEN": b"other"}

    missing = lmf.run("secret", "create", "tokens", "-n", f"{namespace}-gone",
                      "--from-stdin", "K", stdin=b"v", code=5)
    assert "Secret/tokens" in missing.stderr and "404" in missing.stderr
    assert all(token not in text for text in lmf.printed)


def test_secret_values_appear_nowhere_but_in_their_secret(
    cluster: Cluster, namespace: str, tmp_path: Path
) -> None:
    """The grep test: values a Secret holds never reach a rendered manifest, the chart, the
    release record, another object or anything lmfchart prints."""
    lmf = Session(cluster)
    tokens = {"HF_TOKEN": f"hf_{secrets.token_hex(20)}",
              "WANDB_API_KEY": secrets.token_hex(20),
              "API_KEY": f"sk-{secrets.token_hex(16)}"}
    for key in ("HF_TOKEN", "WANDB_API_KEY"):
        (tmp_path / key).write_text(tokens[key])
    lmf.run("secret", "create", "llm-tokens", "-n", namespace,
            "--from-file", f"HF_TOKEN={tmp_path / 'HF_TOKEN'}",
            "--from-file", f"WANDB_API_KEY={tmp_path / 'WANDB_API_KEY'}")
    lmf.run("secret", "create", "api-key", "-n", namespace, "--from-stdin", "API_KEY",
            stdin=tokens["API_KEY"].encode() + b"\n")
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({
        "secrets": {"hfToken": {"name": "llm-tokens"}, "wandbApiKey": {"name": "llm-tokens"}},
        "storage": {"output": {"type": "pvc"}},
        "train": {"sft": {"model": "Qwen/Qwen3-0.6B", "datasets": ["identity"],
                          "reportTo": ["wandb"]}},
        "api": {"enabled": True, "model": "Qwen/Qwen3-0.6B",
                "apiKeySecret": {"name": "api-key"}},
    }))
    chart = tmp_path / "chart"
    flags = ("-n", namespace, "-f", str(values))
    lmf.run("render", "-f", str(values), "-o", str(chart))
    manifests = lmf.run("template", "lmf", *flags).stdout
    lmf.run("diff", "lmf", *flags, code=2)
    lmf.run("install", "lmf", *flags)
    lmf.run("status", "lmf", "-n", namespace)
    lmf.run("status", "lmf", "-n", namespace, "-o", "json")
    lmf.run("history", "lmf", "-n", namespace)
    lmf.run("diff", "lmf", *flags)

    # The values reach the pods only as references to their Secrets.
    objects = list(yaml.safe_load_all(manifests))
    references = {(entry["name"], json.dumps(entry["valueFrom"]["secretKeyRef"]))
                  for obj in objects if obj["kind"] in ("Deployment", "Job")
                  for entry in obj["spec"]["template"]["spec"]["containers"][0]["env"]
                  if "secretKeyRef" in entry.get("valueFrom", {})}
    assert references == {
        ("HF_TOKEN", '{"name": "llm-tokens", "key": "HF_TOKEN"}'),
        ("WANDB_API_KEY", '{"name": "llm-tokens", "key": "WANDB_API_KEY"}'),
        ("API_KEY", '{"name": "api-key", "key": "API_KEY"}'),
    }
    stored = record(cluster, namespace)
    chart_files = [path.read_bytes() for path in chart.rglob("*") if path.is_file()]
    live = get(cluster, "all,configmaps,secrets,persistentvolumeclaims", namespace)["items"]
    places: dict[str, bytes] = {
        "rendered manifests": manifests.encode(),
        "chart folder": b"\n".join(chart_files),
        "release record": json.dumps({"config": stored.config, "manifest": stored.manifest,
                                      "chart": stored.chart, "hooks": stored.hooks,
                                      "notes": stored.notes}).encode(),
        "cli output": "\n".join(lmf.printed).encode(),
        **{f"{o['kind']}/{o['metadata']['name']}": json.dumps(decoded(o) if o["kind"] ==
                                                              "Secret" else o, default=repr)
           .encode() for o in live},
    }
    holding = {where for where, text in places.items()
               for value in tokens.values() if value.encode() in text}
    # The positive control: the search finds the values where they are.
    assert holding == {"Secret/llm-tokens", "Secret/api-key"}
    assert len(chart_files) > 5 and stored.manifest and stored.hooks


def test_install_records_the_test_pod_as_helm_does_and_helm_test_creates_it(
    cluster: Cluster, namespace: str, tmp_path: Path, helm4: Path, helm3: Path,
) -> None:
    lmf = Session(cluster)
    lmf.run("install", "lmf", "-n", namespace)
    pods = get(cluster, "pods", namespace)["items"]
    assert TEST_POD not in [p["metadata"]["name"] for p in pods]  # never applied by install
    ours = record(cluster, namespace)
    assert TEST_POD not in ours.manifest

    # The oracle: the same chart installed by helm 4, whose record keeps the same hook.
    theirs_ns = f"{namespace}-helm"
    cluster.kubectl("create", "namespace", theirs_ns)
    try:
        helm_install_rendered(helm4, cluster, theirs_ns, tmp_path / "chart")
        theirs = record(cluster, theirs_ns)
        assert [same_hook(h) for h in ours.hooks] == [
            same_hook({**h, "manifest": h["manifest"].replace(theirs_ns, namespace)})
            for h in theirs.hooks]
        assert [h["last_run"] for h in ours.hooks] == [h["last_run"] for h in theirs.hooks]
    finally:
        cluster.kubectl("delete", "namespace", theirs_ns, "--wait=false")

    # No kubelet runs the Pod: helm creates it, waits, and fails when its time is up.
    for helm in (helm4, helm3):
        tested = helm_run(helm, cluster, "test", "lmf", "-n", namespace, "--timeout", "5s")
        assert tested.returncode != 0, tested.stdout
        assert "timed out" in (tested.stdout + tested.stderr).lower() or (
            "deadline" in (tested.stdout + tested.stderr).lower()), tested.stderr
        pod = get(cluster, f"pod/{TEST_POD}", namespace)
        assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
        spec = pod["spec"]
        container = spec["containers"][0]
        assert container["command"][:2] == ["python3", "-c"]
        assert "http://lmf-llama-factory:7860/" in container["command"][2]
        assert container["image"] == get(cluster, "deployment/lmf-llama-factory", namespace)[
            "spec"]["template"]["spec"]["containers"][0]["image"]
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        # The Service must never select it.
        service = get(cluster, "service/lmf-llama-factory", namespace)
        labels = pod["metadata"]["labels"]
        assert not service["spec"]["selector"].items() <= labels.items()
        # before-hook-creation: the second helm replaces the first one's Pod.
        first_uid = pod["metadata"]["uid"]
        if helm is helm4:
            held = first_uid
        else:
            assert first_uid != held
    # helm wrote the run into the record; lmfchart upgrades over it.
    latest = record(cluster, namespace, revision=1)
    assert latest.hooks[0]["last_run"]["phase"] in ("Failed", "Running", "Unknown")
    lmf.run("install", "lmf", "-n", namespace)
