"""Volumes, one per purpose, each of one of five kinds."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from lmfchart.model.fields import (
    AbsolutePath,
    AccessMode,
    OptionalAbsolutePath,
    OptionalDnsSubdomain,
    OptionalQuantity,
    Quantity,
)
from lmfchart.model.sections.base import Section


def _access_modes(*modes: AccessMode) -> list[AccessMode]:
    return list(modes)


VolumeType = Literal["none", "emptyDir", "hostPath", "existingClaim", "pvc"]


class Volume(Section):
    type: VolumeType = Field(
        "emptyDir",
        description="none, emptyDir (lost with the pod), hostPath (a node folder), "
        "existingClaim (a PVC you made) or pvc (a PVC this chart makes).",
    )
    mountPath: AbsolutePath = Field(description="Where the volume is mounted in the container.")
    hostPath: OptionalAbsolutePath = Field("", description="Node folder, for type hostPath.")
    hostPathType: Literal["Directory", "DirectoryOrCreate"] = Field(
        "DirectoryOrCreate", description="hostPath type: Directory requires the folder to exist."
    )
    existingClaim: OptionalDnsSubdomain = Field(
        "", description="Name of an existing PVC, for type existingClaim."
    )
    size: Quantity = Field("50Gi", description="Requested size, for type pvc.")
    storageClass: OptionalDnsSubdomain = Field(
        "", description="StorageClass for type pvc; empty uses the cluster's default."
    )
    accessModes: list[AccessMode] = Field(
        default_factory=lambda: _access_modes("ReadWriteOnce"),
        min_length=1,
        description="Access modes, for type pvc.",
    )
    keep: StrictBool = Field(
        True, description="Keep the PVC on uninstall (helm.sh/resource-policy: keep), type pvc."
    )
    sizeLimit: OptionalQuantity = Field("", description="Size limit, for type emptyDir.")


def _volume(mount_path: str, kind: VolumeType, doc: str) -> Any:
    return Field(default_factory=lambda: Volume(type=kind, mountPath=mount_path), description=doc)


class Storage(Section):
    saves: Volume = _volume(
        "/app/saves", "emptyDir", "Web UI state: checkpoints and LoRA adapters (/app/saves)."
    )
    output: Volume = _volume("/app/output", "emptyDir", "Exported models (/app/output).")
    data: Volume = _volume(
        "/app/shared_data",
        "none",
        "Your datasets. Not /app/data by default: that would hide the image's "
        "dataset_info.json.",
    )
    hfCache: Volume = _volume(
        "/root/.cache/huggingface", "emptyDir", "Hugging Face cache (models, datasets)."
    )
    modelScopeCache: Volume = _volume(
        "/root/.cache/modelscope", "none", "ModelScope cache, for hub.source modelscope."
    )
    openMindCache: Volume = _volume(
        "/root/.cache/openmind", "none", "openMind cache, for hub.source openmind."
    )


VOLUME_NAMES: tuple[str, ...] = tuple(Storage.model_fields)
