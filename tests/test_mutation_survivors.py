"""Behaviour that mutation testing (mutmut, README "Tests") showed no other fast test pinned."""

from __future__ import annotations
