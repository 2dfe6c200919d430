"""Release identity: the defaults and the names Helm would accept."""

from __future__ import annotations

from lmfchart import formats
from lmfchart.errors import UsageError

DEFAULT_RELEASE = "lmf"  # the seed chart's documented release name
DEFAULT_NAMESPACE = "default"
# Helm's own limit: release names become parts of object names and label values.
MAX_RELEASE_NAME = 53


def check_release(release: str, namespace: str) -> None:
    problem = formats.dns_label(release)
    if problem or len(release) > MAX_RELEASE_NAME:
        raise UsageError(
            f"release name {release!r}: {problem or ''} "
            f"(at most {MAX_RELEASE_NAME} characters, like Helm)".replace("  ", " ")
        )
    problem = formats.dns_label(namespace)
    if problem:
        raise UsageError(f"namespace {namespace!r}: {problem}")
