"""One operation at a time per release, and recovery from an interrupted one, on a real API
server: two installs racing, a stale `pending-install`, and the API server lost mid-install.

Each test asserts the cluster's state (records, objects, the Lease) read with kubectl or
helm, not only what lmfchart prints.
"""

from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import lmfchart as lmfchart_package
from lmfchart.base.errors import ClusterError
from lmfchart.cli import app
from lmfchart.inputs.options import ValueOptions
from lmfchart.kube.connect import connect
from lmfchart.release.record import record_from_secret, record_to_secret
from lmfchart.usecases.install import InstallResult, install
from lmfchart.usecases.lock import ReleaseBusyError, holding
from lmfchart.usecases.recovery import RECOVERED
from tests.conftest import example_values

from .cluster import Cluster, grant, service_account_kubeconfig, wait_for
from .commands import get, helm_history, lmfchart

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

SEED = str(example_values("seed"))
LEASE = "lease/lmfchart-release-lmf"
OBJECTS = ("service/lmf-llama-factory", "deployment/lmf-llama-factory",
           "ingress/lmf-llama-factory")


def records(cluster: Cluster, namespace: str) -> dict[int, tuple[str, str]]:
    secrets = get(cluster, "secrets", namespace)["items"]
    found = [record_from_secret(s) for s in secrets if s["type"] == "helm.sh/release.v1"]
    return {r.version: (r.status, r.description) for r in found}


def lease_exists(cluster: Cluster, namespace: str) -> bool:
    done = cluster.kubectl("get", LEASE, "-n", namespace, check=False)
    assert done.returncode == 0 or "NotFound" in done.stderr, done.stderr
    return done.returncode == 0


def test_two_concurrent_installs_one_proceeds_the_other_is_refused_naming_it(
    cluster: Cluster, namespace: str
) -> None:
    start = threading.Barrier(2)
    loser_done = threading.Event()
    let_go = threading.Event()
    winner_applying = threading.Event()
    outcomes: dict[str, Any] = {}

    def operate(name: str) -> None:
        kube = connect(kubeconfig=str(cluster.kubeconfig), context=None)

        def hold_until_the_other_is_done(_line: str) -> None:
            # The winner stays mid-install (Lease held, record pending) until the loser and
            # a third install have tried, so they really overlap.
            winner_applying.set()
            assert let_go.wait(120)

        start.wait()
        try:
            with holding(cluster=kube, release_name="lmf", namespace=namespace) as lease:
                assert lease is not None
                outcomes[name] = ("holder", lease.holder)
                outcomes[name + " result"] = install(
                    cluster=kube, release_name="lmf", namespace=namespace,
                    values=ValueOptions(files=(SEED,)), progress=hold_until_the_other_is_done)
        except ReleaseBusyError as e:
            outcomes[name] = ("refused", e.message)
            loser_done.set()

    threads = [threading.Thread(target=operate, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    try:
        assert winner_applying.wait(120) and loser_done.wait(120), outcomes
        # A third install from the command line meanwhile: refused before anything is applied.
        during = records(cluster, namespace)
        cli = lmfchart(cluster, "install", "-n", namespace, "-f", SEED,
                       "--set-string", "image.tag=9")
        assert records(cluster, namespace) == during == {1: ("pending-install",
                                                             "Initial install underway")}
    finally:
        let_go.set()
    for thread in threads:
        thread.join(180)
    winner, loser = sorted(("a", "b"), key=lambda n: outcomes[n][0])
    assert outcomes[winner][0] == "holder" and outcomes[loser][0] == "refused", outcomes
    holder = outcomes[winner][1]
    assert f"holder {holder}" in outcomes[loser][1]
    assert cli.exit_code == 5, cli.output
    assert f"holder {holder}" in cli.output and "is busy" in cli.output
    assert "expires" in cli.output
    result: InstallResult = outcomes[winner + " result"]
    assert result.outcome == "installed"
    assert records(cluster, namespace) == {1: ("deployed", "Install complete")}
    image = get(cluster, "deployment/lmf-llama-factory", namespace)[
        "spec"]["template"]["spec"]["containers"][0]["image"]
    assert not image.endswith(":9")
    assert not lease_exists(cluster, namespace)


def test_a_stale_pending_install_is_recovered_and_the_rerun_converges(
    cluster: Cluster, namespace: str, helm4: Path
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    # As a process killed after writing its record leaves it: pending-install, no Lease.
    secret = get(cluster, "secret/sh.helm.release.v1.lmf.v1", namespace)
    record = record_from_secret(secret)
    record.status = "pending-install"
    record.description = "Initial install underway"
    cluster.kubectl("replace", "-f", "-",
                    stdin=json.dumps(record_to_secret(record, created=True)))
    assert [r[:2] for r in helm_history(helm4, cluster, namespace)] == [(1, "pending-install")]

    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert done.exit_code == 0, done.output
    assert "revision 1 is pending-install and no live operation holds the release" in done.output
    assert records(cluster, namespace) == {1: ("failed", RECOVERED),
                                           2: ("deployed", "Install complete")}
    assert helm_history(helm4, cluster, namespace) == [
        (1, "failed", RECOVERED), (2, "deployed", "Install complete")]
    assert not lease_exists(cluster, namespace)
    # Converged: a re-run changes nothing.
    again = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert again.exit_code == 0 and "no changes" in again.output, again.output


def test_an_expired_lease_of_a_dead_process_is_taken_over(
    cluster: Cluster, namespace: str
) -> None:
    assert lmfchart(cluster, "install", "-n", namespace, "-f", SEED).exit_code == 0
    dead = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "lmfchart-release-lmf", "namespace": namespace},
            "spec": {"holderIdentity": "gone-host/1/dead", "leaseDurationSeconds": 60,
                     "acquireTime": "2026-01-01T00:00:00.000000Z",
                     "renewTime": "2026-01-01T00:00:00.000000Z"}}
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(dead))
    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED, "--set", "image.tag=0.9.5")
    assert done.exit_code == 0, done.output
    assert records(cluster, namespace)[2] == ("deployed", "Upgrade complete")
    assert not lease_exists(cluster, namespace)


def test_an_install_killed_while_waiting_blocks_until_its_lease_expires_then_is_recovered(
    cluster: Cluster, namespace: str
) -> None:
    # No kubelet runs, so --wait never ends: the process holds the Lease, renewing it, with
    # revision 1 pending-install, when it is killed (no finally runs after SIGKILL).
    waiting = subprocess.Popen(
        [sys.executable, "-m", "lmfchart", "install", "-n", namespace, "-f", SEED, "--wait",
         "--timeout", "5m", "--kubeconfig", str(cluster.kubeconfig)],
        env={**cluster.env(), "PYTHONPATH": str(Path(lmfchart_package.__file__).parents[1])},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("the install to write its record and wait", lambda: records(
            cluster, namespace) == {1: ("pending-install", "Initial install underway")}
            and lease_exists(cluster, namespace), timeout=120)
    finally:
        waiting.kill()
        waiting.wait(30)

    busy = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert busy.exit_code == 5, busy.output
    assert f"/{waiting.pid}/" in busy.output and "is busy" in busy.output
    assert records(cluster, namespace) == {1: ("pending-install", "Initial install underway")}

    # A minute later nobody has renewed it: the Lease has expired.
    spec = get(cluster, LEASE, namespace)["spec"]
    stale = datetime.fromisoformat(spec["renewTime"].replace("Z", "+00:00")) - timedelta(
        seconds=spec["leaseDurationSeconds"] + 1)
    cluster.kubectl("patch", LEASE, "-n", namespace, "--type=merge", "-p", json.dumps(
        {"spec": {"renewTime": stale.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}))
    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert done.exit_code == 0, done.output
    assert records(cluster, namespace) == {1: ("failed", RECOVERED),
                                           2: ("deployed", "Install complete")}
    assert not lease_exists(cluster, namespace)


class CuttableProxy:
    """A TCP proxy to the API server that the test can cut, as a server going down would."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.cut_off = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self) -> None:
        self.cut_off.set()
        self.listener.close()
        for sock in list(self.sockets):
            sock.close()

    def _accept(self) -> None:
        while not self.cut_off.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.cut_off.is_set():
                ready, _, _ = select.select([a, b], [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            a.close()
            b.close()


@pytest.fixture
def proxy(cluster: Cluster) -> Iterator[CuttableProxy]:
    host, port = cluster.server.removeprefix("https://").rsplit(":", 1)
    cut = CuttableProxy((host, int(port)))
    try:
        yield cut
    finally:
        cut.cut()


def test_the_api_server_lost_mid_install_then_the_rerun_converges(
    cluster: Cluster, namespace: str, proxy: CuttableProxy, tmp_path: Path, helm4: Path
) -> None:
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in config["clusters"]:
        entry["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    proxied = tmp_path / "kubeconfig"
    proxied.write_text(yaml.safe_dump(config))
    kube = connect(kubeconfig=str(proxied), context=None)
    applied: list[str] = []

    def cut_after_the_first_object(line: str) -> None:
        applied.append(line)
        if len(applied) == 1:
            proxy.cut()

    with (pytest.raises(ClusterError, match="cannot reach the API server"),
          holding(cluster=kube, release_name="lmf", namespace=namespace, seconds=3)):
        install(cluster=kube, release_name="lmf", namespace=namespace,
                values=ValueOptions(files=(SEED,)), progress=cut_after_the_first_object)
    # Left behind: the record pending, one object applied, the Lease until it expires.
    assert records(cluster, namespace) == {1: ("pending-install", "Initial install underway")}
    present = [o for o in OBJECTS
               if cluster.kubectl("get", o, "-n", namespace, check=False).returncode == 0]
    assert present == [OBJECTS[0]]
    assert lease_exists(cluster, namespace)
    wait_for("the lost operation's Lease to expire", lambda: _expired(cluster, namespace),
             timeout=30, interval=1)

    # The server is back (the direct address): the re-run recovers and converges.
    done = lmfchart(cluster, "install", "-n", namespace, "-f", SEED)
    assert done.exit_code == 0, done.output
    assert "revision 1 is pending-install" in done.output and "marked it failed" in done.output
    assert records(cluster, namespace) == {1: ("failed", RECOVERED),
                                           2: ("deployed", "Install complete")}
    for obj in OBJECTS:
        annotations = get(cluster, obj, namespace)["metadata"]["annotations"]
        assert annotations["meta.helm.sh/release-name"] == "lmf", obj
    assert [r[:2] for r in helm_history(helm4, cluster, namespace)] == [
        (1, "failed"), (2, "deployed")]
    assert not lease_exists(cluster, namespace)


def _expired(cluster: Cluster, namespace: str) -> bool:
    spec = get(cluster, LEASE, namespace)["spec"]
    renewed = datetime.fromisoformat(spec["renewTime"].replace("Z", "+00:00"))
    return datetime.now(UTC) > renewed + timedelta(seconds=spec["leaseDurationSeconds"])


def test_a_credential_without_lease_rights_stops_before_anything_is_applied(
    cluster: Cluster, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything_but_leases = {"apiGroups": ["", "apps", "networking.k8s.io"],
                             "resources": ["*"], "verbs": ["*"]}
    leases = {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
              "verbs": ["get", "create", "update", "delete"]}
    deployer = service_account_kubeconfig(cluster, namespace, tmp_path / "deployer.yaml")
    grant(cluster, namespace, [everything_but_leases])
    monkeypatch.setenv("LMFCHART_CACHE", str(tmp_path / "cache"))

    def install_as_deployer() -> Any:
        result = CliRunner().invoke(app, ["install", "-n", namespace, "-f", SEED,
                                          "--kubeconfig", str(deployer)])
        assert "Traceback" not in result.output, result.output
        return result

    refused = install_as_deployer()
    assert refused.exit_code == 5, refused.output
    assert (f'"system:serviceaccount:{namespace}:deployer" cannot create resource "leases" in '
            'API group "coordination.k8s.io"') in refused.output
    assert ("its credential needs get, create, update and delete on "
            f"leases.coordination.k8s.io in namespace {namespace}") in refused.output
    assert records(cluster, namespace) == {}
    assert cluster.kubectl("get", OBJECTS[1], "-n", namespace, check=False).returncode != 0

    grant(cluster, namespace, [everything_but_leases, leases])
    wait_for("the Role's new rule to be in force", lambda: cluster.kubectl(
        "auth", "can-i", "create", "leases.coordination.k8s.io", "-n", namespace,
        f"--as=system:serviceaccount:{namespace}:deployer", check=False).stdout.strip() == "yes")
    done = install_as_deployer()
    assert done.exit_code == 0, done.output
    assert records(cluster, namespace) == {1: ("deployed", "Install complete")}
    assert not lease_exists(cluster, namespace)
