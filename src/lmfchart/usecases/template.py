"""`template`: the exact objects a release applies, as a YAML stream."""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.inputs.loading import load_values
from lmfchart.inputs.options import ValueOptions
from lmfchart.render.manifests import render_objects, to_yaml_stream


@dataclass(frozen=True)
class TemplateOutput:
    text: str
    notes: tuple[str, ...]


def template(*, release_name: str, namespace: str, values: ValueOptions) -> TemplateOutput:
    loaded = load_values(values)
    objects = render_objects(loaded.values, release_name=release_name, namespace=namespace)
    return TemplateOutput(to_yaml_stream(objects), tuple(loaded.notes))
