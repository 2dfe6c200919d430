"""`lmfchart secret create` with the in-memory cluster: what is stored, what is printed
(never a value), and each refusal with its exit code (against a real API server:
tests/e2e/test_secrets.py)."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from lmfchart import cli
from tests.support.fakecluster import FakeCluster

runner = CliRunner()


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch) -> FakeCluster:
    fake = FakeCluster(("llm",))
    monkeypatch.setattr(cli, "_connect", lambda kubeconfig, context: fake)
    return fake


def run(*args: str, stdin: bytes | None = None) -> Result:
    return runner.invoke(cli.app, ["secret", "create", *args], input=stdin)


def stored(cluster: FakeCluster, name: str) -> dict[str, bytes]:
    secret = cluster.secrets[("llm", name)]
    assert secret["type"] == "Opaque"
    return {key: base64.b64decode(value) for key, value in secret["data"].items()}


def test_from_file_and_stdin_store_the_bytes_and_print_only_names_and_sizes(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    token, key = secrets.token_hex(16), secrets.token_bytes(40)
    (tmp_path / "token").write_text(token)
    (tmp_path / "binary").write_bytes(key)
    result = run("tokens", "-n", "llm", "--from-file", f"HF_TOKEN={tmp_path / 'token'}",
                 "--from-file", f"blob={tmp_path / 'binary'}", "--from-stdin", "API_KEY",
                 stdin=f"{token}-api\n".encode())
    assert result.exit_code == 0, result.output
    assert stored(cluster, "tokens") == {"HF_TOKEN": token.encode(), "blob": key,
                                         "API_KEY": f"{token}-api".encode()}
    assert result.stdout == ("created Secret llm/tokens (Opaque): HF_TOKEN (32 bytes), "
                             "blob (40 bytes), API_KEY (36 bytes)\n")
    assert token not in result.output


def test_an_existing_secret_is_kept_without_force_and_replaced_with_it(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    (tmp_path / "old").write_text("old-value")
    (tmp_path / "new").write_text("new-value")
    assert run("hf", "-n", "llm", "--from-file", f"HF_TOKEN={tmp_path / 'old'}").exit_code == 0
    cluster.secrets[("llm", "hf")]["metadata"]["labels"] = {"team": "ml"}

    refused = run("hf", "-n", "llm", "--from-file", f"HF_TOKEN={tmp_path / 'new'}")
    assert refused.exit_code == 5
    assert "Secret llm/hf exists already; nothing was changed (--force" in refused.stderr
    assert stored(cluster, "hf") == {"HF_TOKEN": b"old-value"}

    replaced = run("hf", "-n", "llm", "--force", "--from-file", f"TOKEN={tmp_path / 'new'}")
    assert replaced.exit_code == 0, replaced.output
    assert replaced.stdout.startswith("replaced Secret llm/hf (Opaque): TOKEN (9 bytes)")
    assert stored(cluster, "hf") == {"TOKEN": b"new-value"}
    assert cluster.secrets[("llm", "hf")]["metadata"]["labels"] == {"team": "ml"}


def test_force_never_replaces_a_secret_that_is_not_opaque(
    cluster: FakeCluster, tmp_path: Path
) -> None:
    record = {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
              "metadata": {"name": "sh.helm.release.v1.lmf.v1", "namespace": "llm"},
              "data": {"release": "eA=="}}
    cluster.create_secret(record)
    (tmp_path / "t").write_text("x")
    result = run("sh.helm.release.v1.lmf.v1", "-n", "llm", "--force",
                 "--from-file", f"release={tmp_path / 't'}")
    assert result.exit_code == 5
    assert "is of type helm.sh/release.v1, not Opaque" in result.stderr
    assert cluster.secrets[("llm", "sh.helm.release.v1.lmf.v1")]["data"] == {"release": "eA=="}


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        ((), None, (2, "give the Secret's data with --from-file KEY=PATH or --from-stdin KEY")),
        (("--from-file", "HF_TOKEN"), None, (2, "--from-file 'HF_TOKEN': expected KEY=PATH")),
        (("--from-file", "a/b=x"), None, (2, "key expected a Secret key of letters")),
        (("--from-stdin", "K", "--from-file", "K=FILE"), b"v", (2, "key 'K' is given twice")),
        (("--from-file", "K=MISSING"), None,
         (1, "MISSING: cannot read the file for key K: No such file or directory")),
        (("--from-file", "K=EMPTY"), None, (1, "EMPTY: is empty")),
        (("--from-stdin", "K"), b"\n", (1, "standard input: is empty")),
    ],
)
def test_bad_input_is_refused_before_any_request(
    cluster: FakeCluster, tmp_path: Path, args: tuple[str, ...], stdin: bytes | None,
    expected: tuple[int, str],
) -> None:
    code, message = expected
    (tmp_path / "FILE").write_text("v")
    (tmp_path / "EMPTY").write_text("")
    args = tuple(a.replace("FILE", str(tmp_path / "FILE")).replace(
        "MISSING", str(tmp_path / "MISSING")).replace("EMPTY", str(tmp_path / "EMPTY"))
        for a in args)
    result = run("s", "-n", "llm", *args, stdin=stdin)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert cluster.requests == []


@pytest.mark.parametrize(("name", "namespace"), [("Bad_Name", "llm"), ("ok", "Bad.NS")])
def test_bad_names_are_usage_errors(cluster: FakeCluster, tmp_path: Path, name: str,
                                    namespace: str) -> None:
    (tmp_path / "t").write_text("x")
    result = run(name, "-n", namespace, "--from-file", f"K={tmp_path / 't'}")
    assert result.exit_code == 2
    assert "expected a DNS-1123" in result.stderr
    assert cluster.requests == []


def test_there_is_no_from_literal(cluster: FakeCluster) -> None:
    result = run("s", "--from-literal", "K=v")
    assert result.exit_code == 2
    assert cluster.requests == []
    help_text = runner.invoke(cli.app, ["secret", "create", "--help"]).stdout
    assert "no --from-literal on purpose" in help_text
