"""Helm's release record format (pure: no cluster access)."""
