"""Helm's MergeValues: every value flag applied in Helm's order, each key's origin kept.

Order: `-f` files (and documents), then `--set-json`, `--set`, `--set-string`,
`--set-file`, `--set-literal`, each in the order given; a command's own layers go under
the files (`before_files`) or over the flags (`after_flags`). The result is the user's values
exactly as Helm holds them before coalescing onto the chart's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lmfchart.base.errors import UsageError
from lmfchart.inputs.merge import coalesce, copy_tree, merge_maps
from lmfchart.inputs.options import ValueLayer, ValueOptions
from lmfchart.inputs.origins import Origin, Origins
from lmfchart.inputs.seed import split_image
from lmfchart.inputs.setvalues import apply_set, parse_json_object
from lmfchart.model.values import default_values
from lmfchart.yamlio.reading import MAX_FILE_BYTES, ValuesDocument, parse_values, read_values_file


@dataclass
class UserValues:
    """The merged user values as Helm holds them, and where each key came from."""

    data: dict[str, Any] = field(default_factory=dict)
    origins: Origins = field(default_factory=Origins)
    layers: int = 0
    image_shorthand: bool = True
    """Read `image: repo:tag` in a file as the mapping it stands for (Helm knows no such thing)."""

    def add_document(self, document: ValuesDocument) -> None:
        origin = Origin(document.source, None, self._next())
        data = document.data
        shorthand = self.image_shorthand and isinstance(data.get("image"), str)
        if shorthand:
            # lmfchart's `image: repo:tag` spells a mapping, so a later file's image.tag
            # merges into it instead of replacing it.
            data = {**data, "image": split_image(data["image"])}
        self.origins.record_file(self.data, data, document.lines, origin)
        merge_maps(self.data, data)
        if shorthand:
            line = document.lines.get(("image",))
            for key in ("repository", "tag", "digest"):
                self.origins.alias(("image", key), written=("image",),
                                   origin=replace(origin, line=line))

    def add_flag(self, flag: str, expression: str) -> None:
        before = copy_tree(self.data)
        whole = parse_json_object(expression) if flag == "--set-json" else None
        if whole is not None:
            merge_maps(self.data, whole)
        else:
            reader = _file_reader(expression) if flag == "--set-file" else None
            apply_set(self.data, expression, flag=flag, read_file=reader)
        self._blame(before, flag)

    def add_layer(self, layer: ValueLayer) -> None:
        """Merge LAYER like a values file; what it changed is blamed on its source."""
        before = copy_tree(self.data)
        merge_maps(self.data, layer.data)
        self._blame(before, layer.source)

    def _blame(self, before: dict[str, Any], source: str) -> None:
        origin = Origin(source, None, self._next(), from_file=False)
        self.origins.blame_changes(before, self.data, origin)

    def _next(self) -> int:
        self.layers += 1
        return self.layers


def _file_reader(expression: str) -> Any:
    def read(path: str) -> str:
        where = f"--set-file {expression!r}: {path or '(no file name)'}"
        try:
            if path.strip() == "-":
                import sys

                raw = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
            else:
                with Path(path).open("rb") as handle:
                    raw = handle.read(MAX_FILE_BYTES + 1)
        except FileNotFoundError as e:
            raise UsageError(f"{where}: file not found") from e
        except OSError as e:
            raise UsageError(f"{where}: cannot read the file: {e.strerror}") from e
        if len(raw) > MAX_FILE_BYTES:
            raise UsageError(f"{where}: file is larger than {MAX_FILE_BYTES // 1024} KiB")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UsageError(f"{where}: not UTF-8 text (byte offset {e.start})") from e

    return read


def merge_user_values(options: ValueOptions, *, image_shorthand: bool = True) -> UserValues:
    """Apply `options` in Helm's order to empty values."""
    merged = UserValues(image_shorthand=image_shorthand)
    for layer in options.before_files:
        merged.add_layer(layer)
    for source, text in options.documents:
        merged.add_document(parse_values(text, source=source))
    for path in options.files:
        merged.add_document(read_values_file(path))
    for flag, expressions in options.flags():
        for expression in expressions:
            merged.add_flag(flag, expression)
    for layer in options.after_flags:
        merged.add_layer(layer)
    return merged


def helm_values(options: ValueOptions, *, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `.Values` Helm gives a chart's templates for these flags.

    `defaults` is the chart's values.yaml, lmfchart's own unless given. lmfchart then reads
    the result the way Helm cannot: the seed layout, the image shorthand.
    """
    chart = default_values() if defaults is None else defaults
    data, _ = coalesce(chart, merge_user_values(options, image_shorthand=False).data)
    return data
