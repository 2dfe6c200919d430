"""LLaMA-Factory's own argument parser as a test oracle.

The pinned llamafactory with its real dependencies (torch, transformers, accelerate,
peft, datasets, trl: `llamafactory-requirements.txt`) lives in a venv in the cache folder,
built once per machine and requirements file (about 3 GB to download), under a file lock
so parallel test sessions build it once. `parse_configs` runs ONE subprocess in that venv
(`lfparse.py`) that imports llamafactory once and hands every config to the functions
`llamafactory-cli` itself calls: a few milliseconds each, so give it many at once.

    python -m tests.support.llamafactory      # build (or find) the venv, print its python
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from lmfchart.base.cache import cache_root

VERSION = "0.9.5"
REQUIREMENTS = Path(__file__).with_name("llamafactory-requirements.txt")
PARSE_SCRIPT = Path(__file__).with_name("lfparse.py")
SKIP_ENV = "LMFCHART_SKIP_LLAMAFACTORY"
# triton (about 1 GB on disk) is torch's GPU kernel compiler: parsing never compiles, and torch,
# transformers and llamafactory import without it.
DROPPED_AFTER_INSTALL = ("triton",)
ConfigKind = Literal["train", "export", "api"]


class OracleUnavailableError(Exception):
    """The venv could not be built or run (no network and no cache, a failed install)."""


@dataclass(frozen=True)
class ParseResult:
    """What LLaMA-Factory made of one config: ok, or the error it raised (type: message)."""

    kind: ConfigKind
    ok: bool
    error: str


def home() -> Path:
    return cache_root() / f"llamafactory-{VERSION}"


def venv_dir() -> Path:
    return home() / "venv"


def _python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def _fingerprint() -> str:
    """Ties a built venv to this requirements file and this script's build steps."""
    return hashlib.sha256(
        REQUIREMENTS.read_bytes() + repr(DROPPED_AFTER_INSTALL).encode()
    ).hexdigest()


def _ready(env_dir: Path) -> bool:
    marker = env_dir / ".lmfchart-built"
    return marker.is_file() and marker.read_text().strip() == _fingerprint()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(args: Sequence[str | Path], what: str) -> None:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False,
                          env=_clean_env())
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise OracleUnavailableError(f"{what} failed (exit {done.returncode}):\n{tail}")


def _clean_env() -> dict[str, str]:
    # PYTHONPATH points at lmfchart's source; nothing of it belongs in the oracle's venv.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    # Never reach the hub: the parser must not need a model, and tests must not download.
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1",
               LLAMAFACTORY_VERBOSITY="WARN", TOKENIZERS_PARALLELISM="false")
    return env


def ensure_venv() -> Path:
    """The venv's python, built first if this requirements file has no venv yet."""
    env_dir = venv_dir()
    if _ready(env_dir):
        return _python(env_dir)
    with _locked(home() / "build.lock"):
        if _ready(env_dir):  # another session built it while this one waited
            return _python(env_dir)
        shutil.rmtree(env_dir, ignore_errors=True)
        try:
            _build(env_dir)
        except OracleUnavailableError:
            shutil.rmtree(env_dir, ignore_errors=True)  # gigabytes of a half install
            raise
        (env_dir / ".lmfchart-built").write_text(_fingerprint() + "\n")
    return _python(env_dir)


def _build(env_dir: Path) -> None:
    venv.create(env_dir, with_pip=True)
    python = _python(env_dir)
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "-r", REQUIREMENTS], "pip install -r " + REQUIREMENTS.name)
    _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", *DROPPED_AFTER_INSTALL],
         "pip uninstall " + " ".join(DROPPED_AFTER_INSTALL))
    _run([python, "-P", PARSE_SCRIPT, "facts", os.devnull], "importing llamafactory")


def _call(action: str, request: object | None = None) -> object:
    return run_script(PARSE_SCRIPT, request, action)


def run_script(script: Path, request: object | None, *args: str) -> object:
    """SCRIPT run in the venv as `SCRIPT ARGS... ANSWER.json [REQUEST.json]`: its answer."""
    python = ensure_venv()
    with tempfile.TemporaryDirectory() as scratch:
        answer = Path(scratch) / "answer.json"
        # -P: the script's folder must not shadow the llamafactory package with this module.
        command = [str(python), "-P", str(script), *args, str(answer)]
        if request is not None:
            (Path(scratch) / "request.json").write_text(json.dumps(request))
            command.append(str(Path(scratch) / "request.json"))
        # Logs go to a pipe and are shown only if the run itself breaks.
        done = subprocess.run(command, capture_output=True, text=True, check=False,
                              env=_clean_env(), cwd=scratch, timeout=1800)
        if done.returncode != 0 or not answer.is_file():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
            raise OracleUnavailableError(
                f"{script.name} {' '.join(args)} failed (exit {done.returncode}):\n{tail}")
        return json.loads(answer.read_text())


def parse_configs(
    configs: Sequence[tuple[ConfigKind, Mapping[str, object] | str]],
) -> list[ParseResult]:
    """Each (kind, config) through LLaMA-Factory 0.9.5's own code, all in one subprocess.

    A config is a mapping or YAML text (a rendered ConfigMap's `train.yaml`, as it is);
    either is written to a file and read by LLaMA-Factory's `read_args` as
    `llamafactory-cli KIND FILE` reads it. train: `get_train_args`, with the override
    `use_cpu=true` (the test machine has no GPU, where `bf16: true` alone is refused);
    export: `export_model` up to where it loads the tokenizer (so `get_infer_args` plus
    export's own checks); api: `get_infer_args`, as `llamafactory-cli api` calls it. No
    model is opened. Results come back in the order of `configs`.
    """
    request = [
        {"kind": kind, "yaml": config} if isinstance(config, str)
        else {"kind": kind, "config": dict(config)}
        for kind, config in configs
    ]
    answers = _call("parse", request)
    assert isinstance(answers, list) and len(answers) == len(configs)
    return [ParseResult(kind=kind, ok=a["ok"], error=a["error"])
            for (kind, _), a in zip(configs, answers, strict=True)]


@cache
def facts() -> Mapping[str, object]:
    """Read from the installed package: accepted keys, stages, finetuning types, templates."""
    found = _call("facts")
    assert isinstance(found, dict)
    return found


def accepted_keys(kind: Literal["train", "infer"]) -> frozenset[str]:
    """The keys LLaMA-Factory's HfArgumentParser takes for train, or for export and api."""
    keys = facts()[f"{kind}_keys"]
    assert isinstance(keys, list)
    return frozenset(keys)


def main() -> int:
    try:
        print(ensure_venv())
    except OracleUnavailableError as e:
        print(f"LLaMA-Factory {VERSION}'s venv could not be built in {venv_dir()}: {e}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
