"""Values that are wrong in one place each, in a way the chart's schema can also express."""

from __future__ import annotations

from typing import Any

KeyPath = tuple[str, ...]

WRONG_VALUES: list[tuple[KeyPath, Any]] = [
    (("gpu", "count"), -1),
    (("image", "pullPolicy"), "Sometimes"),
    (("image", "tagg"), "1.0"),
    (("image", "digest"), "sha256:short"),
    (("service", "port"), 70000),
    (("service", "type"), "Ingress"),
    (("storage", "saves", "type"), "nfs"),
    (("ingress", "host"), "Bad_Host"),
    (("ingress", "path"), "no-slash"),
    (("podLabels", "team"), "a b"),
    (("env", "1BAD"), "x"),
    (("resources", "limits", "memory"), "lots"),
    (("probes", "liveness", "periodSeconds"), 0),
    (("shm", "enabled"), "yes"),
    (("terminationGracePeriodSeconds",), "30"),
    (("command",), "llamafactory-cli webui"),
    (("fullnameOverride",), "Bad_Name"),
    (("unknownKey",), 1),
]


def with_value(values: dict[str, Any], path: KeyPath, value: Any) -> dict[str, Any]:
    """`values` with `value` set at `path` (in place, creating maps on the way)."""
    target = values
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return values
