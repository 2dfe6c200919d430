"""Read values written for the seed chart, and the `repo:tag` image shorthand.

The translation runs once, on the merged user values, so `--set` reaches the seed keys
of a seed-layout file (`--set imagePullPolicy=Always`). Where a seed key and its new name
come from different layers, the later layer wins, as it would for one key; both in one
layer is an error. Every error names the key as the user wrote it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lmfchart.base.errors import InputError
from lmfchart.base.keypath import KeyPath, format_path
from lmfchart.inputs.merge import copy_tree, merge_maps
from lmfchart.inputs.origins import Origin, Origins

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
    def __init__(self, data: dict[str, Any], origins: Origins) -> None:
        self.data = data
        self.origins = origins
        # File -> its place among the layers, so notes and blame follow the command line.
        self.seed_layers: dict[str, int] = {}

    def fail(self, path: KeyPath, message: str) -> InputError:
        return InputError([self.origins.issue(path, message)])

    def saw_seed_key(self, path: KeyPath) -> None:
        origin = self.origins.find(path)
        # Only a file switches the seed layout on; a flag alone just uses the old name.
        if origin and origin.from_file:
            self.seed_layers.setdefault(origin.source, origin.order)

    @property
    def seed_sources(self) -> list[str]:
        return sorted(self.seed_layers, key=self.seed_layers.__getitem__)

    def old_wins(self, old: KeyPath, new: KeyPath, what: str) -> bool:
        """Which of a seed key and its new name, both given, the user meant (later wins)."""
        old_origin, new_origin = self.origins.find(old), self.origins.find(new)
        old_order = old_origin.order if old_origin else -1
        new_order = new_origin.order if new_origin else -1
        if old_order == new_order:
            raise self.fail(old, f"given twice: as {what} (seed layout) and "
                            f"{format_path(new)}; keep one")
        return old_order > new_order

    def rename(
        self, source: dict[str, Any], old: KeyPath, target: dict[str, Any], new: KeyPath
    ) -> None:
        self.saw_seed_key(old)
        value = source.pop(str(old[-1]))
        if new[-1] in target and not self.old_wins(old, new, format_path(old)):
            self.origins.forget_below(old)
            return
        target[str(new[-1])] = value
        self.origins.forget_below(new)
        self.origins.move(old, new, written=old)

    def image(self) -> None:
        image = self.data.get("image")
        if isinstance(image, str):
            self.data["image"] = split_image(image)
            origin = self.origins.find(("image",))
            if origin:
                for key in ("repository", "tag", "digest"):
                    self.origins.alias(("image", key), written=("image",), origin=origin)
        if "imagePullPolicy" not in self.data:
            return
        target = self.data.setdefault("image", {})
        if not isinstance(target, dict):
            raise self.fail(("image",), "expected a mapping or repo:tag string")
        self.rename(self.data, ("imagePullPolicy",), target, ("image", "pullPolicy"))

    def ingress(self) -> None:
        ingress = self.data.get("ingress")
        if not isinstance(ingress, dict):
            return
        for old, new in SEED_INGRESS_KEYS.items():
            if old in ingress:
                self.rename(ingress, ("ingress", old), ingress, ("ingress", new))

    def volumes(self) -> None:
        if "volume" not in self.data:
            return
        self.saw_seed_key(("volume",))
        volume = self.data.pop("volume")
        if volume is None:
            return
        if not isinstance(volume, dict):
            raise self.fail(("volume",), "expected a mapping of hfcache, data, output paths")
        storage = self.data.setdefault("storage", {})
        if not isinstance(storage, dict):
            raise self.fail(("storage",), "expected a mapping")
        for key, path in volume.items():
            written = ("volume", key)
            if key not in SEED_VOLUMES:
                raise self.fail(written, "unknown seed volume: expected one of "
                                + ", ".join(SEED_VOLUMES))
            if not isinstance(path, str):
                raise self.fail(written, f"expected a host path string, got {path!r}")
            name, mount = SEED_VOLUMES[key]
            # The seed chart mounts a hostPath only for non-empty paths.
            seeded: dict[str, Any] = (
                {"type": "hostPath", "hostPath": path, "hostPathType": "Directory",
                 "mountPath": mount}
                if path else {"type": "none"}
            )
            target = ("storage", name)
            origin = self.origins.find(written)
            existing = storage.get(name)
            if isinstance(existing, dict) and not self.old_wins(written, target,
                                                                 f"volume.{key}"):
                # A later layer wrote storage.<name>: its keys win over the seed path's.
                merge_maps(seeded, existing)
                storage[name] = seeded
                continue
            if isinstance(existing, dict):
                merge_maps(existing, seeded)
            else:
                storage[name] = seeded
                self.origins.forget_below(target)
            if origin:
                for sub in ((), *((k,) for k in seeded)):
                    self.origins.alias((*target, *sub), written=written, origin=origin)

    def seed_defaults(self) -> None:
        if not self.seed_sources:
            return
        # The seed image (kubeagi/llama-factory:v0.6.1) starts itself; a command breaks it.
        implied = {"seedCompatibility": True, "command": []}
        for key, value in implied.items():
            if key not in self.data:
                self.data[key] = value
                # Blame what the seed layout implies on the file written in it.
                self.origins.set((key,), Origin(self.seed_sources[0], None, 0))
        # The seed chart exposed the web UI with no login; its users keep it, with a warning.
        ingress = self.data.get("ingress")
        if isinstance(ingress, dict) and "allowAnonymous" not in ingress:
            ingress["allowAnonymous"] = True
            self.origins.set(("ingress", "allowAnonymous"), Origin(self.seed_sources[0], None, 0))


def translate_seed_layout(data: dict[str, Any], origins: Origins) -> Translation:
    """Rewrite merged user values from the seed layout into the canonical one (a copy)."""
    translator = _Translator(copy_tree(data), origins)
    translator.volumes()
    translator.ingress()
    translator.image()
    translator.seed_defaults()
    notes = [f"{source}: read in the seed chart's layout (seedCompatibility: true)"
             for source in translator.seed_sources]
    return Translation(translator.data, notes)

