"""The Jinja environment over lmfchart's templates, built once per process."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

import lmfchart
from lmfchart import __version__
from lmfchart.base.cache import cache_root
from lmfchart.base.errors import TemplateError
from lmfchart.model import lfkeys
from lmfchart.model.chartenv import (
    API_VARIABLES,
    DOWNLOAD_VARIABLES,
    EXPORT_VARIABLES,
    PYTORCHJOB_COMMAND,
    TRAIN_VARIABLES,
)
from lmfchart.model.crosschecks import INGRESS_TLS, RULES, volume_in_use
from lmfchart.model.expr import Literal, Value
from lmfchart.model.ingressannotations import ANY_INGRESS_ANNOTATION, INGRESS_ANNOTATIONS
from lmfchart.model.lfconfig import CONFIG_DIR, CONFIG_LINES
from lmfchart.model.quantities import go_helper as quantity_helper
from lmfchart.model.sections.security import SCRATCH_DIRS
from lmfchart.model.sections.workloads import API_PORT
from lmfchart.model.values import VOLUME_NAMES, WEBUI_PORT
from lmfchart.render.dialect import (
    CHART_NAME,
    SCALAR_HELPERS,
    ConcreteDialect,
    Dialect,
    HelmDialect,
    Scope,
)

HELPERS_TEMPLATE = "helpers.j2"
MANIFEST_DIR = "manifests"
# The chart's `fail` guards: lmfchart runs the same checks when it loads values, so
# rendering them again for real values would only repeat that work.
GUARDS_TEMPLATE = f"{MANIFEST_DIR}/checks.yaml.j2"
BLOCK_HELPERS = ("labels", "selectorLabels")
# Part of every Job's content hash: bump it when a change to the workload templates alters
# a Job's pod template, so upgrades create new Jobs instead of patching immutable ones.
WORKLOAD_REVISION = "1"
# What a workload's pods read besides their own entry: a change to any renames its Jobs.
POD_VALUE_KEYS = (
    "image", "env", "envFrom", "secrets", "hub", "proxy", "storage", "shm", "nodeSelector",
    "tolerations", "affinity", "runtimeClassName", "podSecurityContext", "securityContext",
    "security", "serviceAccount", "gpu.resourceName", "podAnnotations", "podLabels",
    "extraVolumes", "extraVolumeMounts",
)


def templates_dir() -> Path:
    """Templates ship inside the wheel; a source checkout keeps them at the top level."""
    packaged = resources.files("lmfchart") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(lmfchart.__file__).resolve().parents[2] / "templates"
    if not (checkout / HELPERS_TEMPLATE).is_file():
        raise TemplateError(f"lmfchart's templates are missing: looked in {packaged} and "
                            f"{checkout}; reinstall lmfchart")
    return checkout


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiling the templates is most of a cold `template` run; keep the result on disk."""
    folder = cache_root() / f"jinja-{__version__}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only home only costs speed
    return jinja2.FileSystemBytecodeCache(str(folder))


@functools.cache
def environment() -> jinja2.Environment:
    return build_environment(
        jinja2.FileSystemLoader(str(templates_dir())), bytecode_cache=_bytecode_cache()
    )


def build_environment(
    loader: jinja2.BaseLoader, *, bytecode_cache: jinja2.BytecodeCache | None = None
) -> jinja2.Environment:
    """The environment lmfchart's templates run in (tests build one over their own loader)."""
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=bytecode_cache,
        # Templates never change while lmfchart runs: no stat() per template per file.
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.globals.update(
        volume_names=VOLUME_NAMES,
        scratch_dirs=SCRATCH_DIRS,
        webui_port=WEBUI_PORT,
        chart_name=CHART_NAME,
        rules=RULES,
        config_dir=CONFIG_DIR,
        config_lines=CONFIG_LINES,
        train_variables=TRAIN_VARIABLES,
        export_variables=EXPORT_VARIABLES,
        api_variables=API_VARIABLES,
        download_variables=DOWNLOAD_VARIABLES,
        api_port=API_PORT,
        ingress_annotations=INGRESS_ANNOTATIONS,
        any_ingress_annotation=ANY_INGRESS_ANNOTATION,
        ingress_tls=INGRESS_TLS,
        workload_revision=Literal(WORKLOAD_REVISION),
        pod_values=tuple(Value(key) for key in POD_VALUE_KEYS),
        pytorchjob_command=json.dumps(PYTORCHJOB_COMMAND),
        llamafactory_version=lfkeys.LLAMAFACTORY_VERSION,
    )
    env.filters["volume_in_use"] = volume_in_use
    # Blocks end without a newline: the line that calls one supplies it.
    env.filters["chomp"] = lambda text: text.removesuffix("\n")
    # Inside a block scalar a line of spaces is content; Go's `{{-` leaves none there.
    env.filters["drop_blank_lines"] = lambda text: "".join(
        line for line in text.splitlines(keepends=True) if line.strip())
    return env


@functools.cache
def manifest_templates() -> tuple[str, ...]:
    """Chart templates in a fixed order (names relative to the templates folder)."""
    names = [n for n in environment().list_templates() if n.startswith(MANIFEST_DIR + "/")]
    return tuple(sorted(names))


class LocatedTemplateError(TemplateError):
    """A mistake in a template, named by template file and line."""


def render_with(env: jinja2.Environment, name: str, dialect: Dialect) -> str:
    """Render one template; any mistake in it is reported at its template and line."""
    with _located(env, name):
        return env.get_template(name).render(**dialect.namespace())


@contextlib.contextmanager
def _located(env: jinja2.Environment, name: str) -> Iterator[None]:
    try:
        yield
    except LocatedTemplateError:
        raise
    except jinja2.TemplateSyntaxError as e:
        raise LocatedTemplateError(f"{e.name or name}:{e.lineno}: {e.message}") from e
    except (TemplateError, jinja2.TemplateError) as e:
        message = e.message if isinstance(e, TemplateError) else str(e)
        raise LocatedTemplateError(f"{_where(e, name, env)}: {message}") from e


def _where(error: BaseException, name: str, env: jinja2.Environment) -> str:
    """The innermost template line in the traceback: compiled template frames map their
    line back to the source; frames Jinja already rewrote carry the template's own."""
    where = name
    frame = error.__traceback__
    while frame is not None:
        template = frame.tb_frame.f_globals.get("__jinja_template__")
        filename = frame.tb_frame.f_code.co_filename
        if isinstance(template, jinja2.Template):
            line = template.get_corresponding_lineno(frame.tb_lineno)
            where = f"{template.name or filename}:{line}"
        elif not filename.endswith(".py") and not filename.startswith("<"):
            where = f"{_template_name(filename, env)}:{frame.tb_lineno}"
        frame = frame.tb_next
    return where


def _template_name(filename: str, env: jinja2.Environment) -> str:
    """The template's name as its loader knows it (manifests/deployment.yaml.j2)."""
    roots = env.loader.searchpath if isinstance(env.loader, jinja2.FileSystemLoader) else []
    for root in roots:
        path = Path(filename).resolve()
        if path.is_relative_to(Path(root).resolve()):
            return path.relative_to(Path(root).resolve()).as_posix()
    return filename


def _render(name: str, dialect: Dialect) -> str:
    return render_with(environment(), name, dialect)


def _block_renderer(dialect: Dialect) -> Callable[[str], str]:
    module: Any = None

    def render_block(name: str) -> str:
        nonlocal module
        if module is None:  # the helpers module is bound to this dialect: build it once
            with _located(environment(), HELPERS_TEMPLATE):
                module = environment().get_template(HELPERS_TEMPLATE).make_module(
                    vars=dialect.namespace()
                )
        with _located(environment(), HELPERS_TEMPLATE):
            return str(getattr(module, name)())

    return render_block


def render_helm(name: str) -> str:
    """A template as Go template text for the chart."""
    return _render(name, HelmDialect())


def render_concrete(name: str, scope: Scope) -> str:
    """A template evaluated for real values (YAML text for manifests)."""
    dialect = ConcreteDialect(scope, lambda block: "")
    dialect.blocks = _block_renderer(dialect)
    return _render(name, dialect)


def helm_helpers() -> str:
    """_helpers.tpl: every named helper, generated from the same definitions."""
    parts = ["{{/* Generated by lmfchart from its templates; edit those, not this. */}}\n"]
    for helper in SCALAR_HELPERS:
        parts.append(
            f'{{{{- define "{CHART_NAME}.{helper.name}" -}}}}\n'
            f"{{{{ {helper.definition.go()} }}}}\n{{{{- end }}}}\n"
        )
    parts.append(quantity_helper())
    render_block = _block_renderer(HelmDialect())
    for block in BLOCK_HELPERS:
        parts.append(
            f'{{{{- define "{CHART_NAME}.{block}" -}}}}\n{render_block(block)}{{{{- end }}}}\n'
        )
    return "\n".join(parts)


def render_plain(template_name: str, **context: Any) -> str:
    """A chart file that is not a Go template (Chart.yaml, README.md)."""
    try:
        return environment().get_template(template_name).render(**context)
    except jinja2.TemplateError as e:
        raise TemplateError(f"template {template_name}: {e}") from e
