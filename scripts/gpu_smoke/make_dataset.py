"""Write the GPU smoke run's 20-row alpaca dataset and its dataset_info.json.

Usage: python make_dataset.py DIR [--name NAME]

The rows are short and repetitive on purpose: a model of about 130k parameters must
visibly lower its loss on them within 20 LoRA steps.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DATASET_NAME = "smoke_alpaca"

# Our own rows: colours of things, so that answers repeat a small vocabulary.
_FACTS = [
    ("the sky on a clear day", "blue"),
    ("fresh grass", "green"),
    ("a ripe banana", "yellow"),
    ("fresh snow", "white"),
    ("coal", "black"),
    ("a ripe tomato", "red"),
    ("an orange", "orange"),
    ("a lemon", "yellow"),
    ("the sea on a sunny day", "blue"),
    ("a fir tree", "green"),
]

ROWS: list[dict[str, str]] = [
    row
    for thing, colour in _FACTS
    for row in (
        {"instruction": f"What colour is {thing}?", "input": "", "output": f"It is {colour}."},
        {
            "instruction": "Name the colour of the thing below.",
            "input": thing,
            "output": f"The colour is {colour}.",
        },
    )
]


def write_dataset(*, directory: Path, name: str = DATASET_NAME) -> Path:
    """Write NAME.json and dataset_info.json into DIRECTORY; return the data file."""
    directory.mkdir(parents=True, exist_ok=True)
    data_file = directory / f"{name}.json"
    data_file.write_text(json.dumps(ROWS, indent=2) + "\n", encoding="utf-8")
    info = {name: {"file_name": data_file.name}}
    info_file = directory / "dataset_info.json"
    info_file.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return data_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--name", default=DATASET_NAME)
    args = parser.parse_args()
    data_file = write_dataset(directory=args.directory, name=args.name)
    print(f"wrote {len(ROWS)} rows to {data_file}")


if __name__ == "__main__":
    main()
