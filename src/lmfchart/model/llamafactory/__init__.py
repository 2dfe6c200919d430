"""What the pinned LLaMA-Factory accepts: its keys, types, stages and templates."""
