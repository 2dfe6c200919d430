"""What the container may use: CPU and memory, GPUs, shared memory."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt, StrictStr

from lmfchart.model.fields import Quantity
from lmfchart.model.sections.base import Section


def _quantities(**amounts: str | int | float) -> dict[str, str | int | float]:
    return dict(amounts)


class Resources(Section):
    limits: dict[StrictStr, Quantity] = Field(
        default_factory=lambda: _quantities(cpu="8", memory="32Gi"),
        description="Container resource limits, copied verbatim (any resource name).",
    )
    requests: dict[StrictStr, Quantity] = Field(
        default_factory=lambda: _quantities(cpu="2", memory="8Gi"),
        description="Container resource requests, copied verbatim (any resource name).",
    )


class Gpu(Section):
    count: StrictInt = Field(
        0, ge=0, description="GPUs for the pod; added to resources.limits under resourceName."
    )
    resourceName: StrictStr = Field(
        "nvidia.com/gpu",
        pattern=r"^[a-z0-9.-]+/[a-zA-Z0-9._-]+$",
        description="Extended resource name of the GPU (nvidia.com/gpu, amd.com/gpu, "
        "huawei.com/Ascend910, ...).",
    )


class Shm(Section):
    enabled: StrictBool = Field(
        True, description="Mount a memory-backed emptyDir at /dev/shm (PyTorch data loaders)."
    )
    sizeLimit: Quantity = Field("16Gi", description="Size limit of /dev/shm.")
