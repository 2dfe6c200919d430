"""End-to-end tests against a real control plane (see docs/testenv.md)."""
