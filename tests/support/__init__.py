"""Helpers shared by the test suites: real third-party binaries, fetched at run time."""
