"""Checks that span several keys: contradictions a type check cannot see.

Each rule is written once as expressions (`lmfchart.model.expr`): `cross_check` evaluates
them for `load_values`, and the chart carries the same rules as `fail` guards, so
`helm template` and `helm install` refuse what lmfchart refuses, with the same message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lmfchart.base.keypath import KeyPath
from lmfchart.model import formats
from lmfchart.model.chartenv import CHART_VARIABLES, WORKLOAD_VARIABLE_NAMES
from lmfchart.model.expr import (
    AnyText,
    Binding,
    EntryValue,
    Expr,
    Literal,
    Scope,
    Value,
    and_,
    eq,
    go_truth,
    gt,
    has,
    has_key,
    has_prefix,
    has_suffix,
    index,
    ne,
    not_,
    num,
    or_,
    printf,
    trim_slashes,
)
from lmfchart.model.ingressannotations import INGRESS_ANNOTATIONS, IS_NGINX
from lmfchart.model.quantities import Quantity
from lmfchart.model.sections.security import NON_ROOT_HOME, NON_ROOT_POD_KEYS
from lmfchart.model.values import VOLUME_NAMES, Values

Problem = tuple[KeyPath, str]

ENTRY_KEY = Binding("key")
ENTRY_VALUE = Binding("value")


@dataclass(frozen=True)
class Rule:
    """Values break the rule when `broken` holds; then `message` says why, at `key`."""

    key: tuple[str | Expr, ...]
    broken: Expr
    message: Expr
    each: Expr | None = None
    """A map value: the rule is checked for every entry, with ENTRY_KEY and ENTRY_VALUE."""


def volume_in_use(name: str) -> Expr:
    return ne(Value(f"storage.{name}.type"), "none")


def volume_is(name: str, kind: str) -> Expr:
    return eq(Value(f"storage.{name}.type"), kind)


def _has_host() -> Expr:
    return or_(Value("ingress.host"), Value("ingress.domain"))


TLS_BY_CERT_MANAGER = or_(Value("ingress.tls.certManager.issuer"),
                          Value("ingress.tls.certManager.clusterIssuer"))
INGRESS_TLS = or_(Value("ingress.tls.secretName"), TLS_BY_CERT_MANAGER)
_BASIC = Value("ingress.auth.basic.secretName")
_EXTERNAL = Value("ingress.auth.external.url")
_MIDDLEWARES = Value("ingress.auth.traefikMiddlewares")
INGRESS_AUTHENTICATES = or_(_BASIC, _EXTERNAL, _MIDDLEWARES)
ANONYMOUS_INGRESS = and_(Value("ingress.enabled"), not_(INGRESS_AUTHENTICATES))
_OPEN_UI = ("the web UI has no login of its own: whoever reaches it reads and writes the "
            "volumes and runs code")


def _ingress_rules() -> Iterator[Rule]:
    yield Rule(("ingress",), and_(Value("ingress.enabled"), not_(_has_host())), Literal(
        "ingress.enabled is true but neither ingress.host nor ingress.domain is set: give "
        "one so the Ingress has a host"))
    yield Rule(("ingress", "tls", "secretName"),
               and_(Value("ingress.tls.secretName"), not_(_has_host())),
               Literal("TLS needs a host: set ingress.host or ingress.domain"))
    yield Rule(("ingress", "tls", "certManager"),
               and_(TLS_BY_CERT_MANAGER, not_(_has_host())),
               Literal("TLS needs a host: set ingress.host or ingress.domain"))
    yield Rule(("ingress", "tls", "certManager"),
               and_(Value("ingress.tls.certManager.issuer"),
                    Value("ingress.tls.certManager.clusterIssuer")),
               Literal("give issuer or clusterIssuer, not both"))
    # After the host: an Ingress with no host is refused for that first.
    yield Rule(("ingress", "allowAnonymous"),
               and_(ANONYMOUS_INGRESS, _has_host(), not_(Value("ingress.allowAnonymous"))),
               Literal(f"ingress.enabled exposes the web UI without authentication ({_OPEN_UI}): "
                       "set ingress.auth (basic or external with ingress.controller nginx, "
                       "traefikMiddlewares with traefik), or ingress.allowAnonymous: true"))
    for key, given in (("basic", _BASIC), ("external", _EXTERNAL)):
        yield Rule(("ingress", "auth", key), and_(given, not_(IS_NGINX)), Literal(
            f"auth.{key} is made of ingress-nginx annotations: set ingress.controller nginx"))
    yield Rule(("ingress", "auth", "traefikMiddlewares"),
               and_(_MIDDLEWARES, ne(Value("ingress.controller"), "traefik")),
               Literal("traefikMiddlewares are Traefik's: set ingress.controller traefik"))
    yield Rule(("ingress", "auth"), and_(_BASIC, _EXTERNAL),
               Literal("give basic or external authentication, not both"))
    yield Rule(("ingress", "auth", "external", "url"),
               and_(not_(_EXTERNAL), or_(Value("ingress.auth.external.signin"),
                                         Value("ingress.auth.external.responseHeaders"))),
               Literal("signin and responseHeaders need the auth url to check requests at"))
    for annotation in INGRESS_ANNOTATIONS:
        yield Rule(("ingress", "annotations", annotation.key),
                   and_(annotation.when, has_key(Value("ingress.annotations"), annotation.key)),
                   Literal(f"{annotation.key} is set by the chart ({annotation.controlled_by}); "
                           "change that key instead of annotations"))


def _route_rules() -> Iterator[Rule]:
    route = Value("httpRoute.enabled")
    yield Rule(("httpRoute", "parentRefs"), and_(route, not_(Value("httpRoute.parentRefs"))),
               Literal("an HTTPRoute needs parentRefs: the Gateway it attaches to, e.g. "
                       "[{name: my-gateway, namespace: infra}]"))
    yield Rule(("httpRoute", "allowAnonymous"),
               and_(route, not_(Value("httpRoute.allowAnonymous"))),
               Literal(f"httpRoute.enabled exposes the web UI ({_OPEN_UI}) and the chart cannot "
                       "authenticate on an HTTPRoute: attach your Gateway's authentication and "
                       "set httpRoute.allowAnonymous: true"))
    # One GRADIO_ROOT_PATH serves both routes.
    yield Rule(("httpRoute", "path"),
               and_(route, Value("ingress.enabled"),
                    ne(trim_slashes(Value("httpRoute.path")), trim_slashes(Value("ingress.path")))),
               printf("the Ingress serves the web UI under %s: the HTTPRoute must use the same "
                      "path (the web UI has one root path)", Value("ingress.path")))


def exposure_warnings(values: Values) -> list[str]:
    """What validate and install say about values that pass but expose the web UI openly."""
    scope = Scope(values=values.model_dump(mode="json"))
    warnings = []
    if go_truth(ANONYMOUS_INGRESS.eval(scope)):
        warnings.append(f"the Ingress exposes the web UI without authentication "
                        f"(ingress.allowAnonymous); {_OPEN_UI}")
    if values.httpRoute.enabled:
        warnings.append(f"the HTTPRoute has no authentication of the chart's "
                        f"(httpRoute.allowAnonymous): {_OPEN_UI}, unless the Gateway "
                        "authenticates")
    return warnings


def _storage_rules() -> Iterator[Rule]:
    mounts: list[tuple[str, Expr, Expr]] = [("shm", Value("shm.enabled"), Literal("/dev/shm"))]
    for name in VOLUME_NAMES:
        prefix = f"storage.{name}."
        yield Rule(("storage", name, "hostPath"),
                   and_(volume_is(name, "hostPath"), not_(Value(prefix + "hostPath"))),
                   Literal("type hostPath needs hostPath, an absolute folder on the node"))
        yield Rule(("storage", name, "existingClaim"),
                   and_(volume_is(name, "existingClaim"), not_(Value(prefix + "existingClaim"))),
                   Literal("type existingClaim needs the name of an existing "
                           "PersistentVolumeClaim"))
        mount = Value(prefix + "mountPath")
        for other, other_in_use, other_mount in mounts:
            yield Rule(
                ("storage", name, "mountPath"),
                and_(volume_in_use(name), other_in_use,
                     eq(trim_slashes(mount), trim_slashes(other_mount))),
                printf(f"mountPath '%s' is already used by {other}", mount),
            )
        mounts.append((f"storage.{name}", volume_in_use(name), mount))


def _security_rules() -> Iterator[Rule]:
    non_root = Value("security.nonRoot")
    for name in VOLUME_NAMES:
        mount = Value(f"storage.{name}.mountPath")
        # /root is mode 700 in the upstream image: another user cannot reach a mount below it.
        yield Rule(("storage", name, "mountPath"),
                   and_(non_root, volume_in_use(name), has_prefix("/root/", printf("%s/", mount))),
                   printf("security.nonRoot cannot reach '%s' below /root (only root may enter "
                          f"it): mount it below {NON_ROOT_HOME}, e.g. "
                          f"{NON_ROOT_HOME}/.cache/<name>", mount))
    context = Value("securityContext")
    # The API server refuses a privileged container that may not escalate privileges, and
    # the chart's default securityContext says allowPrivilegeEscalation: false.
    yield Rule(("securityContext", "privileged"),
               and_(index(context, "privileged"), has_key(context, "allowPrivilegeEscalation"),
                    not_(index(context, "allowPrivilegeEscalation"))),
               Literal("privileged: true contradicts allowPrivilegeEscalation: false (the "
                       "chart's default), which Kubernetes refuses: also set "
                       "securityContext.allowPrivilegeEscalation to null or true"))
    for key in NON_ROOT_POD_KEYS:
        yield Rule(("podSecurityContext", key),
                   and_(non_root, has_key(Value("podSecurityContext"), key)),
                   Literal(f"security.nonRoot sets {key}; set security.runAsUser and "
                           "security.runAsGroup instead"))


def _resource_rules() -> Iterator[Rule]:
    gpus, resource_name = Value("gpu.count"), Value("gpu.resourceName")
    for part in ("limits", "requests"):
        yield Rule(
            ("resources", part, resource_name),
            and_(gpus, has_key(Value(f"resources.{part}"), resource_name)),
            printf(f"gpu.count is %v and resources.{part} also names %s: set GPUs in one "
                   "place only (gpu.count)", gpus, resource_name),
        )
    limits = Value("resources.limits")
    limit = index(limits, ENTRY_KEY)
    yield Rule(
        ("resources", "requests", ENTRY_KEY),
        and_(has_key(limits, ENTRY_KEY), gt(Quantity(ENTRY_VALUE), Quantity(limit))),
        printf("request %v is more than the limit %v; Kubernetes rejects that",
               ENTRY_VALUE, limit),
        each=Value("resources.requests"),
    )


def _image_rules() -> Iterator[Rule]:
    repository = Value("image.repository")
    yield Rule(("image", "tag"), and_(not_(Value("image.tag")), not_(Value("image.digest"))),
               printf("an empty image.tag needs image.digest: the image would be '%s:', "
                      "which no registry can pull", repository))
    # Upstream images newer than mid-2024 ship without a start command.
    yield Rule(("command",),
               and_(has_suffix("hiyouga/llamafactory", repository), not_(Value("command"))),
               Literal("hiyouga/llamafactory images have no start command: set command, "
                       "e.g. [llamafactory-cli, webui]"))


def _env_rules() -> Iterator[Rule]:
    # Server-side apply treats env as a map keyed by name: a duplicate is an error.
    for variable in CHART_VARIABLES:
        shadowed = has_key(Value("env"), variable.name)
        yield Rule(
            ("env", variable.name),
            shadowed if variable.when is None else and_(variable.when, shadowed),
            Literal(f"{variable.name} is set by the chart ({variable.controlled_by}); "
                    "change that key instead of env"),
        )


def _workload_rules() -> Iterator[Rule]:
    output_type = Value("storage.output.type")
    lost = or_(eq(output_type, "emptyDir"), eq(output_type, "none"))
    for kind in ("train", "export"):
        yield Rule(
            (kind,), and_(Value(kind), lost),
            printf(f"{kind} Jobs write to storage.output, which is %s: their results would "
                   "be lost with the pod; make storage.output a pvc, existingClaim or hostPath "
                   "(--set storage.output.type=pvc)",
                   output_type),
        )

    def run(path: str) -> EntryValue:
        return EntryValue("value", "train", path)

    several = gt(run("nodes"), num(1))
    yield Rule(("train", ENTRY_KEY, "nodes"), and_(several, eq(output_type, "hostPath")),
               Literal("runs on several nodes need one shared storage.output (pvc or "
                       "existingClaim); a hostPath folder differs on every node"),
               each=Value("train"))
    yield Rule(("train", ENTRY_KEY, "nodes"),
               and_(several, eq(output_type, "pvc"),
                    not_(has("ReadWriteMany", Value("storage.output.accessModes")))),
               Literal("runs on several nodes mount storage.output on every node: give it "
                       "accessModes [ReadWriteMany]"),
               each=Value("train"))
    yield Rule(("train", ENTRY_KEY, "gpus"), and_(several, not_(run("gpus"))),
               Literal("runs on several nodes need at least one GPU per node"),
               each=Value("train"))
    yield Rule(("train", ENTRY_KEY, "datasetDir"),
               and_(run("datasetDir"), run("datasetInfo")),
               Literal("give datasetInfo (the chart writes dataset_info.json) or datasetDir "
                       "(a folder holding yours), not both"),
               each=Value("train"))

    yield Rule(("train", ENTRY_KEY, "stage"),
               and_(eq(run("stage"), "ppo"), not_(has_key(run("extra"), "reward_model"))),
               Literal("stage ppo needs a reward model: set extra.reward_model (a path or hub "
                       "id)"),
               each=Value("train"))

    def export(path: str) -> EntryValue:
        return EntryValue("value", "export", path)

    lora = eq(export("method"), "lora")
    # LLaMA-Factory would silently write the base model unchanged.
    yield Rule(("export", ENTRY_KEY, "adapter"), and_(lora, not_(export("adapter"))),
               Literal("a LoRA export needs the adapter to merge (the trained run's output, "
                       "e.g. /app/output/train/NAME); without one the base model is exported "
                       "unchanged"),
               each=Value("export"))
    yield Rule(("export", ENTRY_KEY, "adapter"), and_(not_(lora), export("adapter")),
               printf("an adapter is merged only for method lora, not %s",
                      export("method")),
               each=Value("export"))
    yield Rule(("api", "model"), and_(Value("api.enabled"), not_(Value("api.model"))),
               Literal("api.enabled needs api.model: the model to serve"))
    routed = or_(Value("ingress.enabled"), Value("httpRoute.enabled"))
    yield Rule(("api", "ingressPath"),
               and_(Value("api.ingressPath"), Value("api.enabled"), not_(routed)),
               Literal("api.ingressPath is a path on the web UI's Ingress: set ingress.enabled "
                       "(or httpRoute.enabled)"))
    yield Rule(("api", "ingressPath"),
               and_(Value("api.ingressPath"), has_suffix("/", Value("api.ingressPath"))),
               Literal("give the API's path prefix without a trailing / (e.g. /llm-api), "
                       "never / (the web UI's)"))
    workloads = or_(Value("train"), Value("export"), Value("api.enabled"))
    for name in WORKLOAD_VARIABLE_NAMES:
        yield Rule(("env", name), and_(workloads, has_key(Value("env"), name)),
                   Literal(f"{name} is set by the chart for training, export and API pods; "
                           "remove it from env"))


# Environment variable names that carry credentials by convention.
TOKEN_NAME_SUFFIXES = ("_TOKEN", "_API_KEY", "_PASSWORD", "_SECRET")
TOKEN_NAMES = ("API_KEY", "TOKEN", "PASSWORD", "SECRET")
# LLaMA-Factory keys that take a credential (the catalogue's *_token and *_api_key keys).
TOKEN_EXTRA_KEYS = ("hf_hub_token", "ms_hub_token", "om_hub_token", "hub_token",
                    "swanlab_api_key")
NEVER_INLINE = ("a secret never goes into values (they are stored in the chart and the "
                "release record): create a Secret with lmfchart secret create and reference "
                "it")


def _secret_rules() -> Iterator[Rule]:
    name = ENTRY_KEY
    looks_like_token = or_(*(eq(name, exact) for exact in TOKEN_NAMES),
                           *(has_suffix(suffix, name) for suffix in TOKEN_NAME_SUFFIXES))
    yield Rule(("env", ENTRY_KEY), looks_like_token,
               printf(f"%s looks like a credential; {NEVER_INLINE} from secrets.hfToken, "
                      "secrets.wandbApiKey, secrets.swanlabApiKey or api.apiKeySecret, or "
                      "through envFrom", name),
               each=Value("env"))
    inline_token = {key: Literal(f"{key} is a credential; {NEVER_INLINE} (secrets.hfToken "
                                 "sets HF_TOKEN for every pod)") for key in TOKEN_EXTRA_KEYS}
    for kind in ("train", "export"):
        for key in TOKEN_EXTRA_KEYS:
            yield Rule((kind, ENTRY_KEY, "extra", key),
                       has_key(EntryValue("value", kind, "extra"), key), inline_token[key],
                       each=Value(kind))
    for key in TOKEN_EXTRA_KEYS:
        yield Rule(("api", "extra", key), has_key(Value("api.extra"), key), inline_token[key])
    for tracker, reference in (("wandb", "wandbApiKey"), ("swanlab", "swanlabApiKey")):
        yield Rule(("train", ENTRY_KEY, "reportTo"),
                   and_(has(tracker, EntryValue("value", "train", "reportTo")),
                        not_(Value(f"secrets.{reference}.name"))),
                   Literal(f"reportTo {tracker} needs its API key: set secrets.{reference}.name "
                           "to a Secret holding it (lmfchart secret create); without one the "
                           "run fails at its first log line"),
                   each=Value("train"))


def _text_rules() -> Iterator[Rule]:
    # load_values refuses these while reading, naming the key; Helm users get this guard.
    yield Rule((), AnyText(formats.NOT_YAML_SAFE, formats.GO_UNSAFE_CLASS), Literal(
        f"a key or value contains a control character; {formats.PRINTABLE_ONLY}"))


RULES: tuple[Rule, ...] = (
    *_ingress_rules(), *_route_rules(), *_storage_rules(), *_security_rules(),
    *_resource_rules(), *_image_rules(), *_env_rules(), *_workload_rules(), *_secret_rules(),
    *_text_rules(),
)


def cross_check(values: Values) -> list[Problem]:
    scope = Scope(values=values.model_dump(mode="json"))
    return [
        (tuple(part if isinstance(part, str) else str(part.eval(at)) for part in rule.key),
         str(rule.message.eval(at)))
        for rule in RULES
        for at in violations(rule, scope)
    ]


def violations(rule: Rule, scope: Scope) -> Iterator[Scope]:
    """Where the values break the rule: the scope itself, or the entries of `each`."""
    if rule.each is None:
        entries = [scope]
    else:
        found: dict[str, Any] = rule.each.eval(scope) or {}
        entries = [dataclasses.replace(scope, bindings={"key": k, "value": found[k]})
                   for k in sorted(found)]
    return (entry for entry in entries if go_truth(rule.broken.eval(entry)))


def chart_env(values: Values) -> dict[str, str]:
    """Variables the chart itself sets for these values, and the key that controls each."""
    scope = Scope(values=values.model_dump(mode="json"))
    return {
        variable.name: variable.controlled_by
        for variable in CHART_VARIABLES
        if variable.when is None or variable.when.eval(scope)
    }
