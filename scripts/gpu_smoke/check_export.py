"""Load the merged model that `llamafactory-cli export` wrote and show it learned.

Usage: python check_export.py --base DIR --merged DIR --dataset FILE.json [--require-gpu]

Prints the device, the merged model's files, a short greedy generation, and the mean loss
of the base model and of the merged model on the answers of the training rows. Exits 1
when the merged model is not better than the base model (the adapter was not merged).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerBase


def prompt_text(row: dict[str, str]) -> str:
    # LLaMA-Factory's alpaca reader joins instruction and input with a newline.
    return "\n".join(part for part in (row["instruction"], row["input"]) if part)


def encode_row(tokenizer: PreTrainedTokenizerBase, row: dict[str, str]) -> tuple[list[int], int]:
    """Token ids of prompt + answer + eos, and where the answer starts."""
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt_text(row)}], tokenize=False
    )
    prompt_ids = tokenizer.encode(chat, add_special_tokens=False)
    answer_ids = tokenizer.encode(row["output"], add_special_tokens=False)
    return [*prompt_ids, *answer_ids, tokenizer.eos_token_id], len(prompt_ids)


def answer_loss(
    model: torch.nn.Module,
    tokenizer: PreTrainedTokenizerBase,
    rows: list[dict[str, str]],
    device: torch.device,
) -> float:
    """Mean cross-entropy over the answer tokens only, as supervised fine-tuning scores them."""
    total, count = 0.0, 0
    with torch.no_grad():
        for row in rows:
            ids, answer_start = encode_row(tokenizer, row)
            input_ids = torch.tensor([ids], device=device)
            labels = input_ids.clone()
            labels[0, :answer_start] = -100
            answer_tokens = len(ids) - answer_start
            loss = model(input_ids=input_ids, labels=labels).loss
            total += float(loss) * answer_tokens
            count += answer_tokens
    return total / count


def load(directory: Path, device: torch.device) -> torch.nn.Module:
    model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32)
    return model.to(device).eval()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--merged", type=Path, required=True)
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--require-gpu", action="store_true")
    args = parser.parse_args()

    if args.require_gpu and not torch.cuda.is_available():
        print("no CUDA device visible", file=sys.stderr)
        return 1
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {device} ({name}), torch {torch.__version__}")
    for path in sorted(args.merged.iterdir()):
        print(f"  {path.stat().st_size:>10,}  {path.name}")

    rows = json.loads(args.dataset.read_text(encoding="utf-8"))
    # The merged folder's tokenizer carries the chat template the export wrote.
    tokenizer = AutoTokenizer.from_pretrained(args.merged)
    merged = load(args.merged, device)
    base = load(args.base, device)

    ids, answer_start = encode_row(tokenizer, rows[0])
    prompt = torch.tensor([ids[:answer_start]], device=device)
    generated = merged.generate(
        input_ids=prompt,
        attention_mask=torch.ones_like(prompt),
        max_new_tokens=8,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
    )
    answer = tokenizer.decode(generated[0, answer_start:], skip_special_tokens=True)
    print(f"prompt: {prompt_text(rows[0])!r}")
    print(f"merged model generates: {answer!r}")

    base_loss = answer_loss(base, tokenizer, rows, device)
    merged_loss = answer_loss(merged, tokenizer, rows, device)
    print(f"answer loss on the {len(rows)} training rows: base {base_loss:.4f}, "
          f"merged {merged_loss:.4f}")
    if merged_loss >= base_loss:
        print("the merged model is not better than the base model", file=sys.stderr)
        return 1
    print("merged model is better than the base model: the adapter was merged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
