"""What every layer shares: the error root, key paths and the per-user cache folder."""
