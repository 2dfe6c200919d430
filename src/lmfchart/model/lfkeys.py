"""What the pinned LLaMA-Factory accepts, as the values model asks it.

TEMPORARY: backed by short lists until the generated catalogue lands.
"""

from __future__ import annotations

LLAMAFACTORY_VERSION = "0.9.5"


def stages() -> tuple[str, ...]:
    return ("dpo", "kto", "ppo", "pt", "rm", "sft")


def templates() -> tuple[str, ...]:
    return ("alpaca", "default", "empty", "llama3", "qwen", "qwen3", "yi")


def infer_backends() -> tuple[str, ...]:
    return ("huggingface", "sglang", "vllm")


def key_problem(kind: str, key: str, value: object) -> str | None:
    if key == "warmup_ratio":
        return "warmup_ratio was removed in transformers 5: use warmup (warmup_steps)"
    return None


def known_keys(kind: str) -> tuple[str, ...]:
    return ()


def extra_names_schema(kind: str, typed: tuple[str, ...]) -> dict[str, object]:
    """JSON Schema for the key names `extra` may hold."""
    return {"not": {"enum": sorted({*typed, "warmup_ratio"})}}
