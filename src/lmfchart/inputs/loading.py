"""From value flags to checked Values: merge like Helm, translate, coalesce, check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pydantic

from lmfchart.base.errors import InputError
from lmfchart.inputs.layers import merge_user_values
from lmfchart.inputs.merge import coalesce
from lmfchart.inputs.options import ValueOptions
from lmfchart.inputs.origins import Origins
from lmfchart.inputs.problems import located, pydantic_issues, removed_required, unsafe_text
from lmfchart.inputs.seed import translate_seed_layout
from lmfchart.model.crosschecks import cross_check, exposure_warnings
from lmfchart.model.values import Values, default_values


@dataclass
class LoadedValues:
    """Checked values plus what the user gave, for messages and the chart's values.yaml."""

    values: Values
    notes: list[str] = field(default_factory=list)
    # Only what the user gave, in the chart's layout (seed keys translated): what a Helm
    # release records as its values, so `helm upgrade` reusing them passes the schema.
    supplied: dict[str, Any] = field(default_factory=dict)
    # Where each key the user gave came from, for messages about the checked values.
    origins: Origins = field(default_factory=Origins)
    # Said, never a failure (an Ingress without login); `notes` carries them as text too.
    warnings: list[str] = field(default_factory=list)

    @property
    def effective(self) -> dict[str, Any]:
        return self.values.model_dump(mode="json")


def load_values(options: ValueOptions) -> LoadedValues:
    """Merge the user's values like Helm, read the seed layout, coalesce, check everything."""
    user = merge_user_values(options)
    translated = translate_seed_layout(user.data, user.origins)
    data, removed = coalesce(default_values(), translated.data)
    problems = removed_required(removed) + unsafe_text(data)
    if problems:
        raise InputError(located(user.origins, problems))
    try:
        values = Values.model_validate(data)
    except pydantic.ValidationError as e:
        raise InputError(located(user.origins, pydantic_issues(e, data))) from e
    crossed = cross_check(values)
    if crossed:
        raise InputError(located(user.origins, list(crossed)))
    warnings = exposure_warnings(values)
    notes = translated.notes + [f"warning: {w}" for w in warnings]
    return LoadedValues(values, notes, translated.data, user.origins, warnings)
