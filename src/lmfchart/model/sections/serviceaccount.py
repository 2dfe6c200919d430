"""The pod's identity towards the Kubernetes API."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from pydantic import Field, StrictBool, StrictStr

from lmfchart.model.fields import LabelKey, OptionalDnsSubdomain
from lmfchart.model.sections.base import Section


class ServiceAccount(Section):
    create: StrictBool = Field(False, description="Create a ServiceAccount for the pod.")
    name: OptionalDnsSubdomain = Field(
        "", description="ServiceAccount name; empty with create uses the release's full name."
    )
    annotations: dict[LabelKey, StrictStr] = Field(
        default_factory=dict, description="Annotations of the created ServiceAccount."
    )
    automountToken: StrictBool = Field(
        False, description="Mount an API token in the pod (the web UI does not need one)."
    )
