"""Checks that span several keys: contradictions a type check cannot see."""

from __future__ import annotations

from decimal import Decimal

from lmfchart.base.keypath import KeyPath
from lmfchart.model.values import VOLUME_NAMES, Values

Problem = tuple[KeyPath, str]

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "k": Decimal(10**3),
            "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12),
            "P": Decimal(10**15), "E": Decimal(10**18)}


def quantity_value(quantity: str | int | float) -> Decimal:
    """The number a (format-checked) Kubernetes quantity stands for."""
    text = str(quantity)
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * factor
    if text[-1:] in _DECIMAL:
        return Decimal(text[:-1]) * _DECIMAL[text[-1]]
    return Decimal(text)


def cross_check(values: Values) -> list[Problem]:
    problems: list[Problem] = []
    problems += _check_ingress(values)
    problems += _check_storage(values)
    problems += _check_resources(values)
    problems += _check_image(values)
    problems += _check_command(values)
    problems += _check_env(values)
    return problems


def chart_env(values: Values) -> dict[str, str]:
    """Variables the chart itself sets for these values, and the key that controls each.

    Keep in step with templates/manifests/deployment.yaml.j2 (a test compares them).
    """
    managed = {
        "GRADIO_SERVER_NAME": "(always set)",
        "GRADIO_SERVER_PORT": "(always set)",
        "GRADIO_ANALYTICS_ENABLED": "(always set)",
    }
    if values.ingress.enabled and values.ingress.path != "/":
        managed["GRADIO_ROOT_PATH"] = "ingress.path"
    if values.hub.source == "modelscope":
        managed["USE_MODELSCOPE_HUB"] = "hub.source"
    if values.hub.source == "openmind":
        managed["USE_OPENMIND_HUB"] = "hub.source"
    for name, key, value in (
        ("HF_ENDPOINT", "hub.hfEndpoint", values.hub.hfEndpoint),
        ("HTTP_PROXY", "proxy.httpProxy", values.proxy.httpProxy),
        ("HTTPS_PROXY", "proxy.httpsProxy", values.proxy.httpsProxy),
        ("NO_PROXY", "proxy.noProxy", values.proxy.noProxy),
    ):
        if value:
            managed[name] = key
    return managed


def _check_env(values: Values) -> list[Problem]:
    # Server-side apply treats env as a map keyed by name: a duplicate is an error.
    managed = chart_env(values)
    return [
        (("env", name), f"{name} is set by the chart ({managed[name]}); "
         "change that key instead of env")
        for name in values.env
        if name in managed
    ]


def _check_ingress(values: Values) -> list[Problem]:
    ingress = values.ingress
    if ingress.enabled and not ingress.host and not ingress.domain:
        return [(("ingress",), "ingress.enabled is true but neither ingress.host nor "
                 "ingress.domain is set: give one so the Ingress has a host")]
    if ingress.tls.secretName and not (ingress.host or ingress.domain):
        return [(("ingress", "tls", "secretName"), "TLS needs a host: set ingress.host or "
                 "ingress.domain")]
    return []


def _check_storage(values: Values) -> list[Problem]:
    problems: list[Problem] = []
    mounts: dict[str, str] = {"/dev/shm": "shm"} if values.shm.enabled else {}
    for name in VOLUME_NAMES:
        volume = getattr(values.storage, name)
        path: KeyPath = ("storage", name)
        if volume.type == "none":
            continue
        if volume.type == "hostPath" and not volume.hostPath:
            problems.append(((*path, "hostPath"), "type hostPath needs hostPath, an absolute "
                             "folder on the node"))
        if volume.type == "existingClaim" and not volume.existingClaim:
            problems.append(((*path, "existingClaim"), "type existingClaim needs the name "
                             "of an existing PersistentVolumeClaim"))
        mount = volume.mountPath.rstrip("/") or "/"
        if mount in mounts:
            problems.append(((*path, "mountPath"), f"mountPath {volume.mountPath!r} is "
                             f"already used by {mounts[mount]}"))
        mounts[mount] = f"storage.{name}"
    return problems


def _check_resources(values: Values) -> list[Problem]:
    problems: list[Problem] = []
    resources = values.resources
    gpu = values.gpu
    if gpu.count > 0:
        for part in ("limits", "requests"):
            if gpu.resourceName in getattr(resources, part):
                problems.append(((("resources", part, gpu.resourceName)), (
                    f"gpu.count is {gpu.count} and resources.{part} also names "
                    f"{gpu.resourceName}: set GPUs in one place only (gpu.count)")))
    for name, request in resources.requests.items():
        limit = resources.limits.get(name)
        if limit is not None and quantity_value(request) > quantity_value(limit):
            problems.append((("resources", "requests", name), (
                f"request {request} is more than the limit {limit}; Kubernetes rejects that")))
    return problems


def _check_image(values: Values) -> list[Problem]:
    image = values.image
    if not image.tag and not image.digest:
        return [(("image", "tag"), "an empty image.tag needs image.digest: the image "
                 f"would be {image.repository + ':'!r}, which no registry can pull")]
    return []


def _check_command(values: Values) -> list[Problem]:
    # Upstream images newer than mid-2024 ship without a start command.
    if values.image.repository.endswith("hiyouga/llamafactory") and not values.command:
        return [(("command",), "hiyouga/llamafactory images have no start command: set "
                 "command, e.g. [llamafactory-cli, webui]")]
    return []
