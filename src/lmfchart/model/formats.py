"""Checks for the string formats Kubernetes and container registries accept.

Each check returns None when the text is fine, or a message saying what was expected.
The same patterns go into values.schema.json so Helm users get the same checks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
HOST = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
QUANTITY = (
    r"^\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"([eE][-+]?[0-9]+|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)
IMAGE_REPOSITORY = (
    r"^([a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]+)?/)?"
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$"
)
# Tags double as the app.kubernetes.io/version label, so they must also be label values.
IMAGE_TAG = r"^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$"
IMAGE_DIGEST = r"^(sha256:[a-f0-9]{64})?$"
ENV_NAME = r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"
IPV4_CIDR = (r"^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
             r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$")
# Absolute, and no component is "..": each component is empty, ".", or does not start with
# "..", or is longer than "..". Written without lookahead, which Go's regexp lacks.
ABSOLUTE_PATH = r"^(/([^./][^/]*|\.[^./][^/]*|\.\.[^/]+|\.?))+$"
LABEL_NAME = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$"
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
LABEL_VALUE = r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"
HTTP_URL = r"^(https?://[^\s]+)?$"
PROXY_URL = r"^((https?|socks5h?)://[^\s]+)?$"
HTTP_PATH = r"^/[^\s]*$"
# nginx sizes: a number of bytes, or k, m, g of them.
BODY_SIZE = r"^[0-9]+[kKmMgG]?$"

SEED_PLACEHOLDER = "<replaced-ingress-nginx-ip>"
# Code points no values text may hold: C0/C1 controls but tab and newlines, line and
# paragraph separators, the byte order mark, surrogates and non-characters.
UNSAFE_RANGES = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F), (0x2028, 0x2029),
                 (0xFEFF, 0xFEFF), (0xD800, 0xDFFF), (0xFFFE, 0xFFFF))
NOT_YAML_SAFE = re.compile(
    "[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in UNSAFE_RANGES) + "]"
)
PRINTABLE_ONLY = "only printable text, tabs and newlines are allowed"
# The same class for Go's regexp, which reads UTF-8 text that cannot hold surrogates.
GO_UNSAFE_CLASS = "[" + "".join(
    f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in UNSAFE_RANGES if high < 0xD800
    or low > 0xDFFF
) + "]"


def _regex_check(
    pattern: str, expected: str, max_length: int | None = None
) -> Callable[[str], str | None]:
    compiled = re.compile(pattern)

    def check(text: str) -> str | None:
        if max_length is not None and len(text) > max_length:
            return f"{expected}; at most {max_length} characters, got {len(text)}"
        if not compiled.match(text):
            return f"{expected}, got {text!r}"
        return None

    return check


dns_label = _regex_check(
    DNS_LABEL, "expected a DNS-1123 label (lowercase letters, digits and '-', "
    "starting and ending with a letter or digit)", 63
)
dns_subdomain = _regex_check(
    DNS_SUBDOMAIN, "expected a DNS-1123 subdomain (lowercase labels of letters, digits and "
    "'-', separated by '.')", 253
)
# What the API server accepts as a key of a Secret's or ConfigMap's data.
DATA_KEY = r"^[-._a-zA-Z0-9]+$"
data_key = _regex_check(DATA_KEY, "expected a Secret key of letters, digits, '-', '_' and '.'",
                        253)
quantity = _regex_check(
    QUANTITY, "expected a non-negative Kubernetes quantity such as 500m, 4, 16Gi"
)
image_repository = _regex_check(
    IMAGE_REPOSITORY, "expected an image repository such as hiyouga/llamafactory or "
    "registry.example.com:5000/team/llamafactory", 255
)
image_tag = _regex_check(
    IMAGE_TAG, "expected an image tag of letters, digits, '_', '.' and '-', starting and "
    "ending with a letter or digit (it is also the app.kubernetes.io/version label)", 63
)
image_digest = _regex_check(IMAGE_DIGEST, "expected an image digest sha256:<64 hex digits> or ''")
env_name = _regex_check(ENV_NAME, "expected an environment variable name such as HF_HOME")
label_value = _regex_check(
    LABEL_VALUE, "expected a label value (letters, digits, '-', '_', '.')", 63
)
ipv4_cidr = _regex_check(IPV4_CIDR, "expected an IPv4 CIDR such as 10.0.0.0/8")
http_url = _regex_check(HTTP_URL, "expected an http(s):// URL or ''")
proxy_url = _regex_check(PROXY_URL, "expected a proxy URL (http://, https://, socks5://) or ''")
body_size = _regex_check(BODY_SIZE, "expected a size such as 10g, 500m or 0 (no limit)")
http_path = _regex_check(HTTP_PATH, "expected an HTTP path starting with '/'")


def host(text: str) -> str | None:
    if SEED_PLACEHOLDER in text:
        return (
            f"still contains the seed's placeholder {SEED_PLACEHOLDER!r}: replace it with your "
            "ingress controller's address, e.g. 172.18.0.2.nip.io"
        )
    return _host_check(text)


_host_check = _regex_check(
    HOST, "expected a DNS host name (lowercase letters, digits, '-' and '.'; "
    "optionally starting with '*.')", 253
)


def domain(text: str) -> str | None:
    """A domain below which the release gets its host: `<release>.<domain>`."""
    if SEED_PLACEHOLDER in text:
        return host(text)
    return _domain_check(text)


# No wildcard: "<release>.*.example.com" is no host name an Ingress accepts.
_domain_check = _regex_check(
    DNS_SUBDOMAIN, "expected a DNS host name without a wildcard (lowercase letters, digits, "
    "'-' and '.'; the host becomes <release>.<domain>)", 253
)


def absolute_path(text: str) -> str | None:
    if not text.startswith("/"):
        return f"expected an absolute path starting with '/', got {text!r}"
    if ".." in text.split("/"):
        return f"expected a path without '..' components, got {text!r}"
    return None


def label_key(text: str) -> str | None:
    prefix, _, name = text.rpartition("/")
    if prefix and dns_subdomain(prefix):
        return f"expected a label key PREFIX/NAME with a DNS subdomain prefix, got {text!r}"
    if not re.match(LABEL_NAME, name):
        return (
            "expected a label key (name of at most 63 letters, digits, '-', '_', '.'), "
            f"got {text!r}"
        )
    return None


def yaml_unsafe_character(text: str) -> str | None:
    """Control characters have no place in Kubernetes values and YAML cannot carry them."""
    found = NOT_YAML_SAFE.search(text)
    if found is None:
        return None
    return (
        f"contains the control character U+{ord(found.group()):04X} at position "
        f"{found.start()}; {PRINTABLE_ONLY}"
    )


# A model or adapter: an absolute path on a volume, or a hub id (owner/name).
HUB_ID = r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*"
MODEL_SOURCE = f"{ABSOLUTE_PATH}|^{HUB_ID}$"
# A folder below a mount path: no leading '/', no component starting with '.'.
SUB_PATH = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$"
RUN_NAME_LENGTH = 30
RUN_NAME = r"^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$"

_hub_id = re.compile(f"^{HUB_ID}$")
sub_path = _regex_check(
    SUB_PATH, "expected a relative folder such as train/my-run (letters, digits, '_', '.', "
    "'-'; no component starting with '.')"
)
_run_label = _regex_check(
    DNS_LABEL, "expected a DNS-1123 label (lowercase letters, digits and '-', starting and "
    "ending with a letter or digit)", RUN_NAME_LENGTH
)


def run_name(text: str) -> str | None:
    """A train run or export name: a part of its Job's name."""
    return _run_label(text)


def model_source(text: str) -> str | None:
    if text.startswith("/"):
        return absolute_path(text)
    if _hub_id.match(text):
        return None
    return (f"expected an absolute path on a volume (/root/.cache/huggingface/...) or a hub "
            f"id such as Qwen/Qwen3-0.6B, got {text!r}")


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` (did you mean 'X'?)` for the closest known word, or nothing."""
    import difflib  # only on the error path

    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def not_one_of(text: str, choices: tuple[str, ...], what: str) -> str:
    return f"expected {what}, got {text!r}{did_you_mean(text, choices)}"


def checked(check: Callable[[str], str | None], text: str) -> str:
    """The text, or a ValueError with the check's message (for pydantic validators)."""
    problem = check(text)
    if problem:
        raise ValueError(problem)
    return text
