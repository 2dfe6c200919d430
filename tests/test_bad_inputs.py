"""A catalogue of bad inputs, run through the real CLI: clean errors, located, nothing written.

Every case is rendered with `lmfchart render -f BAD -o OUT` and printed with
`lmfchart template -f BAD`. Both must fail with the expected exit code (1 for bad values,
2 for usage errors such as bad --set syntax; output problems exit 3), the error must name the
file, the line and the dotted key path whenever lmfchart can know them, OUT must not exist
afterwards (nor any `.OUT.*` staging folder), and `template` must print nothing.

Unreadable files: the suite often runs as root, which reads a chmod 000 file anyway. The
unreadable case therefore drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the calling
thread's effective capabilities (capset(2)) around the in-process run, then restores them;
as a normal user chmod 000 alone is enough. Files that cannot be opened for other reasons
(a path below a regular file, a dangling symlink, a folder) are ordinary cases.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from lmfchart.cli import app
from tests.conftest import example_values

runner = CliRunner()

SEED_PLACEHOLDER = "<replaced-ingress-nginx-ip>.nip.io"
GOOD = "image:\n  tag: '0.9.4'\n"
# A training run on a persistent output volume: valid, for cases to add one mistake to.
_RUN = ("storage:\n  output:\n    type: pvc\ntrain:\n  r:\n    model: Qwen/Qwen3-0.6B\n"
        "    datasets: [identity]\n")


@dataclass(frozen=True)
class Case:
    """One bad input and the error it must produce."""

    id: str
    text: str | bytes | Callable[[Path], Path] | None
    """bad.yaml's content, a function making the -f argument in tmp_path, or None (no -f)."""
    message: str
    """A fragment of the error message."""
    key: str | None = None
    """The dotted key path the message must name."""
    line: int | None = None
    """The line the message must name (None: the message must name no line)."""
    sets: tuple[str, ...] = ()
    """Extra flags such as ("--set", "a=1")."""
    exit_code: int = 1
    where: str | None = "file"
    """What the error is blamed on: "file" (the -f file), "--set", or None (no location)."""


def _below_a_file(tmp: Path) -> Path:
    (tmp / "plain.yaml").write_text(GOOD)
    return tmp / "plain.yaml" / "bad.yaml"


def _dangling_symlink(tmp: Path) -> Path:
    link = tmp / "bad.yaml"
    link.symlink_to(tmp / "gone.yaml")
    return link


def _folder(tmp: Path) -> Path:
    (tmp / "bad.yaml").mkdir()
    return tmp / "bad.yaml"


def _missing(tmp: Path) -> Path:
    return tmp / "bad.yaml"


def _huge(tmp: Path) -> Path:
    path = tmp / "bad.yaml"
    path.write_text("podAnnotations:\n  big: '" + "x" * (1024 * 1024) + "'\n")
    return path


def _alias_bomb() -> str:
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    for level in range(1, 7):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


CASES = [
    # --- misspelt keys --------------------------------------------------------------
    Case("misspelt-top-level-ingres", "ingres:\n  enable: true\n",
         "unknown key (misspelt?)", key="ingres", line=1),
    Case("misspelt-nested-image.tagg", "image:\n  tagg: '1.0'\n",
         "unknown key (misspelt?)", key="image.tagg", line=2),
    Case("misspelt-deep-storage.data.mountpath",
         "storage:\n  data:\n    type: emptyDir\n    mountpath: /data\n",
         "unknown key (misspelt?)", key="storage.data.mountpath", line=4),
    Case("misspelt-probe-timing", "probes:\n  startup:\n    periodSecond: 5\n",
         "unknown key (misspelt?)", key="probes.startup.periodSecond", line=3),
    Case("misspelt-wrong-case-Image", "Image:\n  tag: '1.0'\n",
         "unknown key (misspelt?)", key="Image", line=1),
    Case("misspelt-via-set", None, "unknown key (misspelt?)", key="image.tagg",
         sets=("--set", "image.tagg=1"), where="--set"),
    # --- wrong types ----------------------------------------------------------------
    Case("string-for-bool", "shm:\n  enabled: 'yes'\n", "valid boolean",
         key="shm.enabled", line=2),
    Case("string-for-bool-via-set", None, "valid boolean", key="ingress.enabled",
         sets=("--set", "ingress.enabled=yes"), where="--set"),
    Case("list-for-map", "nodeSelector: [gpu, fast]\n", "valid dictionary",
         key="nodeSelector", line=1),
    Case("map-for-list", "tolerations: {key: gpu}\n", "valid list", key="tolerations",
         line=1),
    Case("number-for-string-list", "command: 5\n", "valid list", key="command", line=1),
    Case("numbers-in-string-list", "args:\n  - --port\n  - 7860\n", "valid string",
         key="args[1]", line=3),
    Case("string-for-int", "service:\n  port: '80'\n", "valid integer",
         key="service.port", line=2),
    Case("float-for-int", "gpu:\n  count: 1.5\n", "valid integer", key="gpu.count", line=2),
    Case("int-via-set-string", None, "valid integer", key="gpu.count",
         sets=("--set-string", "gpu.count=1"), where="--set-string"),
    Case("map-for-string", "image:\n  tag: {major: 1}\n", "valid string",
         key="image.tag", line=2),
    Case("list-for-quantity", "resources:\n  limits:\n    memory: [1]\n",
         "valid string or a valid integer or a valid number",
         key="resources.limits.memory", line=3),
    Case("unknown-enum-value", "hub:\n  source: github\n", "'huggingface', 'modelscope'",
         key="hub.source", line=2),
    Case("port-out-of-range", "service:\n  port: 70000\n", "less than or equal to 65535",
         key="service.port", line=2),
    Case("nan", "shm:\n  sizeLimit: .nan\n", "finite number", key="shm.sizeLimit", line=2),
    # --- bad names and hosts ----------------------------------------------------------
    Case("domain-with-space-and-bang", "ingress:\n  enabled: true\n  domain: bad domain!\n",
         "expected a DNS host name", key="ingress.domain", line=3),
    Case("uppercase-host", "ingress:\n  enabled: true\n  host: LLaMA.example.com\n",
         "expected a DNS host name", key="ingress.host", line=3),
    Case("host-with-underscore", "ingress:\n  enabled: true\n  host: llama_board.example.com\n",
         "expected a DNS host name", key="ingress.host", line=3),
    Case("bad-fullnameOverride", "fullnameOverride: Llama_Factory\n",
         "expected a DNS-1123 label", key="fullnameOverride", line=1),
    Case("fullnameOverride-too-long", f"fullnameOverride: {'a' * 64}\n",
         "at most 63 characters", key="fullnameOverride", line=1),
    Case("bad-env-name", "env:\n  1HF_HOME: /cache\n", "bad key: expected an environment",
         key="env.1HF_HOME", line=2),
    Case("bad-pod-label-key", "podLabels:\n  team name: ml\n", "bad key: expected a label key",
         key="podLabels.team name", line=2),
    Case("bad-claim-name",
         "storage:\n  data:\n    type: existingClaim\n    existingClaim: Shared_Data\n",
         "expected a DNS-1123 subdomain", key="storage.data.existingClaim", line=4),
    # --- host paths -------------------------------------------------------------------
    Case("relative-host-path-dotdot",
         "storage:\n  data:\n    type: hostPath\n    hostPath: ../etc\n",
         "expected an absolute path", key="storage.data.hostPath", line=4),
    Case("relative-host-path-plain",
         "storage:\n  data:\n    type: hostPath\n    hostPath: data\n",
         "expected an absolute path", key="storage.data.hostPath", line=4),
    Case("host-path-with-dotdot",
         "storage:\n  saves:\n    type: hostPath\n    hostPath: /srv/llama/../../etc\n",
         "without '..' components", key="storage.saves.hostPath", line=4),
    Case("mount-path-with-dotdot", "storage:\n  output:\n    mountPath: /app/../root\n",
         "without '..' components", key="storage.output.mountPath", line=3),
    Case("seed-relative-volume", "volume:\n  hfcache: models\n",
         "expected an absolute path", key="volume.hfcache", line=2),
    # --- GPUs and quantities ----------------------------------------------------------
    Case("negative-gpu-count", "gpu:\n  count: -1\n", "greater than or equal to 0",
         key="gpu.count", line=2),
    Case("negative-gpu-count-via-set", None, "greater than or equal to 0", key="gpu.count",
         sets=("--set", "gpu.count=-2"), where="--set"),
    Case("quantity-lots", "resources:\n  limits:\n    memory: lots\n",
         "expected a non-negative Kubernetes quantity", key="resources.limits.memory", line=3),
    Case("negative-quantity", "resources:\n  requests:\n    cpu: -2\n",
         "expected a non-negative Kubernetes quantity", key="resources.requests.cpu", line=3),
    Case("quantity-GB", "shm:\n  sizeLimit: 16GB\n",
         "expected a non-negative Kubernetes quantity", key="shm.sizeLimit", line=2),
    Case("quantity-with-space", "storage:\n  saves:\n    type: pvc\n    size: 100 Gi\n",
         "expected a non-negative Kubernetes quantity", key="storage.saves.size", line=4),
    # --- the seed's placeholder -------------------------------------------------------
    Case("seed-placeholder-domain",
         f"ingress:\n  enabled: true\n  domain: {SEED_PLACEHOLDER}\n",
         "placeholder '<replaced-ingress-nginx-ip>': replace it", key="ingress.domain", line=3),
    Case("seed-placeholder-seed-layout",
         f"ingress:\n  enable: true\n  ingressDomain: {SEED_PLACEHOLDER}\n",
         "replace it with your ingress controller's address", key="ingress.ingressDomain",
         line=3),
    Case("seed-placeholder-via-set", None, "replace it", key="ingress.host",
         sets=("--set", f"ingress.host=llama.{SEED_PLACEHOLDER}"), where="--set"),
    # --- injection ----------------------------------------------------------------------
    Case("newline-document-in-tag",
         'image:\n  tag: "v1\\n---\\napiVersion: v1\\nkind: Secret\\nmetadata: {name: x}"\n',
         "expected an image tag", key="image.tag", line=2),
    Case("newline-document-in-host",
         'ingress:\n  enabled: true\n  host: "a.example.com\\n---\\nkind: Secret"\n',
         "expected a DNS host name", key="ingress.host", line=3),
    Case("go-template-in-tag", 'image:\n  tag: "{{ .Release.Name }}"\n',
         "expected an image tag", key="image.tag", line=2),
    Case("go-template-in-fullname", "fullnameOverride: '{{ .Release.Name }}'\n",
         "expected a DNS-1123 label", key="fullnameOverride", line=1),
    Case("yaml-python-object-map", "image: !!python/object:os.system {}\n",
         "unsupported YAML type", key="image", line=1),
    Case("yaml-python-apply-list", "command: !!python/object/apply:os.system [id]\n",
         "unsupported YAML type", key="command", line=1),
    Case("yaml-python-name-scalar", "env:\n  SHELL: !!python/name:os.system ''\n",
         "unsupported YAML type", key="env.SHELL", line=2),
    Case("yaml-python-object-top-level", "!!python/object:os.system {image: {tag: x}}\n",
         "unsupported YAML type", line=1),
    Case("yaml-binary", "env:\n  TOKEN: !!binary aGVsbG8=\n", "unsupported YAML type",
         key="env.TOKEN", line=2),
    Case("yaml-set-for-list", "command: !!set {llamafactory-cli, webui}\n",
         "unsupported YAML type", key="command", line=1),
    Case("yaml-local-tag", "env:\n  A: !vault secret/hf\n", "unsupported YAML type",
         key="env.A", line=2),
    Case("control-bel-in-value", 'env:\n  GREETING: "hi\\athere"\n', "U+0007",
         key="env.GREETING", line=2),
    Case("control-nel-in-value", 'podAnnotations:\n  note: "a\\Nb"\n', "U+0085",
         key="podAnnotations.note", line=2),
    Case("control-char-in-key", 'podAnnotations:\n  "note\\x1b[31m": x\n',
         "key contains the control character U+001B", key="podAnnotations.note\\x1b[31m",
         line=2),
    Case("line-separator-in-value", 'env:\n  A: "x\\Ly"\n', "U+2028", key="env.A", line=2),
    Case("control-char-via-set", None, "U+0007", key="env.A",
         sets=("--set", "env.A=x\x07"), where="--set"),
    # --- YAML structure -------------------------------------------------------------------
    Case("duplicate-top-level-key", "image:\n  tag: a\ngpu:\n  count: 1\nimage:\n  tag: b\n",
         "duplicate key 'image' (first defined on line 1)", key="image", line=5),
    Case("duplicate-nested-key", "env:\n  HF_HOME: /a\n  HF_HOME: /b\n",
         "duplicate key 'HF_HOME' (first defined on line 2)", key="env.HF_HOME", line=3),
    Case("not-utf8", b"env:\n  A: caf\xe9\n", "not UTF-8 text: byte 0xe9", line=2),
    Case("utf16-with-bom", "image:\n  tag: x\n".encode("utf-16"), "not UTF-8 text", line=1),
    Case("top-level-list", "- image\n- gpu\n", "expected a mapping of values at the top level",
         line=1),
    Case("top-level-scalar", "just some text\n", "found the scalar 'just some text'", line=1),
    Case("two-documents", "image:\n  tag: a\n---\nimage:\n  tag: b\n",
         "expected a single YAML document", line=3),
    Case("tab-indentation", "image:\n\ttag: x\n", "invalid YAML", line=2),
    Case("unclosed-flow-list", "command: [llamafactory-cli, webui\n", "invalid YAML", line=2),
    Case("complex-key", "env:\n  ? [A, B]\n  : x\n", "a mapping key must be a plain scalar",
         key="env", line=2),
    Case("recursive-alias", "tolerations: &t\n  - *t\n",
         "alias refers to a node that contains it", key="tolerations[0]", line=1),
    Case("too-deep", "affinity: " + "[" * 3000 + "]" * 3000 + "\n", "nest deeper than 64",
         line=1),
    Case("alias-bomb", _alias_bomb(), "more than 100000 YAML nodes", line=1),
    # --- the file itself ------------------------------------------------------------------
    Case("folder-not-file", _folder, "is a directory"),
    Case("path-below-a-regular-file", _below_a_file, "cannot read the file: Not a directory"),
    Case("dangling-symlink", _dangling_symlink, "file not found"),
    Case("missing-file", _missing, "file not found"),
    Case("huge-file", _huge, "larger than 1024 KiB"),
    # --- bad --set syntax: usage errors -----------------------------------------------------
    Case("set-no-value", None, "--set 'foo': key 'foo' has no value", sets=("--set", "foo"),
         exit_code=2, where=None),
    Case("set-nested-no-equals", None, "key 'image.tag' has no value", sets=("--set", "image.tag"),
         exit_code=2, where=None),
    Case("set-bad-index", None, "list index 'x' is not a non-negative integer",
         sets=("--set", "a[x]=1"), exit_code=2, where=None),
    Case("set-unclosed-index", None, "is not a non-negative integer",
         sets=("--set", "tolerations[0"), exit_code=2, where=None),
    Case("set-huge-index", None, "larger than 65536", sets=("--set", "args[9999999]=x"),
         exit_code=2, where=None),
    Case("set-empty-key", None, "--set '=1': empty key name", sets=("--set", "=1"),
         exit_code=2, where=None),
    Case("set-empty-segment", None, "empty key name", sets=("--set", "image..tag=1"),
         exit_code=2, where=None),
    Case("set-empty", None, "--set needs KEY=VALUE", sets=("--set", ""), exit_code=2,
         where=None),
    Case("set-trailing-backslash", None, "trailing backslash", sets=("--set", "env.A=x\\"),
         exit_code=2, where=None),
    Case("set-unclosed-list", None, "a list must end with '}'",
         sets=("--set", "command={llamafactory-cli"), exit_code=2, where=None),
    Case("set-string-no-value", None, "--set-string 'env.A'", sets=("--set-string", "env.A"),
         exit_code=2, where=None),
    Case("set-empty-image-tag", None, "empty image.tag needs image.digest", key="image.tag",
         sets=("--set", "image.tag="), where="--set"),
    # --- contradictions ---------------------------------------------------------------------
    Case("ingress-without-host-or-domain", "ingress:\n  enabled: true\n",
         "neither ingress.host nor ingress.domain", key="ingress", line=1),
    Case("tls-without-host", "ingress:\n  tls:\n    secretName: board-tls\n",
         "TLS needs a host", key="ingress.tls.secretName", line=3),
    Case("env-collides-with-chart-variable",
         "proxy:\n  noProxy: localhost\nenv:\n  NO_PROXY: other\n",
         "NO_PROXY is set by the chart (proxy.noProxy)", key="env.NO_PROXY", line=4),
    Case("env-gradio-port", "env:\n  GRADIO_SERVER_PORT: '9000'\n",
         "is set by the chart", key="env.GRADIO_SERVER_PORT", line=2),
    Case("node-selector-value-with-space", "nodeSelector:\n  pool: gpu nodes\n",
         "expected a label value", key="nodeSelector.pool", line=2),
    Case("annotation-key-with-space", "podAnnotations:\n  bad key: x\n",
         "expected a label key", key="podAnnotations.bad key", line=2),
    Case("integer-beyond-float64", "terminationGracePeriodSeconds: 9007199254740993\n",
         "Helm holds numbers as 64-bit floats", key="terminationGracePeriodSeconds", line=1),
    Case("gpu-twice-limits",
         "gpu:\n  count: 1\nresources:\n  limits:\n    nvidia.com/gpu: 1\n",
         "set GPUs in one place only", key="resources.limits.nvidia\\.com/gpu", line=5),
    Case("gpu-twice-requests",
         "gpu:\n  count: 2\nresources:\n  requests:\n    nvidia.com/gpu: 2\n",
         "set GPUs in one place only", key="resources.requests.nvidia\\.com/gpu", line=5),
    Case("hostPath-without-path", "storage:\n  data:\n    type: hostPath\n",
         "type hostPath needs hostPath", key="storage.data.hostPath", line=2),
    Case("existingClaim-without-name", "storage:\n  saves:\n    type: existingClaim\n",
         "needs the name of an existing PersistentVolumeClaim",
         key="storage.saves.existingClaim", line=2),
    Case("two-volumes-one-mountPath",
         "storage:\n  data:\n    type: emptyDir\n    mountPath: /app/saves/\n",
         "already used by storage.saves", key="storage.data.mountPath", line=4),
    Case("volume-on-dev-shm", "storage:\n  data:\n    type: emptyDir\n    mountPath: /dev/shm\n",
         "already used by shm", key="storage.data.mountPath", line=4),
    Case("cpu-request-above-limit", "resources:\n  requests:\n    cpu: 16\n",
         "request 16 is more than the limit 8", key="resources.requests.cpu", line=3),
    Case("memory-request-above-limit",
         "resources:\n  limits:\n    memory: 8Gi\n  requests:\n    memory: 9000Mi\n",
         "more than the limit 8Gi", key="resources.requests.memory", line=5),
    Case("upstream-image-without-command", "command: []\n", "have no start command",
         key="command", line=1),
    Case("upstream-image-shorthand-without-command",
         "image: hiyouga/llamafactory:0.9.4\ncommand: []\n", "have no start command",
         key="command", line=2),
    Case("seed-and-new-key-twice", "ingress:\n  enable: true\n  enabled: true\n",
         "given twice", key="ingress.enable", line=2),
    Case("wildcard-domain", "ingress:\n  enabled: true\n  domain: '*.example.com'\n",
         "without a wildcard", key="ingress.domain", line=3),
    Case("request-above-limit-across-units",
         "resources:\n  limits:\n    cpu: 500m\n  requests:\n    cpu: '0.6'\n",
         "request 0.6 is more than the limit 500m", key="resources.requests.cpu", line=5),
    Case("three-volumes-one-mountPath",
         "storage:\n  data:\n    type: emptyDir\n    mountPath: /app/output\n"
         "  hfCache:\n    mountPath: //app/output/\n",
         "already used by storage.data", key="storage.hfCache.mountPath", line=6),
    Case("empty-tag-without-digest", "image:\n  tag: ''\n", "needs image.digest",
         key="image.tag", line=2),
    # Training runs, exports and the API (what LLaMA-Factory itself would miss).
    Case("train-output-on-emptyDir",
         "train:\n  r:\n    model: Qwen/Qwen3-0.6B\n    datasets: [identity]\n",
         "their results would be lost with the pod", key="train", line=1),
    Case("train-unknown-stage", _RUN + "    stage: foo\n", "expected a LLaMA-Factory",
         key="train.r.stage", line=8),
    Case("train-unknown-template", _RUN + "    template: chatglm2\n", "chat template",
         key="train.r.template", line=8),
    Case("train-rank-as-text", _RUN + "    lora:\n      rank: eight\n", "valid integer",
         key="train.r.lora.rank", line=9),
    Case("train-relative-dataset-dir", _RUN + "    datasetDir: data\n", "absolute path",
         key="train.r.datasetDir", line=8),
    Case("train-warmup-ratio-in-extra", _RUN + "    extra:\n      warmup_ratio: 0.1\n",
         "use warmup_steps", key="train.r.extra", line=8),
    Case("train-fp16-in-extra-beside-bf16", _RUN + "    extra:\n      fp16: true\n",
         "written by the chart from precision", key="train.r.extra", line=8),
    Case("train-run-name-too-long",
         _RUN.replace("  r:", "  " + "r" * 31 + ":"), "at most 30 characters",
         key="train." + "r" * 31, line=5),
    Case("train-nodes-without-gpus", _RUN + "    nodes: 2\n    gpus: 0\n",
         "at least one GPU per node", key="train.r.gpus", line=9),
    Case("train-nodes-on-hostPath-output",
         "storage:\n  output:\n    type: hostPath\n    hostPath: /data\n"
         "train:\n  r:\n    model: Qwen/Qwen3-0.6B\n    datasets: [identity]\n    nodes: 2\n",
         "a hostPath folder differs on every node", key="train.r.nodes", line=9),
    Case("train-nodes-on-rwo-output", _RUN + "    nodes: 2\n",
         "give it accessModes [ReadWriteMany]", key="train.r.nodes", line=8),
    Case("train-dataset-dir-and-info",
         _RUN + "    datasetDir: /data\n    datasetInfo:\n      x: {file_name: /data/x.json}\n",
         "not both", key="train.r.datasetDir", line=8),
    Case("export-lora-without-adapter",
         "storage:\n  output:\n    type: pvc\nexport:\n  m:\n    model: Qwen/Qwen3-0.6B\n",
         "exported unchanged", key="export.m.adapter", line=5),
    Case("export-adapter-with-full",
         "storage:\n  output:\n    type: pvc\nexport:\n  m:\n    model: Qwen/Qwen3-0.6B\n"
         "    adapter: /app/output/train/r\n    method: full\n",
         "only for method lora", key="export.m.adapter", line=7),
    Case("train-ppo-without-reward-model", _RUN + "    stage: ppo\n",
         "needs a reward model", key="train.r.stage", line=8),
    Case("api-without-model", "api:\n  enabled: true\n", "needs api.model", key="api.model",
         line=1),
    # --- routing: authentication, TLS, annotations, HTTPRoute -----------------------------
    Case("ingress-without-authentication", "ingress:\n  enabled: true\n  host: a.example.com\n",
         "or ingress.allowAnonymous: true", key="ingress.allowAnonymous", line=1),
    Case("basic-auth-without-nginx", "ingress:\n  auth:\n    basic:\n      secretName: pw\n",
         "set ingress.controller nginx", key="ingress.auth.basic", line=3),
    Case("external-auth-on-traefik",
         "ingress:\n  controller: traefik\n  auth:\n    external:\n"
         "      url: https://a.example.com/oauth2/auth\n",
         "set ingress.controller nginx", key="ingress.auth.external", line=4),
    Case("traefik-middlewares-on-nginx",
         "ingress:\n  controller: nginx\n  auth:\n    traefikMiddlewares: [mw@kubernetescrd]\n",
         "set ingress.controller traefik", key="ingress.auth.traefikMiddlewares", line=4),
    Case("basic-and-external-auth",
         "ingress:\n  controller: nginx\n  auth:\n    basic:\n      secretName: pw\n"
         "    external:\n      url: https://a.example.com/oauth2/auth\n",
         "not both", key="ingress.auth", line=3),
    Case("auth-signin-without-url",
         "ingress:\n  controller: nginx\n  auth:\n    external:\n"
         "      signin: https://a.example.com/oauth2/start\n",
         "need the auth url", key="ingress.auth.external.url", line=4),
    Case("issuer-and-cluster-issuer",
         "ingress:\n  host: a.example.com\n  tls:\n    certManager:\n      issuer: ca\n"
         "      clusterIssuer: letsencrypt\n",
         "issuer or clusterIssuer, not both", key="ingress.tls.certManager", line=4),
    Case("cert-manager-without-host",
         "ingress:\n  tls:\n    certManager:\n      clusterIssuer: letsencrypt\n",
         "TLS needs a host", key="ingress.tls.certManager", line=3),
    Case("annotation-repeats-chart-annotation",
         "ingress:\n  controller: nginx\n  annotations:\n"
         "    nginx.ingress.kubernetes.io/proxy-body-size: 1m\n",
         "is set by the chart (ingress.streaming.maxBodySize)",
         key="ingress.annotations.nginx\\.ingress\\.kubernetes\\.io/proxy-body-size", line=4),
    Case("httproute-without-parent-refs", "httpRoute:\n  enabled: true\n  allowAnonymous: true\n",
         "needs parentRefs", key="httpRoute.parentRefs", line=1),
    Case("httproute-without-authentication",
         "httpRoute:\n  enabled: true\n  parentRefs: [{name: gw}]\n",
         "set httpRoute.allowAnonymous: true", key="httpRoute.allowAnonymous", line=1),
    Case("httproute-path-differs-from-ingress",
         "ingress:\n  enabled: true\n  host: a.example.com\n  allowAnonymous: true\n"
         "  path: /a\nhttpRoute:\n  enabled: true\n  allowAnonymous: true\n"
         "  parentRefs: [{name: gw}]\n  path: /b\n",
         "must use the same path", key="httpRoute.path", line=10),
    Case("api-path-with-trailing-slash",
         "ingress:\n  enabled: true\n  host: a.example.com\n  allowAnonymous: true\n"
         "api:\n  enabled: true\n  model: Qwen/Qwen3-0.6B\n  ingressPath: /llm/\n",
         "without a trailing /", key="api.ingressPath", line=8),
    Case("ingress-body-size-with-unit-word", "ingress:\n  streaming:\n    maxBodySize: 10 GB\n",
         "expected a size such as 10g", key="ingress.streaming.maxBodySize", line=3),
    Case("auth-url-without-scheme",
         "ingress:\n  auth:\n    external:\n      url: sso.example.com/auth\n",
         "expected an http(s):// URL", key="ingress.auth.external.url", line=4),
    Case("env-fastapi-root-path",
         "api:\n  enabled: true\n  model: Qwen/Qwen3-0.6B\nenv:\n  FASTAPI_ROOT_PATH: /x\n",
         "FASTAPI_ROOT_PATH is set by the chart", key="env.FASTAPI_ROOT_PATH", line=5),
    Case("env-shadows-workload-variable", _RUN + "env:\n  NNODES: '2'\n",
         "NNODES is set by the chart", key="env.NNODES", line=9),
    # --- security and network policy ------------------------------------------------
    Case("non-root-mount-below-root",
         "security:\n  nonRoot: true\nstorage:\n  hfCache:\n    mountPath: /root/hf\n",
         "cannot reach '/root/hf' below /root", key="storage.hfCache.mountPath", line=5),
    Case("non-root-and-pod-run-as-user",
         "security:\n  nonRoot: true\nstorage:\n  hfCache:\n"
         "    mountPath: /home/llamafactory/.cache/huggingface\npodSecurityContext:\n"
         "  runAsUser: 0\n",
         "security.nonRoot sets runAsUser", key="podSecurityContext.runAsUser", line=7),
    Case("non-root-user-zero", "security:\n  runAsUser: 0\n",
         "greater than or equal to 1", key="security.runAsUser", line=2),
    Case("network-policy-bad-cidr", "networkPolicy:\n  egressExcept: [10.0.0.0/33]\n",
         "expected an IPv4 CIDR", key="networkPolicy.egressExcept[0]", line=2),
    Case("network-policy-namespace-not-a-name",
         "networkPolicy:\n  ingressNamespaces: [Ingress_Nginx]\n",
         "expected", key="networkPolicy.ingressNamespaces[0]", line=2),
    Case("privileged-without-escalation", "securityContext:\n  privileged: true\n",
         "Kubernetes refuses", key="securityContext.privileged", line=2),
    # Secrets: referenced from Secrets, never written into values.
    Case("env-hf-token-inline", "env:\n  HF_TOKEN: hf_x\n",
         "HF_TOKEN looks like a credential", key="env.HF_TOKEN", line=2),
    Case("env-api-key-suffix-inline", "env:\n  OPENAI_API_KEY: sk-x\n",
         "lmfchart secret create", key="env.OPENAI_API_KEY", line=2),
    Case("env-password-by-set", None, "DB_PASSWORD looks like a credential",
         key="env.DB_PASSWORD", sets=("--set", "env.DB_PASSWORD=x"), where="--set"),
    Case("train-extra-hf-hub-token", _RUN + "    extra:\n      hf_hub_token: hf_x\n",
         "hf_hub_token is a credential", key="train.r.extra.hf_hub_token", line=9),
    Case("export-extra-ms-hub-token", "storage:\n  output:\n    type: pvc\nexport:\n  e:\n"
         "    model: Qwen/Qwen3-0.6B\n    method: full\n    extra:\n      ms_hub_token: x\n",
         "ms_hub_token is a credential", key="export.e.extra.ms_hub_token", line=9),
    Case("api-extra-hub-token", "api:\n  model: Qwen/Qwen3-0.6B\n  extra:\n"
         "    hf_hub_token: hf_x\n", "hf_hub_token is a credential",
         key="api.extra.hf_hub_token", line=4),
    Case("train-wandb-without-key", _RUN + "    reportTo: [tensorboard, wandb]\n",
         "reportTo wandb needs its API key", key="train.r.reportTo", line=8),
    Case("train-swanlab-without-key", _RUN + "    reportTo: [swanlab]\n",
         "secrets.swanlabApiKey.name", key="train.r.reportTo", line=8),
    Case("secret-key-not-a-data-key", "secrets:\n  hfToken:\n    name: hf\n    key: a/b\n",
         "should match pattern", key="secrets.hfToken.key", line=4),
]


def _ids() -> list[str]:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return ids


def _values_arg(case: Case, tmp_path: Path) -> list[str]:
    if case.text is None:
        return []
    if callable(case.text):
        return ["-f", str(case.text(tmp_path))]
    path = tmp_path / "bad.yaml"
    if isinstance(case.text, bytes):
        path.write_bytes(case.text)
    else:
        path.write_text(case.text, encoding="utf-8")
    return ["-f", str(path)]


def _expected_prefix(case: Case, values_arg: list[str]) -> str | None:
    """How the error line must start: `FILE[:LINE]: [KEY: ]`."""
    if case.where is None:
        return None
    place = values_arg[1] if case.where == "file" else case.where
    if case.line is not None:
        place += f":{case.line}"
    return f"{place}: {case.key}: " if case.key else f"{place}: "


def _check_error(case: Case, stderr: str, values_arg: list[str]) -> None:
    assert "Traceback" not in stderr
    assert stderr.startswith("error: "), stderr
    lines = stderr.removeprefix("error: ").splitlines()
    matching = [line for line in lines if case.message in line]
    assert matching, f"no line of {stderr!r} says {case.message!r}"
    prefix = _expected_prefix(case, values_arg)
    if prefix is not None:
        # `FILE: ` (no line known) and `FILE:3: ` differ, so this also checks the line.
        assert any(line.startswith(prefix) for line in matching), (prefix, stderr)


def _no_output(tmp_path: Path, out: Path) -> None:
    assert not out.exists(), "a chart was written for bad input"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(f".{out.name}")]
    assert leftovers == [], f"staging left behind: {leftovers}"


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_render_rejects_bad_input(case: Case, tmp_path: Path) -> None:
    values_arg = _values_arg(case, tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", *values_arg, *case.sets, "-o", str(out)])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    assert result.exit_code == case.exit_code, result.output
    _check_error(case, result.stderr, values_arg)
    assert "wrote chart" not in result.stdout
    _no_output(tmp_path, out)


@pytest.mark.parametrize("case", CASES, ids=_ids())
def test_template_rejects_bad_input_and_prints_nothing(case: Case, tmp_path: Path) -> None:
    values_arg = _values_arg(case, tmp_path)
    result = runner.invoke(app, ["template", *values_arg, *case.sets])
    assert result.exit_code == case.exit_code, result.output
    _check_error(case, result.stderr, values_arg)
    assert result.stdout == ""


def test_catalogue_is_large_enough() -> None:
    assert len(CASES) >= 45


# --- errors in one of several files -----------------------------------------------------------


def test_error_names_the_file_it_is_in_not_the_first_one(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("gpu:\n  count: 1\n")
    bad = tmp_path / "overlay.yaml"
    bad.write_text("# overlay\nimage:\n  tag: '1.0'\n  pullPolicy: Sometimes\n")
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "-f", str(good), "-f", str(bad), "-o", str(out)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {bad}:4: image.pullPolicy: "), result.stderr
    _no_output(tmp_path, out)


def test_set_overriding_a_file_is_blamed_on_set(tmp_path: Path) -> None:
    values = tmp_path / "values.yaml"
    values.write_text("gpu:\n  count: 1\n")
    result = runner.invoke(app, ["template", "-f", str(values), "--set", "gpu.count=-1"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --set: gpu.count: "), result.stderr


def test_stdin_is_named_stdin(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["render", "-f", "-", "-o", str(out)],
                           input="image:\n  tagg: '1.0'\n")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: <stdin>:2: image.tagg: unknown key"), result.stderr
    _no_output(tmp_path, out)


# --- unreadable files, also as root --------------------------------------------------------------

_CAP_DAC_OVERRIDE = 1
_CAP_DAC_READ_SEARCH = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@contextlib.contextmanager
def _file_permissions_enforced() -> Iterator[None]:
    """Make this thread subject to file permissions, even as root (capset(2), Linux)."""
    if os.geteuid() != 0:
        yield
        return
    if not sys.platform.startswith("linux"):
        pytest.skip("root ignores file permissions and capabilities are Linux-only")
    libc = ctypes.CDLL(None, use_errno=True)
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        pytest.skip(f"capget failed: {os.strerror(ctypes.get_errno())}")
    saved = data[0].effective
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(header), data) != 0:
        pytest.skip(f"capset failed: {os.strerror(ctypes.get_errno())}")
    try:
        yield
    finally:
        data[0].effective = saved
        assert libc.capset(ctypes.byref(header), data) == 0, "could not restore capabilities"


def test_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD)
    bad.chmod(0)
    out = tmp_path / "out"
    try:
        with _file_permissions_enforced():
            with pytest.raises(PermissionError):
                bad.open("rb")
            result = runner.invoke(app, ["render", "-f", str(bad), "-o", str(out)])
    finally:
        bad.chmod(0o644)
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {bad}: permission denied: cannot read the file\n"
    _no_output(tmp_path, out)


# --- values that look dangerous but are plain data, carried safely ----------------------------


def test_injection_in_free_text_stays_data(tmp_path: Path) -> None:
    """Free-text values may hold newlines and braces; they must not become objects."""
    values = tmp_path / "values.yaml"
    values.write_text(
        "env:\n"
        '  NOTE: "x\\n---\\napiVersion: v1\\nkind: Secret\\nmetadata: {name: evil}\\n"\n'
        "podAnnotations:\n"
        "  note: '{{ .Release.Name }} {{ include \"x\" . }}'\n"
    )
    result = runner.invoke(app, ["template", "-f", str(values)])
    assert result.exit_code == 0, result.output
    plain = runner.invoke(app, ["template"])
    objects = list(yaml.safe_load_all(result.stdout))
    assert [o["kind"] for o in objects] == [o["kind"] for o in yaml.safe_load_all(plain.stdout)]
    pod = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]
    assert pod["metadata"]["annotations"]["note"] == '{{ .Release.Name }} {{ include "x" . }}'
    env = {e["name"]: e.get("value") for e in pod["spec"]["containers"][0]["env"]}
    assert env["NOTE"] == "x\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: evil}\n"

    out = tmp_path / "chart"
    rendered = runner.invoke(app, ["render", "-f", str(values), "-o", str(out)])
    assert rendered.exit_code == 0, rendered.output
    chart_values = yaml.safe_load((out / "values.yaml").read_text())
    assert chart_values["env"]["NOTE"] == env["NOTE"]
    assert chart_values["podAnnotations"]["note"] == pod["metadata"]["annotations"]["note"]


# --- template's own arguments ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Bad_Release"], "release name 'Bad_Release': expected a DNS-1123 label"),
        (["lmf.prod"], "release name 'lmf.prod'"),
        (["a" * 54], "at most 53 characters"),
        (["lmf", "-n", "Team A"], "namespace 'Team A': expected a DNS-1123 label"),
        (["lmf", "-n", "ns_1"], "namespace 'ns_1'"),
    ],
    ids=["release-underscore", "release-dot", "release-too-long", "namespace-space",
         "namespace-underscore"],
)
def test_template_rejects_bad_release_or_namespace(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["template", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert result.stdout == ""


# --- output problems ----------------------------------------------------------------------------


def test_non_empty_output_dir_without_force_is_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["render", "-o", str(out)])
    assert result.exit_code == 3
    assert result.stderr == (
        f"error: {out}: directory is not empty (use --force to replace it)\n"
    )
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_bad_values_never_touch_an_existing_chart_even_with_force(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["render", "-o", str(out)]).exit_code == 0
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["render", "--set", "gpu.count=-1", "-o", str(out), "--force"])
    assert result.exit_code == 1
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_is_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a chart")
    result = runner.invoke(app, ["render", "-o", str(out), "--force"])
    assert result.exit_code == 3
    assert result.stderr == f"error: {out}: exists and is not a directory\n"
    assert out.read_text() == "not a chart"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_below_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = tmp_path / "file" / "chart"
    result = runner.invoke(app, ["render", "-o", str(out)])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: {out}: cannot create the chart here"), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# --- validate: many files, three formats ---------------------------------------------------------


@pytest.fixture
def mixed_files(tmp_path: Path) -> dict[str, str]:
    misspelt = tmp_path / "misspelt.yaml"
    misspelt.write_text("image:\n  tag: '1.0'\n  tagg: '1.1'\ningres:\n  enable: true\n")
    duplicate = tmp_path / "duplicate.yaml"
    duplicate.write_text("env:\n  A: '1'\n  A: '2'\n")
    placeholder = tmp_path / "seed, copy.yaml"
    placeholder.write_text(
        f"ingress:\n  enable: true\n  ingressDomain: {SEED_PLACEHOLDER}\n"
    )
    return {
        "good": str(example_values("gpu-pvc")),
        "misspelt": str(misspelt),
        "duplicate": str(duplicate),
        "placeholder": str(placeholder),
        "missing": str(tmp_path / "missing.yaml"),
    }


def test_validate_text_reports_good_and_bad(mixed_files: dict[str, str]) -> None:
    result = runner.invoke(app, ["validate", *mixed_files.values()])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"ok    {mixed_files['good']}" in lines
    for name in ("misspelt", "duplicate", "placeholder", "missing"):
        assert f"FAIL  {mixed_files[name]}" in lines
    misspelt = mixed_files["misspelt"]
    assert f"  {misspelt}:3: image.tagg: unknown key (misspelt?)" in lines
    assert f"  {misspelt}:4: ingres: unknown key (misspelt?)" in lines
    assert (f"  {mixed_files['duplicate']}:3: env.A: duplicate key 'A' "
            "(first defined on line 2)") in lines
    assert any(line.startswith(f"  {mixed_files['placeholder']}:3: ingress.ingressDomain: ")
               and "replace it" in line for line in lines)
    assert f"  {mixed_files['missing']}: file not found" in lines
    assert lines[-1] == "1 valid, 4 invalid"


def test_validate_json(mixed_files: dict[str, str]) -> None:
    result = runner.invoke(app, ["validate", "--format", "json", *mixed_files.values()])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["valid"] is False
    files = {entry["file"]: entry for entry in report["files"]}
    assert list(files) == list(mixed_files.values())
    assert files[mixed_files["good"]] == {
        "file": mixed_files["good"], "valid": True, "errors": [], "warnings": [], "notes": []
    }
    errors = files[mixed_files["misspelt"]]["errors"]
    assert {(e["file"], e["line"], e["key"]) for e in errors} == {
        (mixed_files["misspelt"], 3, "image.tagg"), (mixed_files["misspelt"], 4, "ingres")
    }
    assert files[mixed_files["duplicate"]]["errors"] == [{
        "file": mixed_files["duplicate"], "line": 3, "key": "env.A",
        "message": "duplicate key 'A' (first defined on line 2)",
    }]
    [placeholder] = files[mixed_files["placeholder"]]["errors"]
    assert (placeholder["line"], placeholder["key"]) == (3, "ingress.ingressDomain")
    assert "replace it" in placeholder["message"]
    assert files[mixed_files["missing"]]["errors"] == [{
        "file": mixed_files["missing"], "line": None, "key": None, "message": "file not found",
    }]


_ANNOTATION = re.compile(
    r"^::error file=(?P<file>[^,:]+)(?:,line=(?P<line>\d+))?(?:,title=(?P<title>[^,:]+))?"
    r"::(?P<message>.+)$"
)


def _unescape(text: str) -> str:
    return (text.replace("%3A", ":").replace("%2C", ",").replace("%0A", "\n")
            .replace("%0D", "\r").replace("%25", "%"))


def test_validate_github_annotations(mixed_files: dict[str, str]) -> None:
    result = runner.invoke(app, ["validate", "--format", "github", *mixed_files.values()])
    assert result.exit_code == 1
    *annotations, summary = result.stdout.splitlines()
    assert summary == "1 valid, 4 invalid"
    found = []
    for line in annotations:
        match = _ANNOTATION.match(line)
        assert match, f"not a GitHub annotation: {line!r}"
        found.append((_unescape(match["file"]), match["line"] and int(match["line"]),
                      match["title"] and _unescape(match["title"]), match["message"]))
    assert {(f, line, t) for f, line, t, _ in found} == {
        (mixed_files["misspelt"], 3, "image.tagg"),
        (mixed_files["misspelt"], 4, "ingres"),
        (mixed_files["duplicate"], 3, "env.A"),
        (mixed_files["placeholder"], 3, "ingress.ingressDomain"),
        (mixed_files["missing"], None, None),
    }
    assert "%2C" in result.stdout, "a comma in a file name must be escaped"
    assert all(mixed_files["good"] != f for f, *_ in found)


@pytest.mark.parametrize("version", ["1.2", "2.0", "latest", "V1.30"])
def test_validate_unknown_kube_version(version: str) -> None:
    result = runner.invoke(
        app, ["validate", "--kube-version", version, str(example_values("seed"))]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: --kube-version {version!r}: not one of the known")
    assert result.stdout == ""


def test_validate_unknown_format_is_a_usage_error() -> None:
    result = runner.invoke(app, ["validate", "--format", "xml", str(example_values("seed"))])
    assert result.exit_code == 2
    assert "xml" in result.stderr and result.stdout == ""
