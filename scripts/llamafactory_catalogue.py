#!/usr/bin/env python3
"""Write the LLaMA-Factory key catalogue lmfchart ships, from the pinned package's source.

    python scripts/llamafactory_catalogue.py       # writes src/lmfchart/model/llamafactory/
    python scripts/llamafactory_catalogue.py --output X.json --wheels DIR

Downloads the llamafactory and transformers wheels (pip download --no-deps, from PyPI) into
a cache folder once, then reads their source with `ast`: nothing is imported, so no torch
is needed. The keys `llamafactory-cli train` accepts are the init fields of the dataclasses
in `_TRAIN_ARGS` of llamafactory/hparams/parser.py (following dataclass inheritance into
transformers' Seq2SeqTrainingArguments); `export` and `api` accept those of `_INFER_ARGS`.
The output is sorted JSON, so running the script again gives the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

LLAMAFACTORY_VERSION = "0.9.5"
TRANSFORMERS_VERSION = "5.6.0"
WHEELS = {
    "llamafactory": f"llamafactory-{LLAMAFACTORY_VERSION}-py3-none-any.whl",
    "transformers": f"transformers-{TRANSFORMERS_VERSION}-py3-none-any.whl",
}
REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = REPO / "src" / "lmfchart" / "model" / "llamafactory" / "catalogue.json"

# Keys transformers 5 dropped from TrainingArguments: key -> (hint, the key to use instead
# or None). The script checks each against the source: the key is no field, its
# replacement is one.
REMOVED: dict[str, tuple[str, str | None]] = {
    "evaluation_strategy": ("was renamed in transformers 5: use eval_strategy", "eval_strategy"),
    "no_cuda": ("was removed in transformers 5: use use_cpu", "use_cpu"),
    "per_gpu_train_batch_size": (
        "was removed in transformers 5: use per_device_train_batch_size",
        "per_device_train_batch_size",
    ),
    "per_gpu_eval_batch_size": (
        "was removed in transformers 5: use per_device_eval_batch_size",
        "per_device_eval_batch_size",
    ),
    "group_by_length": (
        "was removed in transformers 5: use train_sampling_strategy: group_by_length",
        "train_sampling_strategy",
    ),
    "save_safetensors": (
        "was removed in transformers 5, which always saves safetensors: drop the key", None,
    ),
    "fp16_backend": ("was removed in transformers 5: drop the key", None),
    "half_precision_backend": (
        "was removed in transformers 5: drop the key", None,
    ),
}
# Keys transformers 5.6 still accepts but marks deprecated (removal announced): key ->
# (hint, replacement or None). Checked: a field whose help text says "deprecated".
DEPRECATED: dict[str, tuple[str, str | None]] = {
    "warmup_ratio": (
        "is deprecated in transformers 5 (to be removed): use warmup_steps "
        "(a value below 1 is a ratio)",
        "warmup_steps",
    ),
    "logging_dir": (
        "is deprecated in transformers 5 (to be removed): set the environment variable "
        "TENSORBOARD_LOGGING_DIR instead",
        None,
    ),
}

SCALARS = {"bool": "bool", "int": "int", "float": "float", "str": "str"}
LISTS = {"list", "List", "tuple", "Tuple", "Sequence", "set", "Set"}
DICTS = {"dict", "Dict", "Mapping"}
ENUM_ROOTS = {"Enum", "StrEnum", "IntEnum"}


class CatalogueError(Exception):
    """The source does not look the way this script expects."""


class DownloadError(Exception):
    """pip could not fetch the wheels (PyPI unreachable, say)."""


EXIT_DOWNLOAD_FAILED = 3


# --- where the source comes from ------------------------------------------------------------


def wheel_cache() -> Path:
    """The lmfchart cache folder (as lmfchart.base.cache computes it), without importing it."""
    explicit = os.environ.get("LMFCHART_CACHE")
    base = Path(explicit) if explicit else Path(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")) / "lmfchart"
    return base / "llamafactory-wheels"


def fetch_wheels(folder: Path) -> dict[str, Path]:
    """The two wheels in `folder`, downloaded from PyPI first where missing."""
    paths = {name: folder / wheel for name, wheel in WHEELS.items()}
    missing = [name for name, path in paths.items() if not path.is_file()]
    if missing:
        folder.mkdir(parents=True, exist_ok=True)
        pins = {"llamafactory": LLAMAFACTORY_VERSION, "transformers": TRANSFORMERS_VERSION}
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                 "--only-binary", ":all:", "-d", scratch,
                 *(f"{name}=={pins[name]}" for name in missing)],
                capture_output=True, text=True, check=False,
            )
            if done.returncode != 0:
                tail = "\n".join(done.stderr.strip().splitlines()[-5:])
                raise DownloadError(f"pip download {' '.join(missing)} failed:\n{tail}")
            for name in missing:
                # A rename is atomic: a concurrent run never sees half a wheel.
                (Path(scratch) / WHEELS[name]).replace(paths[name])
    return paths


class Sources:
    """Python modules read from wheels by dotted name, parsed once."""

    def __init__(self, wheels: list[Path]) -> None:
        self._files: dict[str, str] = {}
        for wheel in wheels:
            with zipfile.ZipFile(wheel) as archive:
                for name in archive.namelist():
                    if name.endswith(".py"):
                        self._files[name] = archive.read(name).decode("utf-8")
        self._trees: dict[str, ast.Module | None] = {}

    def module(self, dotted: str) -> ast.Module | None:
        if dotted not in self._trees:
            base = dotted.replace(".", "/")
            text = self._files.get(f"{base}.py", self._files.get(f"{base}/__init__.py"))
            self._trees[dotted] = None if text is None else ast.parse(text)
        return self._trees[dotted]

    def is_package(self, dotted: str) -> bool:
        return f"{dotted.replace('.', '/')}/__init__.py" in self._files


# --- classes and names ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassRef:
    module: str
    node: ast.ClassDef = field(compare=False)
    name: str = ""


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those under if/else and try."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            for block in (stmt.body, stmt.orelse, stmt.finalbody):
                yield from _statements(block)


def _absolute(module: str, sources: Sources, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module if sources.is_package(module) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def lookup(
    sources: Sources, module: str, name: str, seen: frozenset[str] = frozenset()
) -> ClassRef | None:
    """The class `name` means in `module`, following imports and aliases within the wheels.

    A name bound more than once (`X = A` under `if`, `X = B` under `else`) means the first
    binding that resolves inside the wheels: the other branches import optional packages.
    """
    key = f"{module}:{name}"
    tree = sources.module(module)
    if tree is None or key in seen:
        return None
    seen = seen | {key}
    for stmt in _statements(tree.body):
        found: ClassRef | None = None
        if isinstance(stmt, ast.ClassDef) and stmt.name == name:
            return ClassRef(module, stmt, name)
        if isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    found = lookup(sources, _absolute(module, sources, stmt), alias.name, seen)
        elif (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Name)
              and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)):
            found = lookup(sources, module, stmt.value.id, seen)
        if found is not None:
            return found
    return None


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _bases(sources: Sources, ref: ClassRef) -> list[ClassRef]:
    found = (lookup(sources, ref.module, _dotted(b)) for b in ref.node.bases)
    return [b for b in found if b is not None]


def is_enum(sources: Sources, ref: ClassRef) -> bool:
    if any(_dotted(b) in ENUM_ROOTS for b in ref.node.bases):
        return True
    return any(is_enum(sources, base) for base in _bases(sources, ref))


def enum_values(ref: ClassRef) -> list[object]:
    values: list[object] = []
    for stmt in ref.node.body:
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and not stmt.targets[0].id.startswith("_")
                and isinstance(stmt.value, ast.Constant)):
            values.append(stmt.value.value)
    return values


def mro(sources: Sources, ref: ClassRef) -> list[ClassRef]:
    """C3 linearization over the classes found in the wheels, as Python orders them."""
    sequences = [mro(sources, base) for base in _bases(sources, ref)]
    sequences.append(_bases(sources, ref))
    order = [ref]
    while any(sequences):
        sequences = [s for s in sequences if s]
        head = next((s[0] for s in sequences if not any(s[0] in t[1:] for t in sequences)), None)
        if head is None:
            raise CatalogueError(f"no consistent method resolution order for {ref.name}")
        order.append(head)
        sequences = [s[1:] if s[0] == head else s for s in sequences]
    return order


# --- annotations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What an annotation lets a YAML value be."""

    kinds: frozenset[str] = frozenset()
    optional: bool = False
    choices: tuple[object, ...] | None = None
    from_enum: bool = False

    def union(self, other: Shape) -> Shape:
        kinds, optional = self.kinds | other.kinds, self.optional or other.optional
        if self.choices is not None and other.choices is not None:
            merged = tuple(dict.fromkeys(self.choices + other.choices))
            return Shape(kinds, optional, merged, self.from_enum and other.from_enum)
        # `SomeEnum | str`: transformers turns the string into the enum in __post_init__,
        # so only the enum's values get through.
        for restricted, plain in ((self, other), (other, self)):
            if restricted.from_enum and plain.kinds == {"str"} and plain.choices is None:
                return Shape(kinds, optional, restricted.choices, True)
        if self.choices is None and other.choices is None:
            return Shape(kinds, optional)
        if not self.kinds or not other.kinds:  # one side is only None
            return Shape(kinds, optional, self.choices or other.choices,
                         self.from_enum or other.from_enum)
        return Shape(kinds, optional)


ANY = Shape(frozenset({"any"}))
NONE = Shape(optional=True)


def _literal_kind(value: object) -> Shape:
    if value is None:
        return NONE
    return Shape(frozenset({type(value).__name__}), choices=(value,))


def shape(sources: Sources, module: str, node: ast.expr) -> Shape:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return NONE
        if isinstance(node.value, str):  # a string annotation
            return shape(sources, module, ast.parse(node.value, mode="eval").body)
        return ANY
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return shape(sources, module, node.left).union(shape(sources, module, node.right))
    if isinstance(node, ast.Subscript):
        outer = _dotted(node.value)
        args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in {"Optional", "Union", "Literal"}:
            parts = [
                _literal_kind(a.value) if outer == "Literal" and isinstance(a, ast.Constant)
                else shape(sources, module, a)
                for a in args
            ]
            result = NONE if outer == "Optional" else parts[0]
            for part in parts if outer == "Optional" else parts[1:]:
                result = result.union(part)
            return result
        return _plain(sources, module, outer)
    return _plain(sources, module, _dotted(node))


def _plain(sources: Sources, module: str, name: str) -> Shape:
    if name == "None":
        return NONE
    if name in SCALARS:
        return Shape(frozenset({SCALARS[name]}))
    if name in LISTS:
        return Shape(frozenset({"list"}))
    if name in DICTS:
        return Shape(frozenset({"dict"}))
    ref = lookup(sources, module, name)
    if ref is not None and is_enum(sources, ref):
        values = enum_values(ref)
        kinds = frozenset(type(v).__name__ for v in values)
        return Shape(kinds, choices=tuple(values), from_enum=True)
    return ANY  # Any, object, or a class a YAML file cannot write


def _metadata_choices(value: ast.expr | None) -> tuple[object, ...] | None:
    """`field(metadata={"choices": [...]})` written as a literal list."""
    if not (isinstance(value, ast.Call) and _dotted(value.func) == "field"):
        return None
    for keyword in value.keywords:
        if keyword.arg == "metadata" and isinstance(keyword.value, ast.Dict):
            for k, v in zip(keyword.value.keys, keyword.value.values, strict=True):
                listed = isinstance(k, ast.Constant) and k.value == "choices"
                if listed and isinstance(v, ast.List | ast.Tuple):
                    values = [e.value for e in v.elts if isinstance(e, ast.Constant)]
                    if len(values) == len(v.elts):
                        return tuple(values)
    return None


def _is_init_field(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Call) and _dotted(value.func) == "field":
        for keyword in value.keywords:
            if keyword.arg == "init" and isinstance(keyword.value, ast.Constant):
                return bool(keyword.value.value)
    return True


def _help(value: ast.expr | None) -> str:
    return ast.unparse(value) if value is not None else ""


@dataclass(frozen=True)
class Field:
    shape: Shape
    help: str


def dataclass_fields(sources: Sources, ref: ClassRef) -> dict[str, Field]:
    """The init fields a dataclass accepts, base classes first as `dataclasses` collects them."""
    fields: dict[str, Field | None] = {}
    for cls in reversed(mro(sources, ref)):
        if not any(_dotted(d.func if isinstance(d, ast.Call) else d) == "dataclass"
                   for d in cls.node.decorator_list):
            continue
        for stmt in cls.node.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            if _dotted(stmt.annotation.value if isinstance(stmt.annotation, ast.Subscript)
                       else stmt.annotation) == "ClassVar":
                continue
            if not _is_init_field(stmt.value):
                fields[stmt.target.id] = None
                continue
            found = shape(sources, cls.module, stmt.annotation)
            listed = _metadata_choices(stmt.value)
            if listed is not None and found.choices is None:
                found = Shape(found.kinds, found.optional, listed)
            fields[stmt.target.id] = Field(found, _help(stmt.value))
    return {name: f for name, f in fields.items() if f is not None}


def argument_classes(sources: Sources, list_name: str) -> list[ClassRef]:
    """The dataclasses named in `llamafactory.hparams.parser.<list_name> = [...]`."""
    module = "llamafactory.hparams.parser"
    tree = sources.module(module)
    if tree is None:
        raise CatalogueError(f"{module} is missing from the wheel")
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List)
                and any(isinstance(t, ast.Name) and t.id == list_name for t in stmt.targets)):
            refs = [lookup(sources, module, _dotted(e)) for e in stmt.value.elts]
            if any(r is None for r in refs):
                raise CatalogueError(f"cannot resolve every class of {list_name}")
            return [r for r in refs if r is not None]
    raise CatalogueError(f"{module} defines no list {list_name}")


def accepted(sources: Sources, list_name: str) -> dict[str, Field]:
    keys: dict[str, Field] = {}
    for ref in argument_classes(sources, list_name):
        for name, found in dataclass_fields(sources, ref).items():
            keys.setdefault(name, found)  # HfArgumentParser gives a key to the first class
    return keys


def key_entry(found: Field) -> dict[str, object]:
    kinds = found.shape.kinds
    entry: dict[str, object] = {"optional": found.shape.optional}
    if len(kinds) == 1 and "any" not in kinds:
        entry["type"] = next(iter(kinds))
    else:
        entry["type"] = "any"
        if kinds and "any" not in kinds:
            entry["accepts"] = sorted(kinds)  # a union: any of these, nothing else
    if found.shape.choices is not None:
        entry["choices"] = list(found.shape.choices)
    return entry


def templates(sources: Sources) -> list[str]:
    tree = sources.module("llamafactory.data.template")
    if tree is None:
        raise CatalogueError("llamafactory.data.template is missing from the wheel")
    names: list[str] = []
    for stmt in tree.body:
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and _dotted(stmt.value.func) == "register_template"):
            call = stmt.value
            given = [k.value for k in call.keywords if k.arg == "name"] + call.args[:1]
            name = given[0].value if given and isinstance(given[0], ast.Constant) else None
            if not isinstance(name, str):
                raise CatalogueError(f"register_template without a name, line {stmt.lineno}")
            names.append(name)
    return sorted(set(names))


def _choices_of(keys: dict[str, Field], key: str) -> list[object]:
    found = keys.get(key)
    if found is None or found.shape.choices is None:
        raise CatalogueError(f"{key} is no field with a fixed set of values")
    return list(found.shape.choices)


def _hints(train: dict[str, Field]) -> tuple[dict[str, str], dict[str, str]]:
    removed: dict[str, str] = {}
    for key, (hint, instead) in REMOVED.items():
        if key in train:
            raise CatalogueError(f"{key} is a train key again: move it out of REMOVED")
        if instead is not None and instead not in train:
            raise CatalogueError(f"{key}'s replacement {instead} is no train key")
        removed[key] = f"{key} {hint}"
    deprecated: dict[str, str] = {}
    for key, (hint, instead) in DEPRECATED.items():
        found = train.get(key)
        if found is None or "deprecated" not in found.help.lower():
            raise CatalogueError(f"{key} is no train key marked deprecated")
        if instead is not None and instead not in train:
            raise CatalogueError(f"{key}'s replacement {instead} is no train key")
        deprecated[key] = f"{key} {hint}"
    return removed, deprecated


def build(wheels: dict[str, Path]) -> dict[str, object]:
    sources = Sources([wheels["llamafactory"], wheels["transformers"]])
    train = accepted(sources, "_TRAIN_ARGS")
    infer = accepted(sources, "_INFER_ARGS")
    removed, deprecated = _hints(train)
    return {
        "llamafactory_version": LLAMAFACTORY_VERSION,
        "transformers_version": TRANSFORMERS_VERSION,
        "stages": _choices_of(train, "stage"),
        "finetuning_types": _choices_of(train, "finetuning_type"),
        "infer_backends": _choices_of(infer, "infer_backend"),
        "templates": templates(sources),
        "train_keys": {k: key_entry(f) for k, f in train.items()},
        "infer_keys": {k: key_entry(f) for k, f in infer.items()},
        "removed_keys": removed,
        "deprecated_keys": deprecated,
    }


def render(catalogue: dict[str, object]) -> str:
    return json.dumps(catalogue, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--wheels", type=Path, default=None,
                        help="folder holding (or receiving) the two wheels")
    args = parser.parse_args(argv)
    try:
        wheels = fetch_wheels(args.wheels or wheel_cache())
    except DownloadError as e:
        print(f"llamafactory_catalogue: {e}", file=sys.stderr)
        return EXIT_DOWNLOAD_FAILED
    try:
        catalogue = build(wheels)
    except CatalogueError as e:
        print(f"llamafactory_catalogue: {e}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=args.output.parent, delete=False,
                                     encoding="utf-8", suffix=".tmp") as out:
        out.write(render(catalogue))
    Path(out.name).replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
