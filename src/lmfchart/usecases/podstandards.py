"""The Pod Security Standards (baseline and restricted, latest version) on one pod template.

Each check judges a pod's metadata and spec (as rendered: plain dicts) the way the
PodSecurity admission plugin of Kubernetes 1.35 does, and names what it finds as the plugin
does (`hostPath volumes`, `runAsNonRoot != true`, ...), so a report reads like the API
server's refusal. Each finding also says which values key changes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from lmfchart.base.keypath import KeyPath

Level = Literal["baseline", "restricted"]
LEVELS: tuple[Level, ...] = ("baseline", "restricted")

Pod = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    check: str   # the plugin's name for it, e.g. "hostPath volumes"
    detail: str  # which fields, in the plugin's words where practical
    key: KeyPath | None  # the values key that changes it; None: no key does
    fix: str         # what to set it to (or do, without a key)


@dataclass(frozen=True)
class PodContext:
    """What a check needs besides the pod: which values key each chart volume comes from."""

    volume_keys: Mapping[str, str]


Check = Callable[[Pod, Pod, PodContext], Iterator[Finding]]

_BASELINE_CAPABILITIES = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})
_SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem",
})
_SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t",
                            "container_engine_t"})
_RESTRICTED_VOLUME_SOURCES = frozenset({
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image",
    "persistentVolumeClaim", "projected", "secret",
})
_APPARMOR_PREFIX = "container.apparmor.security.beta.kubernetes.io/"


def _containers(spec: Pod) -> list[Pod]:
    return [c for group in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(group) or ()]


def _context(container_or_spec: Pod) -> Pod:
    return container_or_spec.get("securityContext") or {}


def _names(containers: list[Pod]) -> str:
    noun = "container" if len(containers) == 1 else "containers"
    return f"{noun} " + ", ".join(f'"{c.get("name")}"' for c in containers)


def _quoted(items: Any) -> str:
    return ", ".join(f'"{item}"' for item in items)


def _user_namespaced(spec: Pod) -> bool:
    # hostUsers: false puts the pod in a user namespace: root there is no root on the node.
    return spec.get("hostUsers") is False


# Baseline

def host_namespaces(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    shared = [f"{f}=true" for f in ("hostNetwork", "hostPID", "hostIPC") if spec.get(f)]
    if shared:
        yield Finding("host namespaces", ", ".join(shared), None,
                      "leave hostNetwork, hostPID and hostIPC unset in the pod spec")


def privileged(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    bad = [c for c in _containers(spec) if _context(c).get("privileged") is True]
    if bad:
        yield Finding("privileged", f"{_names(bad)} must not set "
                      "securityContext.privileged=true", ("securityContext", "privileged"), "false")


def capabilities_baseline(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    added = {c.get("name"): [a for a in (_context(c).get("capabilities") or {}).get("add") or ()
                             if a not in _BASELINE_CAPABILITIES]
             for c in _containers(spec)}
    bad = [c for c in _containers(spec) if added[c.get("name")]]
    if bad:
        caps = sorted({a for names in added.values() for a in names})
        yield Finding("non-default capabilities",
                      f"{_names(bad)} must not include {_quoted(caps)} in "
                      "securityContext.capabilities.add",
                      ("securityContext", "capabilities", "add"),
                      "only capabilities of the container runtime's default set")


def host_path_volumes(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    for volume in spec.get("volumes") or ():
        if volume.get("hostPath") is not None:
            yield _volume_finding("hostPath volumes", volume, ctx, "hostPath")


def host_ports(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    bad = [c for c in _containers(spec) if any(p.get("hostPort") for p in c.get("ports") or ())]
    if bad:
        ports = sorted({str(p["hostPort"]) for c in bad for p in c.get("ports") or ()
                        if p.get("hostPort")})
        yield Finding("hostPort", f"{_names(bad)} use hostPorts {', '.join(ports)}",
                      None, "no hostPort in the container's ports")


def app_armor(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    allowed = {"RuntimeDefault", "Localhost"}
    pod_type = (_context(spec).get("appArmorProfile") or {}).get("type")
    annotations = {key: value for key, value in (meta.get("annotations") or {}).items()
                   if key.startswith(_APPARMOR_PREFIX) and value
                   and value != "runtime/default" and not value.startswith("localhost/")}

    def container_type(c: Pod) -> Any:
        # The API server copies a container's annotation into its field when it has none.
        given = (_context(c).get("appArmorProfile") or {}).get("type")
        if given is None and annotations.get(_APPARMOR_PREFIX + str(c.get("name"))) \
                == "unconfined":
            return "Unconfined"
        return given

    bad = [c for c in _containers(spec) if container_type(c) not in (None, *allowed)]
    values = {str(container_type(c)) for c in bad} | (
        {str(pod_type)} if pod_type not in (None, *allowed) else set())
    values |= {f'{key}="{value}"' for key, value in annotations.items()}
    check = "forbidden AppArmor profile" + ("s" if len(values) > 1 else "")
    detail = f"must not set AppArmor profile type to {_quoted(sorted(values))}"
    fix = "RuntimeDefault or Localhost"
    if pod_type not in (None, *allowed):
        yield Finding(check, f"pod {detail}", ("podSecurityContext", "appArmorProfile", "type"),
                      fix)
    if any((_context(c).get("appArmorProfile") or {}).get("type") not in (None, *allowed)
           for c in bad):
        yield Finding(check, f"{_names(bad)} {detail}",
                      ("securityContext", "appArmorProfile", "type"), fix)
    for key, value in sorted(annotations.items()):
        yield Finding(check, f'annotation {key}="{value}"', ("podAnnotations", key),
                      "runtime/default or localhost/NAME")


def se_linux(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    def bad(options: Pod | None) -> bool:
        return options is not None and (options.get("type", "") not in _SELINUX_TYPES
                                        or bool(options.get("user")) or bool(options.get("role")))

    if bad(_context(spec).get("seLinuxOptions")):
        yield Finding("seLinuxOptions", "pod set forbidden securityContext.seLinuxOptions",
                      ("podSecurityContext", "seLinuxOptions"),
                      "no user or role, and a container type (container_t) or none")
    containers = [c for c in _containers(spec) if bad(_context(c).get("seLinuxOptions"))]
    if containers:
        yield Finding("seLinuxOptions", f"{_names(containers)} set forbidden "
                      "securityContext.seLinuxOptions", ("securityContext", "seLinuxOptions"),
                      "no user or role, and a container type (container_t) or none")


def _proc_mount(spec: Pod) -> Iterator[Finding]:
    bad = [c for c in _containers(spec) if _context(c).get("procMount") not in (None, "Default")]
    if bad:
        yield Finding("procMount", f"{_names(bad)} must not set securityContext.procMount to "
                      f"{_quoted(sorted({_context(c)['procMount'] for c in bad}))}",
                      ("securityContext", "procMount"), "Default, or unset")


def proc_mount_baseline(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if not _user_namespaced(spec):
        yield from _proc_mount(spec)


def seccomp_baseline(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    yield from _seccomp(spec, required=False)


def sysctls(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    bad = [s.get("name") for s in _context(spec).get("sysctls") or ()
           if s.get("name") not in _SAFE_SYSCTLS]
    if bad:
        yield Finding("forbidden sysctls", ", ".join(map(str, bad)),
                      ("podSecurityContext", "sysctls"), "only the safe set of sysctls")


def host_process(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    def on(context: Pod) -> bool:
        return (context.get("windowsOptions") or {}).get("hostProcess") is True

    if on(_context(spec)):
        yield Finding("hostProcess", "pod must not set securityContext.windowsOptions."
                      "hostProcess=true", ("podSecurityContext", "windowsOptions", "hostProcess"),
                      "false")
    bad = [c for c in _containers(spec) if on(_context(c))]
    if bad:
        yield Finding("hostProcess", f"{_names(bad)} must not set securityContext."
                      "windowsOptions.hostProcess=true",
                      ("securityContext", "windowsOptions", "hostProcess"), "false")


def probe_hosts(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    bad = []
    for c in _containers(spec):
        handlers = [c.get(p) or {} for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [h or {} for h in (c.get("lifecycle") or {}).values()]
        if any((h.get(way) or {}).get("host") for h in handlers
               for way in ("httpGet", "tcpSocket")):
            bad.append(c)
    if bad:
        yield Finding("probe or lifecycle host", f"{_names(bad)} use a probe or lifecycle host",
                      ("probes",), "no host: probes go to the pod's own address")


# Restricted

def restricted_volumes(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    for volume in spec.get("volumes") or ():
        sources = [k for k in volume if k != "name"]
        if not any(s in _RESTRICTED_VOLUME_SOURCES for s in sources):
            kind = sources[0] if sources else "unknown"
            yield _volume_finding("restricted volume types", volume, ctx, kind)


def allow_privilege_escalation(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if _windows(spec):
        return
    bad = [c for c in _containers(spec) if _context(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        yield Finding("allowPrivilegeEscalation != false", f"{_names(bad)} must set "
                      "securityContext.allowPrivilegeEscalation=false",
                      ("securityContext", "allowPrivilegeEscalation"), "false")


def capabilities_restricted(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if _windows(spec):
        return
    containers = _containers(spec)

    def caps(c: Pod) -> Pod:
        return _context(c).get("capabilities") or {}

    no_drop = [c for c in containers if "ALL" not in (caps(c).get("drop") or ())]
    if no_drop:
        yield Finding("unrestricted capabilities", f'{_names(no_drop)} must set '
                      'securityContext.capabilities.drop=["ALL"]',
                      ("securityContext", "capabilities", "drop"), "[ALL]")
    adding = [c for c in containers
              if any(a != "NET_BIND_SERVICE" for a in caps(c).get("add") or ())]
    if adding:
        extra = sorted({a for c in adding for a in caps(c).get("add") or ()
                        if a != "NET_BIND_SERVICE"})
        yield Finding("unrestricted capabilities", f"{_names(adding)} must not include "
                      f"{_quoted(extra)} in securityContext.capabilities.add",
                      ("securityContext", "capabilities", "add"), "[] or [NET_BIND_SERVICE]")


def run_as_non_root(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if _user_namespaced(spec):
        return
    pod = _context(spec).get("runAsNonRoot")
    explicit = [c for c in _containers(spec) if _context(c).get("runAsNonRoot") is False]
    if pod is False:
        yield Finding("runAsNonRoot != true", "pod must not set securityContext.runAsNonRoot="
                      "false", ("podSecurityContext", "runAsNonRoot"), "true")
    if explicit:
        yield Finding("runAsNonRoot != true", f"{_names(explicit)} must not set "
                      "securityContext.runAsNonRoot=false", ("securityContext", "runAsNonRoot"),
                      "true")
    implicit = [c for c in _containers(spec) if _context(c).get("runAsNonRoot") is None]
    if pod is None and implicit and not explicit:
        # The image's default user is root: the chart's non-root mode sets the user and
        # the writable folders a non-root LLaMA-Factory needs, not runAsNonRoot alone.
        yield Finding("runAsNonRoot != true", f"pod or {_names(implicit)} must set "
                      "securityContext.runAsNonRoot=true", ("security", "nonRoot"),
                      "true (a non-root user with a writable HOME, caches and /tmp)")


def run_as_user(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if _user_namespaced(spec):
        return
    if _context(spec).get("runAsUser") == 0:
        yield Finding("runAsUser=0", "pod must not set runAsUser=0",
                      ("podSecurityContext", "runAsUser"), "a non-zero user id")
    bad = [c for c in _containers(spec) if _context(c).get("runAsUser") == 0]
    if bad:
        yield Finding("runAsUser=0", f"{_names(bad)} must not set runAsUser=0",
                      ("securityContext", "runAsUser"), "a non-zero user id")


def seccomp_restricted(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    if not _windows(spec):
        yield from _seccomp(spec, required=True)


def proc_mount_restricted(meta: Pod, spec: Pod, ctx: PodContext) -> Iterator[Finding]:
    yield from _proc_mount(spec)


def _windows(spec: Pod) -> bool:
    return (spec.get("os") or {}).get("name") == "windows"


def _seccomp(spec: Pod, *, required: bool) -> Iterator[Finding]:
    allowed = {"RuntimeDefault", "Localhost"}
    pod_type = (_context(spec).get("seccompProfile") or {}).get("type")
    explicit = [c for c in _containers(spec)
                if (_context(c).get("seccompProfile") or {}).get("type") not in (None, *allowed)]
    bad_pod = pod_type is not None and pod_type not in allowed
    if bad_pod:
        yield Finding("seccompProfile", "pod must not set securityContext.seccompProfile.type "
                      f'to "{pod_type}"', ("podSecurityContext", "seccompProfile", "type"),
                      "RuntimeDefault")
    if explicit:
        types = sorted({_context(c)["seccompProfile"]["type"] for c in explicit})
        yield Finding("seccompProfile", f"{_names(explicit)} must not set "
                      f"securityContext.seccompProfile.type to {_quoted(types)}",
                      ("securityContext", "seccompProfile", "type"), "RuntimeDefault")
    if not required or bad_pod or explicit or pod_type in allowed:
        return
    implicit = [c for c in _containers(spec) if _context(c).get("seccompProfile") is None]
    if implicit:
        yield Finding("seccompProfile", f"pod or {_names(implicit)} must set securityContext."
                      'seccompProfile.type to "RuntimeDefault" or "Localhost"',
                      ("podSecurityContext", "seccompProfile", "type"), "RuntimeDefault")


def _volume_finding(check: str, volume: Pod, ctx: PodContext, kind: str) -> Finding:
    name = str(volume.get("name"))
    detail = f'volume "{name}" uses restricted volume type "{kind}"' \
        if check == "restricted volume types" else f'volume "{name}"'
    storage = ctx.volume_keys.get(name)
    if storage is not None:
        return Finding(check, detail, ("storage", storage, "type"),
                       f"pvc or existingClaim instead of {kind}")
    return Finding(check, detail, ("extraVolumes",),
                   f'a persistentVolumeClaim, configMap, secret or emptyDir volume "{name}" '
                   f"instead of {kind}")


_BASELINE: dict[str, Check] = {
    "hostNamespaces": host_namespaces, "privileged": privileged,
    "capabilities_baseline": capabilities_baseline, "hostPathVolumes": host_path_volumes,
    "hostPorts": host_ports, "appArmorProfile": app_armor, "seLinuxOptions": se_linux,
    "procMount": proc_mount_baseline, "seccompProfile_baseline": seccomp_baseline,
    "sysctls": sysctls, "windowsHostProcess": host_process,
    "hostProbesAndHostLifecycle": probe_hosts,
}
# Each restricted check that replaces a baseline one names it (as the plugin overrides).
_RESTRICTED: dict[str, tuple[Check, str | None]] = {
    "restrictedVolumes": (restricted_volumes, "hostPathVolumes"),
    "allowPrivilegeEscalation": (allow_privilege_escalation, None),
    "capabilities_restricted": (capabilities_restricted, "capabilities_baseline"),
    "runAsNonRoot": (run_as_non_root, None),
    "runAsUser": (run_as_user, None),
    "seccompProfile_restricted": (seccomp_restricted, "seccompProfile_baseline"),
    "procMount_restricted": (proc_mount_restricted, "procMount"),
}


def checks(level: Level) -> list[Check]:
    if level == "baseline":
        return list(_BASELINE.values())
    replaced = {old for _, old in _RESTRICTED.values()}
    return ([check for name, check in _BASELINE.items() if name not in replaced]
            + [check for check, _ in _RESTRICTED.values()])


def evaluate_pod(meta: Pod, spec: Pod, level: Level, ctx: PodContext) -> list[Finding]:
    """Every way the pod (METADATA, SPEC) breaks LEVEL; empty when it meets it."""
    return [finding for check in checks(level) for finding in check(meta, spec, ctx)]
