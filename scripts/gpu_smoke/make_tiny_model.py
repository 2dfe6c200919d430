"""Build a tiny random LLaMA model and its own BPE tokenizer, with a fixed seed.

Usage: python make_tiny_model.py DIR

About 130k parameters (2 layers, hidden size 64, 4 attention heads, 2 key/value heads):
enough for LLaMA-Factory to train and merge a LoRA adapter on a GPU in seconds, with no
download from any hub. The tokenizer has no chat template on purpose: LLaMA-Factory's
`default` template supplies one, and the export writes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from make_dataset import ROWS
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

SEED = 20261130
VOCAB_SIZE = 512
SPECIAL_TOKENS = ["<s>", "</s>", "<unk>", "<pad>"]

# Words the default template and the rows use, so the tokenizer learns them as merges.
_CORPUS_EXTRA = [
    "Human: Assistant: System: You are a helpful assistant.",
    "What colour is it? The colour is red, green, blue, yellow, white, black or orange.",
]


def train_tokenizer() -> PreTrainedTokenizerFast:
    corpus = _CORPUS_EXTRA + [" ".join(row.values()) for row in ROWS]
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    # Byte-level pieces: any text encodes, none of it maps to <unk>.
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus * 4, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="<pad>",
    )


def build_model(tokenizer: PreTrainedTokenizerFast) -> LlamaForCausalLM:
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(SEED)
    return LlamaForCausalLM(config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args()
    tokenizer = train_tokenizer()
    model = build_model(tokenizer)
    args.directory.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(args.directory)
    model.save_pretrained(args.directory)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"wrote a {parameters:,}-parameter LLaMA model, vocabulary {len(tokenizer)}, "
          f"to {args.directory}")


if __name__ == "__main__":
    main()
