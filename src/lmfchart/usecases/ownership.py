"""Helm's ownership metadata: which release an object belongs to."""

from __future__ import annotations

import copy
from typing import Any

MANAGED_BY = "app.kubernetes.io/managed-by"
RELEASE_NAME = "meta.helm.sh/release-name"
RELEASE_NAMESPACE = "meta.helm.sh/release-namespace"
RESOURCE_POLICY = "helm.sh/resource-policy"


def owned(obj: dict[str, Any], *, release_name: str, namespace: str) -> dict[str, Any]:
    """OBJ with the label and annotations Helm adds before applying (not in the manifest)."""
    result = copy.deepcopy(obj)
    metadata = result.setdefault("metadata", {})
    metadata.setdefault("labels", {})[MANAGED_BY] = "Helm"
    annotations = metadata.setdefault("annotations", {})
    annotations[RELEASE_NAME] = release_name
    annotations[RELEASE_NAMESPACE] = namespace
    return result


def owner_problem(live: dict[str, Any], *, release_name: str, namespace: str) -> str | None:
    """Why LIVE cannot be adopted by the release, or None when it already belongs to it."""
    metadata = live.get("metadata") or {}
    labels = metadata.get("labels") or {}
    annotations = metadata.get("annotations") or {}
    owner = annotations.get(RELEASE_NAME)
    owner_namespace = annotations.get(RELEASE_NAMESPACE)
    if labels.get(MANAGED_BY) != "Helm" or owner is None or owner_namespace is None:
        return "belongs to no release (no Helm ownership label and annotations)"
    if (owner, owner_namespace) != (release_name, namespace):
        return f"belongs to release {owner} in namespace {owner_namespace}"
    return None


def kept(live: dict[str, Any]) -> bool:
    """`helm.sh/resource-policy: keep` on the live object: never pruned or uninstalled."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    return annotations.get(RESOURCE_POLICY) == "keep"
