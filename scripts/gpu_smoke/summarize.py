"""Print the part of run.sh's logs that matters: settings, losses, merge, check, files.

Usage: python summarize.py RUN_OUT_DIR > docs/gpu-run/NAME.txt
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

# LLaMA-Factory's own lines that say what ran: launch, ranks, parameters, merge, saving.
_KEPT = re.compile(
    r"llamafactory\.(launcher|hparams\.parser|model\.loader|model\.adapter|train\.tuner)"
    r"|^\s+\w+\s+=\s|\*\*\*\*\* train metrics"
)
# The trainer prints one dict per logging step inside tqdm's carriage-return updates.
_LOSS = re.compile(r"\{'(?:loss|train_runtime)'[^}]*\}")
_LOGS = ("train.log", "node0.log", "node1.log", "gpus.log", "export.log")


def container_log(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    kept = []
    for line in text.replace("\r", "\n").splitlines():
        losses = _LOSS.findall(line)
        if losses:
            kept += losses
        elif _KEPT.search(line):
            kept.append(line.rstrip())
    return kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    sections = [("env.txt", (args.directory / "env.txt").read_text().splitlines())]
    sections += [(name, container_log(args.directory / name))
                 for name in _LOGS if (args.directory / name).is_file()]
    check = (args.directory / "check.log").read_text().replace("\r", "\n").splitlines()
    sections.append(
        ("check.log", [line for line in check if line and "Loading weights" not in line])
    )
    sections.append(("files.txt", (args.directory / "files.txt").read_text().splitlines()))
    for name, lines in sections:
        print(f"===== {name}")
        print("\n".join(lines))
        print()


if __name__ == "__main__":
    main()
