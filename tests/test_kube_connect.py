"""`lmfchart.kube.connect` finds the cluster the way kubectl does; no server is contacted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from lmfchart.base.errors import UsageError
from lmfchart.kube import connect as connecting
from lmfchart.kube.connect import connect


def _write(path: Path, *, servers: dict[str, str], current: str | None = None,
           extra: dict[str, Any] | None = None) -> Path:
    """A kubeconfig with one context (cluster and token user alike) per entry of SERVERS."""
    config: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": n, "cluster": {"server": s}} for n, s in servers.items()],
        "users": [{"name": n, "user": {"token": f"token-{n}"}} for n in servers],
        "contexts": [{"name": n, "context": {"cluster": n, "user": n}} for n in servers],
        **(extra or {}),
    }
    if current is not None:
        config["current-context"] = current
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home folder, no $KUBECONFIG, not inside a Pod."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(connecting, "SERVICE_ACCOUNT_DIR", tmp_path / "no-service-account")
    return home


def _server(*, kubeconfig: str | None = None, context: str | None = None) -> str:
    return connect(kubeconfig=kubeconfig, context=context).server


def test_the_default_file_is_used_last(home: Path) -> None:
    _write(home / ".kube" / "config", servers={"home": "https://home:6443"}, current="home")
    assert _server() == "https://home:6443"


def test_kubeconfig_variable_wins_over_the_default_file(home: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _write(home / ".kube" / "config", servers={"home": "https://home:6443"}, current="home")
    listed = _write(tmp_path / "env.yaml", servers={"env": "https://env:6443"}, current="env")
    monkeypatch.setenv("KUBECONFIG", str(listed))
    assert _server() == "https://env:6443"


def test_the_flag_wins_over_everything(home: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _write(home / ".kube" / "config", servers={"home": "https://home:6443"}, current="home")
    monkeypatch.setenv("KUBECONFIG", str(
        _write(tmp_path / "env.yaml", servers={"env": "https://env:6443"}, current="env")))
    flag = _write(tmp_path / "flag.yaml", servers={"flag": "https://flag:6443"}, current="flag")
    assert _server(kubeconfig=str(flag)) == "https://flag:6443"


def test_kubeconfig_variable_files_are_merged_and_missing_ones_skipped(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first file only says which context is current; the second defines it.
    first = _write(tmp_path / "first.yaml", servers={}, current="second")
    second = _write(tmp_path / "second.yaml", servers={"second": "https://second:6443",
                                                        "other": "https://other:6443"})
    missing = tmp_path / "missing.yaml"
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, (first, missing, second))))
    assert _server() == "https://second:6443"
    assert _server(context="other") == "https://other:6443"


def test_the_first_current_context_wins_like_kubectl(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _write(tmp_path / "first.yaml", servers={"a": "https://a:6443"}, current="a")
    second = _write(tmp_path / "second.yaml", servers={"b": "https://b:6443"}, current="b")
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, (first, second))))
    assert _server() == "https://a:6443"


def test_kube_context_picks_a_context(home: Path) -> None:
    _write(home / ".kube" / "config", current="a",
           servers={"a": "https://a:6443", "b": "https://b:6443"})
    assert _server() == "https://a:6443"
    assert _server(context="b") == "https://b:6443"


def test_an_unknown_context_lists_the_known_ones(home: Path) -> None:
    config = _write(home / ".kube" / "config", current="a",
                    servers={"a": "https://a:6443", "b": "https://b:6443"})
    with pytest.raises(UsageError) as raised:
        connect(kubeconfig=None, context="prod")
    assert str(raised.value) == (f"--kube-context prod: no such context in the default "
                                 f"{config} (contexts: a, b)")
    assert raised.value.exit_code == 2


def test_no_current_context_asks_for_one(home: Path) -> None:
    _write(home / ".kube" / "config", servers={"a": "https://a:6443"})
    with pytest.raises(UsageError, match=r"sets no current-context: pass --kube-context "
                                          r"\(contexts: a\)"):
        connect(kubeconfig=None, context=None)


def test_a_missing_kubeconfig_flag_file(home: Path, tmp_path: Path) -> None:
    _write(home / ".kube" / "config", servers={"home": "https://home:6443"}, current="home")
    absent = tmp_path / "absent.yaml"
    with pytest.raises(UsageError, match=f"^--kubeconfig {absent}: no such file$"):
        connect(kubeconfig=str(absent), context=None)


def test_an_unreadable_kubeconfig_names_the_file(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("clusters: [unclosed\n")
    with pytest.raises(UsageError, match=f"cannot read kubeconfig \\(--kubeconfig {broken}\\)"):
        connect(kubeconfig=str(broken), context=None)


def test_a_context_naming_a_missing_cluster(home: Path, tmp_path: Path) -> None:
    config = _write(tmp_path / "c.yaml", servers={}, current="lost", extra={
        "contexts": [{"name": "lost", "context": {"cluster": "gone", "user": "gone"}}]})
    with pytest.raises(UsageError, match=f"^kubeconfig \\(--kubeconfig {config}\\), "
                                         f"context lost: .*gone"):
        connect(kubeconfig=str(config), context=None)


def test_in_cluster_config_when_no_file_exists(home: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    account = tmp_path / "serviceaccount"
    account.mkdir()
    (account / "token").write_text("pod-token")
    (account / "ca.crt").write_text("not checked before the first request\n")
    monkeypatch.setattr(connecting, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")

    adapter = connect(kubeconfig=None, context=None)

    assert adapter.server == "https://10.96.0.1:443"
    assert adapter.api_client.configuration.api_key["BearerToken"].lower() == "bearer pod-token"


def test_a_kube_context_needs_a_kubeconfig(home: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    with pytest.raises(UsageError, match=r"^--kube-context a: no kubeconfig to pick it from "
                                         r"\(tried the default .*/\.kube/config\)$"):
        connect(kubeconfig=None, context="a")


def test_nothing_configured_says_what_was_tried(home: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(UsageError) as raised:
        connect(kubeconfig=None, context=None)
    assert str(raised.value) == (
        f"no cluster configured: tried $KUBECONFIG {tmp_path / 'nowhere.yaml'} (not found) "
        "and the in-cluster service account ($KUBERNETES_SERVICE_HOST is not set); pass "
        "--kubeconfig or set $KUBECONFIG")
