"""Start, find and stop one control plane (etcd, kube-apiserver, kube-controller-manager).

Everything lives in a state folder: certificates (pki/), etcd's data, logs, kubeconfigs and
`state.json`, which records every process started as (pid, start time, executable), so that
`down` stops exactly those processes, by process id, and never a stranger that reused a pid.
The processes run in sessions of their own and outlive `up`; an optional watchdog stops
them when an owner process (a pytest run) goes away without calling `down`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import ssl
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import pki as pki_module
from .build import file_lock, log
from .config import ETCD_VERSION, KUBERNETES_VERSION, TestenvError, binary_path

STATE_FILE = "state.json"
KUBECONFIG = "kubeconfig"
# Everything `up` creates inside the state folder, and so everything `down` removes.
OWNED_ENTRIES = (STATE_FILE, KUBECONFIG, "controller-manager.kubeconfig", "pki", "etcd-data",
                 "logs", "apiserver-certs", "audit-policy.yaml")
# Every request once (when its response is complete), without bodies: tests and
# benchmarks count the requests a client makes from logs/audit.log.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
  - level: Metadata
"""
START_ATTEMPTS = 3
ETCD_TIMEOUT = 60.0
APISERVER_TIMEOUT = 180.0
CONTROLLER_MANAGER_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0


@dataclass(frozen=True)
class ProcessRecord:
    """A process we started, identified beyond its pid by its start time (in clock ticks)."""

    name: str
    pid: int
    start_time: int
    executable: str


@dataclass
class State:
    state_dir: str
    server: str
    kubeconfig: str
    etcd: str
    kubernetes_version: str = KUBERNETES_VERSION
    etcd_version: str = ETCD_VERSION
    processes: list[ProcessRecord] = field(default_factory=list)

    def save(self) -> None:
        path = Path(self.state_dir) / STATE_FILE
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        scratch.replace(path)

    @classmethod
    def load(cls, state_dir: Path) -> State | None:
        path = state_dir / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise TestenvError(f"unreadable {path}: {error}") from error
        raw["processes"] = [ProcessRecord(**p) for p in raw.get("processes", [])]
        return cls(**raw)


def state_lock(state_dir: Path) -> contextlib.AbstractContextManager[None]:
    """Serialize `up`, `down` and the watchdog on one state folder across processes."""
    return file_lock(state_dir / ".lock")


# --- processes ---------------------------------------------------------------------------

def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time) of a process, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def is_running(record: ProcessRecord) -> bool:
    stat = _stat(record.pid)
    return stat is not None and stat[0] not in ("Z", "X") and stat[1] == record.start_time


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (else init does)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def spawn(name: str, argv: list[str], logfile: Path,
          env: dict[str, str] | None = None) -> ProcessRecord:
    """Start ARGV in a new session, output to LOGFILE, without a pipe or handle left open."""
    logfile.parent.mkdir(parents=True, exist_ok=True)
    pid = os.posix_spawn(
        argv[0],
        argv,
        env if env is not None else dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, str(logfile), os.O_WRONLY | os.O_CREAT | os.O_APPEND,
             0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    stat = _stat(pid)
    if stat is None:
        _reap(pid)
        raise TestenvError(f"{name} exited at once; see {logfile}")
    return ProcessRecord(name=name, pid=pid, start_time=stat[1], executable=argv[0])


def stop(record: ProcessRecord, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL after TIMEOUT, one process we started, by its id."""
    if not is_running(record):
        _reap(record.pid)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(record.pid)
        if not is_running(record):
            return
        time.sleep(0.1)
    log(f"{record.name} (pid {record.pid}) ignored SIGTERM for {timeout:.0f}s; killing it")
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and is_running(record):
        _reap(record.pid)
        time.sleep(0.1)


def _log_tail(path: Path, lines: int = 25) -> str:
    try:
        return "".join(path.read_text(encoding="utf-8", errors="replace")
                       .splitlines(keepends=True)[-lines:])
    except FileNotFoundError:
        return "(no log)"


# --- readiness ---------------------------------------------------------------------------

def free_ports(count: int) -> list[int]:
    """COUNT distinct free TCP ports on 127.0.0.1 (held together so they differ)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _admin_ssl_context(pki: pki_module.Pki) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.load_cert_chain(str(pki.client_cert("admin")), str(pki.client_key("admin")))
    return context


def _http_get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as response:
            return int(response.status), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        return 0, str(error)


def _wait_until(description: str, timeout: float, watched: list[tuple[ProcessRecord, Path]],
                probe: str, *, context: ssl.SSLContext | None, ok: str | None = None) -> None:
    """Poll PROBE until it answers 200 (containing OK), failing fast if a process died."""
    deadline = time.monotonic() + timeout
    last = ""
    while True:
        for record, logfile in watched:
            if not is_running(record):
                _reap(record.pid)
                raise _EarlyExitError(
                    f"{record.name} exited while waiting for {description}; "
                    f"last lines of {logfile}:\n{_log_tail(logfile)}"
                )
        status, body = _http_get(probe, context)
        if status == 200 and (ok is None or ok in body):
            return
        last = f"{status} {body.strip()[:300]}"
        if time.monotonic() > deadline:
            raise TestenvError(f"timed out after {timeout:.0f}s waiting for {description} "
                               f"({probe}): last answer {last}")
        time.sleep(0.25)


class _EarlyExitError(TestenvError):
    """A process died during start-up (often: a port was taken meanwhile); worth a retry."""


# --- configuration -----------------------------------------------------------------------

def _kubeconfig(server: str, pki: pki_module.Pki, client: str, user: str) -> str:
    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode("ascii")

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "lmfchart-testenv", "cluster": {
            "server": server, "certificate-authority-data": b64(pki.ca_cert)}}],
        "users": [{"name": user, "user": {
            "client-certificate-data": b64(pki.client_cert(client)),
            "client-key-data": b64(pki.client_key(client))}}],
        "contexts": [{"name": "lmfchart-testenv", "context": {
            "cluster": "lmfchart-testenv", "user": user, "namespace": "default"}}],
        "current-context": "lmfchart-testenv",
    }
    # JSON is YAML: every kubeconfig reader (kubectl, helm, the Python client) accepts it.
    return json.dumps(config, indent=2) + "\n"


def _write_private(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


# --- up / down ---------------------------------------------------------------------------

def healthy(state: State) -> bool:
    """Every recorded process runs and the API server answers /readyz."""
    if not state.processes or not all(is_running(p) for p in state.processes
                                      if p.name != "watchdog"):
        return False
    pki = pki_module.Pki(Path(state.state_dir) / "pki")
    try:
        context = _admin_ssl_context(pki)
    except (OSError, ssl.SSLError):
        return False
    status, _ = _http_get(f"{state.server}/readyz", context)
    return status == 200


def purge(state_dir: Path, keep_logs: bool = False) -> None:
    for entry in OWNED_ENTRIES:
        if keep_logs and entry == "logs":
            continue
        path = state_dir / entry
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def down(state_dir: Path, remove_files: bool = False, keep_logs: bool = False) -> bool:
    """Stop what `up` started in STATE_DIR; return whether anything was recorded.

    With REMOVE_FILES, also remove what `up` wrote there (but the logs with KEEP_LOGS).
    """
    state = State.load(state_dir)
    if state is not None:
        # The watchdog first, so it does not race us; then in reverse order of start.
        watchdogs = [p for p in state.processes if p.name == "watchdog"]
        rest = [p for p in reversed(state.processes) if p.name != "watchdog"]
        for record in [*watchdogs, *rest]:
            stop(record)
        (state_dir / STATE_FILE).unlink(missing_ok=True)
    if remove_files:
        purge(state_dir, keep_logs=keep_logs)
    return state is not None


def _start_once(state_dir: Path) -> State:
    etcd_client, etcd_peer, apiserver_port = free_ports(3)
    logs = state_dir / "logs"
    pki = pki_module.generate(state_dir / "pki")
    server = f"https://127.0.0.1:{apiserver_port}"
    etcd_url = f"http://127.0.0.1:{etcd_client}"
    peer_url = f"http://127.0.0.1:{etcd_peer}"
    kubeconfig = state_dir / KUBECONFIG
    state = State(state_dir=str(state_dir), server=server, kubeconfig=str(kubeconfig),
                  etcd=etcd_url)

    def started(record: ProcessRecord) -> ProcessRecord:
        state.processes.append(record)
        state.save()  # recorded at once, so `down` can stop it whatever happens next
        return record

    etcd_log = logs / "etcd.log"
    etcd = started(spawn("etcd", [
        str(binary_path("etcd")),
        "--name=lmfchart-testenv",
        f"--data-dir={state_dir / 'etcd-data'}",
        f"--listen-client-urls={etcd_url}",
        f"--advertise-client-urls={etcd_url}",
        f"--listen-peer-urls={peer_url}",
        f"--initial-advertise-peer-urls={peer_url}",
        f"--initial-cluster=lmfchart-testenv={peer_url}",
        "--initial-cluster-state=new",
        # Throw-away data: skip fsync, it is the slowest part of every write.
        "--unsafe-no-fsync",
        "--log-level=warn",
    ], etcd_log))
    _wait_until("etcd", ETCD_TIMEOUT, [(etcd, etcd_log)], f"{etcd_url}/health", context=None,
                ok='"health":"true"')

    apiserver_log = logs / "kube-apiserver.log"
    audit_policy = state_dir / "audit-policy.yaml"
    audit_policy.write_text(AUDIT_POLICY, encoding="utf-8")
    apiserver = started(spawn("kube-apiserver", [
        str(binary_path("kube-apiserver")),
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={apiserver_port}",
        f"--cert-dir={state_dir / 'apiserver-certs'}",
        f"--tls-cert-file={pki.serving_cert}",
        f"--tls-private-key-file={pki.serving_key}",
        f"--client-ca-file={pki.ca_cert}",
        f"--service-account-key-file={pki.service_account_public_key}",
        f"--service-account-signing-key-file={pki.service_account_key}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={pki_module.SERVICE_CLUSTER_IP_RANGE}",
        "--authorization-mode=RBAC",
        "--allow-privileged=true",
        # A loopback address is no valid Endpoints address: skip the `kubernetes` endpoints.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
        f"--audit-policy-file={audit_policy}",
        f"--audit-log-path={logs / 'audit.log'}",
        "--v=1",
    ], apiserver_log))
    context = _admin_ssl_context(pki)
    _wait_until("kube-apiserver", APISERVER_TIMEOUT,
                [(etcd, etcd_log), (apiserver, apiserver_log)], f"{server}/readyz", context=context)

    _write_private(kubeconfig, _kubeconfig(server, pki, "admin", "lmfchart-admin"))
    cm_kubeconfig = state_dir / "controller-manager.kubeconfig"
    _write_private(cm_kubeconfig, _kubeconfig(server, pki, "controller-manager",
                                              "system:kube-controller-manager"))
    cm_log = logs / "kube-controller-manager.log"
    controller_manager = started(spawn("kube-controller-manager", [
        str(binary_path("kube-controller-manager")),
        f"--kubeconfig={cm_kubeconfig}",
        f"--authentication-kubeconfig={cm_kubeconfig}",
        f"--authorization-kubeconfig={cm_kubeconfig}",
        "--bind-address=127.0.0.1",
        "--secure-port=0",  # serve nothing: no port to find or to clash
        "--leader-elect=false",
        "--use-service-account-credentials=true",
        f"--service-account-private-key-file={pki.service_account_key}",
        f"--root-ca-file={pki.ca_cert}",
        f"--service-cluster-ip-range={pki_module.SERVICE_CLUSTER_IP_RANGE}",
        "--v=1",
    ], cm_log))
    # The `default` ServiceAccount is made by the controller-manager: once it exists, the
    # controllers run, and Pods (which need it) can be created.
    _wait_until("kube-controller-manager", CONTROLLER_MANAGER_TIMEOUT,
                [(etcd, etcd_log), (apiserver, apiserver_log), (controller_manager, cm_log)],
                f"{server}/api/v1/namespaces/default/serviceaccounts/default",
                context=context)
    return state


def _start_with_retries(state_dir: Path) -> State:
    attempt = 1
    while True:
        try:
            return _start_once(state_dir)
        except _EarlyExitError as error:
            if attempt == START_ATTEMPTS:
                down(state_dir)  # keep the logs for the post-mortem
                raise
            down(state_dir, remove_files=True)
            log(f"start-up attempt {attempt} failed, retrying with new ports: {error}")
            attempt += 1
        except BaseException:
            down(state_dir)  # keep the logs for the post-mortem
            raise


def up(state_dir: Path, owner_pid: int | None = None) -> tuple[State, bool]:
    """Start a control plane in STATE_DIR, or reuse the healthy one there.

    Returns the state and whether it was reused. With OWNER_PID, a watchdog stops the
    control plane when that process exits without calling `down`.
    """
    owner = _stat(owner_pid) if owner_pid is not None else None
    if owner_pid is not None and owner is None:
        raise TestenvError(f"owner process {owner_pid} does not exist")
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    existing = State.load(state_dir)
    if existing is not None:
        if healthy(existing):
            return existing, True
        log(f"found a stopped or broken test environment in {state_dir}; replacing it")
    down(state_dir, remove_files=True)

    state = _start_with_retries(state_dir)
    if owner_pid is not None and owner is not None:
        try:
            state.processes.append(_start_watchdog(state_dir, owner_pid, owner[1]))
        except BaseException:
            down(state_dir)
            raise
        state.save()
    return state, False


# --- watchdog ----------------------------------------------------------------------------

def _start_watchdog(state_dir: Path, owner_pid: int, owner_start_time: int) -> ProcessRecord:
    script = Path(__file__).resolve().parent.parent / "testenv"
    return spawn("watchdog", [
        sys.executable, str(script), "_watchdog", f"--state-dir={state_dir}",
        f"--owner-pid={owner_pid}", f"--owner-start-time={owner_start_time}",
    ], state_dir / "logs" / "watchdog.log")


def watchdog(state_dir: Path, owner_pid: int, owner_start_time: int) -> None:
    """Stop the control plane when the owner process goes away; exit when it is stopped."""
    owner = ProcessRecord("owner", owner_pid, owner_start_time, "")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(1)
        state = State.load(state_dir)
        if state is None:
            return  # `down` ran
        if not is_running(owner):
            log(f"owner process {owner_pid} is gone; stopping the test environment")
            with state_lock(state_dir):
                state = State.load(state_dir)
                for record in reversed(state.processes if state else []):
                    if record.name != "watchdog":
                        stop(record)
                (state_dir / STATE_FILE).unlink(missing_ok=True)
            return
