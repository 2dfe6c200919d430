"""The exact objects a release applies: the chart's templates evaluated for real values."""

from __future__ import annotations

from typing import Any

import yaml

from lmfchart import __version__
from lmfchart.base.errors import TemplateError
from lmfchart.model.names import check_release_name
from lmfchart.model.values import Values
from lmfchart.render.dialect import Scope
from lmfchart.render.engine import GUARDS_TEMPLATE, manifest_templates, render_concrete
from lmfchart.yamlio.emit import dump
from lmfchart.yamlio.reading import read_rendered

# Helm's install order for the kinds this chart makes: what others depend on comes first.
INSTALL_ORDER = ("NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap",
                 "PersistentVolumeClaim", "Service", "Deployment", "Ingress")

def render_objects(values: Values, *, release_name: str, namespace: str) -> list[dict[str, Any]]:
    """Every object of the release, in the order Helm would install them."""
    return [obj for _, obj in render_sources(values, release_name=release_name,
                                             namespace=namespace)]


def render_sources(
    values: Values, *, release_name: str, namespace: str
) -> list[tuple[str, dict[str, Any]]]:
    """(chart template file, object) for every object, in Helm's install order."""
    check_release_name(release_name, namespace)
    scope = _scope(values, release_name, namespace)
    objects: list[tuple[str, dict[str, Any]]] = []
    for name in manifest_templates():
        if name == GUARDS_TEMPLATE:
            continue  # its checks ran when the values were loaded
        text = render_concrete(name, scope)
        try:
            documents = read_rendered(text)
        except yaml.YAMLError as e:
            raise TemplateError(f"template {name} rendered invalid YAML: {e}") from e
        source = name.split("/", 1)[1].removesuffix(".j2")
        objects += [(source, doc) for doc in documents if doc]
    return sorted(objects, key=lambda pair: _install_rank(pair[1]))


def _install_rank(obj: dict[str, Any]) -> int:
    kind = obj.get("kind")
    return INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)


def _scope(values: Values, release_name: str, namespace: str) -> Scope:
    return Scope(
        values=values.model_dump(mode="json"),
        release_name=release_name,
        namespace=namespace,
        chart_version=__version__,
    )


def render_notes(values: Values, *, release_name: str, namespace: str) -> str:
    """What NOTES.txt says for this release: how to reach the web UI."""
    return render_concrete("NOTES.txt.j2", _scope(values, release_name, namespace))


def to_yaml_stream(objects: list[dict[str, Any]]) -> str:
    return "".join("---\n" + dump(obj) for obj in objects)
