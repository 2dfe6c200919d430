"""The container image and the registry secrets that pull it."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lmfchart.model.fields import DnsLabel, ImageDigest, ImageRepository, ImageTag
from lmfchart.model.sections.base import Section

DEFAULT_IMAGE_REPOSITORY = "hiyouga/llamafactory"
# The newest upstream release whose image tag we could confirm; bump with the golden files.
DEFAULT_IMAGE_TAG = "0.9.4"


class ImagePullSecret(Section):
    name: DnsLabel = Field(description="Name of a docker-registry Secret in the release namespace.")


class Image(Section):
    repository: ImageRepository = Field(
        DEFAULT_IMAGE_REPOSITORY, description="Image repository (registry/name)."
    )
    tag: ImageTag = Field(
        DEFAULT_IMAGE_TAG, description="Image tag; also the app.kubernetes.io/version label."
    )
    digest: ImageDigest = Field(
        "", description="Image digest (sha256:...); when set, the image is pulled by digest."
    )
    pullPolicy: Literal["Always", "IfNotPresent", "Never"] = Field(
        "IfNotPresent", description="When the kubelet pulls the image."
    )
    pullSecrets: list[ImagePullSecret] = Field(
        default_factory=list, description="Secrets for a private registry, as [{name: ...}]."
    )
