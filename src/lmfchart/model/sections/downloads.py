"""Where the web UI downloads models and datasets from: the hub and an outbound proxy."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictStr

from lmfchart.model.fields import HttpUrl, ProxyUrl
from lmfchart.model.sections.base import Section


class Hub(Section):
    source: Literal["huggingface", "modelscope", "openmind"] = Field(
        "huggingface",
        description="Where models and datasets are downloaded from: huggingface, "
        "modelscope (sets USE_MODELSCOPE_HUB=1) or openmind (sets USE_OPENMIND_HUB=1).",
    )
    hfEndpoint: HttpUrl = Field(
        "", description="HF_ENDPOINT: a Hugging Face mirror URL; empty uses huggingface.co."
    )
    offline: StrictBool = Field(
        False,
        description="Never download (HF_HUB_OFFLINE, HF_DATASETS_OFFLINE, TRANSFORMERS_OFFLINE): "
        "models and datasets must already be on the volumes.",
    )


class Proxy(Section):
    httpProxy: ProxyUrl = Field("", description="HTTP_PROXY for outbound downloads.")
    httpsProxy: ProxyUrl = Field("", description="HTTPS_PROXY for outbound downloads.")
    noProxy: StrictStr = Field(
        "",
        description="NO_PROXY (set in upper case: the web UI overwrites lower-case no_proxy).",
    )
