"""Use cases: one function per command, keyword-only, no terminal and no flags parsing."""
