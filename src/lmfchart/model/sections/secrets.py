"""Tokens the pods need, referenced from Secrets: the values never hold a secret's value."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from lmfchart.model import formats
from lmfchart.model.fields import OptionalDnsSubdomain
from lmfchart.model.sections.base import Section

# What the API server accepts as a key of a Secret's data.
SecretKey = Annotated[StrictStr, Field(min_length=1, max_length=253,
                                       pattern=formats.DATA_KEY)]
_NAME = "Secret holding it (lmfchart secret create makes one); empty: not set."


class _SecretReference(Section):
    name: OptionalDnsSubdomain = Field("", description=_NAME)


class HfTokenSecret(_SecretReference):
    key: SecretKey = Field("HF_TOKEN", description="Key in that Secret.")


class WandbApiKeySecret(_SecretReference):
    key: SecretKey = Field("WANDB_API_KEY", description="Key in that Secret.")


class SwanlabApiKeySecret(_SecretReference):
    key: SecretKey = Field("SWANLAB_API_KEY", description="Key in that Secret.")


class Secrets(Section):
    hfToken: HfTokenSecret = Field(
        default_factory=HfTokenSecret,
        description="HF_TOKEN for every pod (gated models, pushes to the hub).")
    wandbApiKey: WandbApiKeySecret = Field(
        default_factory=WandbApiKeySecret,
        description="WANDB_API_KEY for the web UI, training and export Jobs (reportTo: [wandb]).")
    swanlabApiKey: SwanlabApiKeySecret = Field(
        default_factory=SwanlabApiKeySecret,
        description="SWANLAB_API_KEY for the web UI, training and export Jobs "
        "(reportTo: [swanlab]).")
