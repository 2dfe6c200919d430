"""Release names: the defaults and the names Helm would accept.

"Release name" is the string a user picks (`lmf`); Helm's stored release record is a
different thing and lives with the cluster code.
"""

from __future__ import annotations

from lmfchart.base.errors import UsageError
from lmfchart.model import formats

# The chart lmfchart makes; named helpers are "<chart>.<helper>".
CHART_NAME = "llama-factory"
DEFAULT_RELEASE_NAME = "lmf"  # the seed chart's documented release name
DEFAULT_NAMESPACE = "default"
# Helm's own limit: release names become parts of object names and label values.
MAX_RELEASE_NAME = 53


def check_release_name(release_name: str, namespace: str) -> None:
    if len(release_name) > MAX_RELEASE_NAME:
        raise UsageError(
            f"release name {release_name!r}: {len(release_name)} characters is too long "
            f"(at most {MAX_RELEASE_NAME} characters, like Helm)"
        )
    problem = formats.dns_label(release_name)
    if problem:
        raise UsageError(f"release name {release_name!r}: {problem}")
    problem = formats.dns_label(namespace)
    if problem:
        raise UsageError(f"namespace {namespace!r}: {problem}")
