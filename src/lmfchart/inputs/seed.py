"""Read values files written for the seed chart, and the `repo:tag` image shorthand.

Each layer (file or --set) is translated on its own, before merging, so a seed file and a
later overlay in the new layout combine the way a Helm user expects.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from lmfchart.base.errors import InputError
from lmfchart.base.keypath import KeyPath, format_path

SEED_VOLUMES = {
    "hfcache": ("hfCache", "/root/.cache/huggingface/"),
    "data": ("data", "/app/data"),
    "output": ("output", "/app/output"),
}
SEED_INGRESS_KEYS = {
    "enable": "enabled", "ingressClassName": "className", "ingressDomain": "domain",
}


@dataclass
class Translation:
    data: dict[str, Any]
    lines: dict[KeyPath, int]
    notes: list[str] = field(default_factory=list)


def split_image(reference: str) -> dict[str, str]:
    """`registry/name:tag@sha256:...` into repository, tag and digest (tag default: latest)."""
    rest, _, digest = reference.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        repository, tag = rest[:colon], rest[colon + 1:]
    else:
        repository, tag = rest, ("" if digest else "latest")
    return {"repository": repository, "tag": tag, "digest": digest}


class _Translator:
    def __init__(self, data: dict[str, Any], lines: dict[KeyPath, int], source: str) -> None:
        self.data = data
        self.lines = dict(lines)
        self.source = source
        self.seed_layout = False

    def move_lines(self, old: KeyPath, new: KeyPath) -> None:
        for path in [p for p in self.lines if p[: len(old)] == old]:
            self.lines[new + path[len(old):]] = self.lines.pop(path)

    def fail(self, path: KeyPath, message: str) -> InputError:
        return InputError.single(message, file=self.source, line=self.lines.get(path),
                                 key_path=format_path(path))

    def image(self) -> None:
        image = self.data.get("image")
        if isinstance(image, str):
            self.data["image"] = split_image(image)
            for key in ("repository", "tag", "digest"):
                if ("image",) in self.lines:
                    self.lines[("image", key)] = self.lines[("image",)]
        policy = self.data.pop("imagePullPolicy", None)
        if policy is not None:
            self.seed_layout = True
            target = self.data.setdefault("image", {})
            if not isinstance(target, dict):
                raise self.fail(("image",), "expected a mapping or repo:tag string")
            if "pullPolicy" in target:
                raise self.fail(("imagePullPolicy",), "given twice: as imagePullPolicy "
                                "(seed layout) and image.pullPolicy; keep one")
            target["pullPolicy"] = policy
            self.move_lines(("imagePullPolicy",), ("image", "pullPolicy"))

    def ingress(self) -> None:
        ingress = self.data.get("ingress")
        if not isinstance(ingress, dict):
            return
        for old, new in SEED_INGRESS_KEYS.items():
            if old not in ingress:
                continue
            self.seed_layout = True
            if new in ingress:
                raise self.fail(("ingress", old), f"given twice: as ingress.{old} (seed "
                                f"layout) and ingress.{new}; keep one")
            ingress[new] = ingress.pop(old)
            self.move_lines(("ingress", old), ("ingress", new))

    def volumes(self) -> None:
        if "volume" not in self.data:
            return
        self.seed_layout = True
        volume = self.data.pop("volume")
        if volume is None:
            return
        if not isinstance(volume, dict):
            raise self.fail(("volume",), "expected a mapping of hfcache, data, output paths")
        storage = self.data.setdefault("storage", {})
        for key, path in volume.items():
            if key not in SEED_VOLUMES:
                raise self.fail(("volume", key), "unknown seed volume: expected one of "
                                + ", ".join(SEED_VOLUMES))
            if not isinstance(path, str):
                raise self.fail(("volume", key), f"expected a host path string, got {path!r}")
            name, mount = SEED_VOLUMES[key]
            # The seed chart mounts a hostPath only for non-empty paths.
            storage[name] = (
                {"type": "hostPath", "hostPath": path, "hostPathType": "Directory",
                 "mountPath": mount}
                if path else {"type": "none"}
            )
            line = self.lines.get(("volume", key))
            self.move_lines(("volume", key), ("storage", name, "hostPath"))
            if line is not None:
                self.lines[("storage", name)] = line
                self.lines[("storage", name, "type")] = line

    def seed_defaults(self) -> None:
        if not self.seed_layout:
            return
        self.data.setdefault("seedCompatibility", True)
        # The seed image (kubeagi/llama-factory:v0.6.1) starts itself; a command breaks it.
        self.data.setdefault("command", [])


def translate_layer(data: dict[str, Any], lines: dict[KeyPath, int], source: str) -> Translation:
    """Rewrite one layer from the seed layout into the canonical one (in a copy)."""
    translator = _Translator(copy.deepcopy(data), lines, source)
    translator.volumes()
    translator.ingress()
    translator.image()
    translator.seed_defaults()
    notes = []
    if translator.seed_layout:
        notes.append(f"{source}: read in the seed chart's layout (seedCompatibility: true)")
    return Translation(translator.data, translator.lines, notes)
