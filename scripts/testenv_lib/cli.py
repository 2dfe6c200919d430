"""`scripts/testenv build|up|down|env|status|check`: see docs/testenv.md."""

from __future__ import annotations

import argparse
import importlib.util
import json
import shlex
import sys
from pathlib import Path

from . import build as build_module
from . import cluster
from .config import (
    COMPONENTS,
    EXIT_MISSING_PREREQUISITE,
    MissingPrerequisiteError,
    TestenvError,
    cache_root,
    component_dir,
    default_state_dir,
)


def _env_lines(state: cluster.State) -> str:
    return (
        f"export KUBECONFIG={shlex.quote(state.kubeconfig)}\n"
        f"export LMFCHART_TESTENV_DIR={shlex.quote(state.state_dir)}\n"
    )


def _describe(state: cluster.State, reused: bool | None = None) -> dict[str, object]:
    info: dict[str, object] = {
        "state_dir": state.state_dir,
        "kubeconfig": state.kubeconfig,
        "server": state.server,
        "etcd": state.etcd,
        "kubernetes_version": state.kubernetes_version,
        "etcd_version": state.etcd_version,
        "pids": {p.name: p.pid for p in state.processes},
    }
    if reused is not None:
        info["reused"] = reused
    return info


def _prerequisites() -> None:
    """Raise MissingPrerequisiteError unless `up` can work on this machine."""
    if not build_module.all_built():
        build_module.find_go()
    if importlib.util.find_spec("cryptography") is None:
        raise MissingPrerequisiteError(
            "the Python package `cryptography` is needed to make the test certificates "
            "(pip install cryptography)"
        )


def cmd_build(args: argparse.Namespace) -> int:
    build_module.build(force=args.force)
    for component in COMPONENTS:
        for _, name in component.commands:
            print(component_dir(component) / "bin" / name)
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    _prerequisites()
    build_module.build()
    with cluster.state_lock(args.state_dir):
        state, reused = cluster.up(args.state_dir, owner_pid=args.owner_pid)
    verb = "reusing" if reused else "started"
    build_module.log(f"{verb} the test control plane at {state.server} "
                     f"(state: {state.state_dir})")
    if args.json:
        print(json.dumps(_describe(state, reused)))
    else:
        print(_env_lines(state), end="")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    with cluster.state_lock(args.state_dir):
        stopped = cluster.down(args.state_dir, remove_files=not args.keep_files,
                               keep_logs=True)
    if stopped:
        build_module.log(f"stopped the test control plane in {args.state_dir}")
    else:
        build_module.log(f"no test control plane recorded in {args.state_dir}")
    return 0


def _running_state(state_dir: Path) -> cluster.State:
    state = cluster.State.load(state_dir)
    if state is None or not cluster.healthy(state):
        raise TestenvError(f"no running test control plane in {state_dir}; "
                           "run `scripts/testenv up` first")
    return state


def cmd_env(args: argparse.Namespace) -> int:
    state = _running_state(args.state_dir)
    if args.json:
        print(json.dumps(_describe(state)))
    else:
        print(_env_lines(state), end="")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state = cluster.State.load(args.state_dir)
    built = {name: str(component_dir(c) / "bin" / name) if build_module.is_built(c) else None
             for c in COMPONENTS for _, name in c.commands}
    info: dict[str, object] = {"cache": str(cache_root()), "binaries": built,
                               "state_dir": str(args.state_dir), "running": False}
    if state is not None:
        info.update(_describe(state))
        info["running"] = cluster.healthy(state)
    print(json.dumps(info, indent=2))
    return 0 if info["running"] else 1


def cmd_clean(args: argparse.Namespace) -> int:
    for target in build_module.clean(everything=args.all):
        build_module.log(f"removed {target}")
    return 0


def cmd_check(_: argparse.Namespace) -> int:
    _prerequisites()
    print("ok")
    return 0


def cmd_watchdog(args: argparse.Namespace) -> int:
    cluster.watchdog(args.state_dir, args.owner_pid, args.owner_start_time)
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="scripts/testenv",
        description="A real Kubernetes control plane (etcd, kube-apiserver, "
        "kube-controller-manager) on 127.0.0.1 for lmfchart's end-to-end tests.",
    )
    commands = top.add_subparsers(dest="command", required=True)

    def state_dir_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--state-dir", type=Path, default=default_state_dir(),
                         help="folder for certificates, data, logs and the kubeconfig "
                         "(default: $LMFCHART_TESTENV_DIR or %(default)s)")

    sub = commands.add_parser("build", help="build the binaries into the cache (first time)")
    sub.add_argument("--force", action="store_true", help="rebuild even if cached")
    sub.set_defaults(func=cmd_build)

    sub = commands.add_parser("up", help="start a control plane, or reuse the running one; "
                              "prints `export KUBECONFIG=...` lines for eval")
    state_dir_option(sub)
    sub.add_argument("--owner-pid", type=int, default=None,
                     help="stop the control plane when this process exits")
    sub.add_argument("--json", action="store_true", help="print a JSON description instead")
    sub.set_defaults(func=cmd_up)

    sub = commands.add_parser("down", help="stop what `up` started")
    state_dir_option(sub)
    sub.add_argument("--keep-files", action="store_true",
                     help="keep certificates, kubeconfigs and etcd data in the state "
                     "folder (the logs are always kept, until the next `up`)")
    sub.set_defaults(func=cmd_down)

    sub = commands.add_parser("env", help="print `export KUBECONFIG=...` lines for eval")
    state_dir_option(sub)
    sub.add_argument("--json", action="store_true", help="print a JSON description instead")
    sub.set_defaults(func=cmd_env)

    sub = commands.add_parser("status", help="describe the cache and the control plane")
    state_dir_option(sub)
    sub.set_defaults(func=cmd_status)

    sub = commands.add_parser("clean", help="remove the Go caches of the build (the "
                              "binaries stay), or with --all the whole cache")
    sub.add_argument("--all", action="store_true", help="remove the binaries too")
    sub.set_defaults(func=cmd_clean)

    sub = commands.add_parser("check", help=f"exit {EXIT_MISSING_PREREQUISITE} if a "
                              "prerequisite (Go, cryptography) is missing")
    sub.set_defaults(func=cmd_check)

    sub = commands.add_parser("_watchdog")
    state_dir_option(sub)
    sub.add_argument("--owner-pid", type=int, required=True)
    sub.add_argument("--owner-start-time", type=int, required=True)
    sub.set_defaults(func=cmd_watchdog)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except MissingPrerequisiteError as error:
        print(f"testenv: missing prerequisite: {error}", file=sys.stderr)
        return EXIT_MISSING_PREREQUISITE
    except TestenvError as error:
        print(f"testenv: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return status
