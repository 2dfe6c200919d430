"""Reusable field types: a value's Python check and its JSON Schema, declared together.

Each type pairs a check from `formats` (the message a lmfchart user sees) with the
pattern Helm users get from values.schema.json, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    StrictFloat,
    StrictInt,
    StrictStr,
    WithJsonSchema,
)

from lmfchart.model import formats


def _checked(check: Callable[[str], str | None]) -> Callable[[str], str]:
    def validate(text: str) -> str:
        problem = check(text)
        if problem:
            raise ValueError(problem)
        return text

    return validate


def _check(check: Callable[[str], str | None]) -> AfterValidator:
    return AfterValidator(_checked(check))


def _schema(pattern: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": pattern, **extra})


def _optional(check: Callable[[str], str | None]) -> Callable[[str], str | None]:
    return lambda text: None if text == "" else check(text)


def _domain(text: str) -> str | None:
    # Leaves room for "<release>." (release names are at most 53 characters).
    if len(text) > 199:
        return "expected a domain of at most 199 characters"
    return formats.domain(text)


DnsLabel = Annotated[
    StrictStr, _check(formats.dns_label), _schema(formats.DNS_LABEL, maxLength=63)
]
OptionalDnsLabel = Annotated[
    StrictStr, _check(_optional(formats.dns_label)),
    _schema(f"^$|{formats.DNS_LABEL}", maxLength=63),
]
OptionalDnsSubdomain = Annotated[
    StrictStr, _check(_optional(formats.dns_subdomain)),
    _schema(f"^$|{formats.DNS_SUBDOMAIN}", maxLength=253),
]
Host = Annotated[
    StrictStr, _check(_optional(formats.host)), _schema(f"^$|{formats.HOST}", maxLength=253)
]
Domain = Annotated[
    StrictStr, _check(_optional(_domain)), _schema(f"^$|{formats.DNS_SUBDOMAIN}", maxLength=199)
]
AbsolutePath = Annotated[
    StrictStr, _check(formats.absolute_path), _schema(formats.ABSOLUTE_PATH)
]
OptionalAbsolutePath = Annotated[
    StrictStr, _check(_optional(formats.absolute_path)), _schema(f"^$|{formats.ABSOLUTE_PATH}")
]
ImageRepository = Annotated[
    StrictStr, _check(formats.image_repository),
    _schema(formats.IMAGE_REPOSITORY, maxLength=255),
]
ImageTag = Annotated[
    StrictStr, _check(formats.image_tag), _schema(formats.IMAGE_TAG, maxLength=63)
]
ImageDigest = Annotated[StrictStr, _check(formats.image_digest), _schema(formats.IMAGE_DIGEST)]
EnvName = Annotated[StrictStr, _check(formats.env_name), _schema(formats.ENV_NAME)]
Ipv4Cidr = Annotated[StrictStr, _check(formats.ipv4_cidr), _schema(formats.IPV4_CIDR)]
HttpUrl = Annotated[StrictStr, _check(formats.http_url), _schema(formats.HTTP_URL)]
ProxyUrl = Annotated[StrictStr, _check(formats.proxy_url), _schema(formats.PROXY_URL)]
HttpPath = Annotated[StrictStr, _check(formats.http_path), _schema(formats.HTTP_PATH)]
BodySize = Annotated[StrictStr, _check(formats.body_size), _schema(formats.BODY_SIZE)]
LabelValue = Annotated[
    StrictStr, _check(formats.label_value), _schema(formats.LABEL_VALUE, maxLength=63)
]
# Annotation keys follow the same PREFIX/NAME syntax as label keys.
LabelKey = Annotated[StrictStr, _check(formats.label_key), _schema(formats.LABEL_KEY)]
Quantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(lambda q: _checked(formats.quantity)(str(q)) and q),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": formats.QUANTITY},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]
OptionalQuantity = Annotated[
    StrictStr | StrictInt | StrictFloat,
    AfterValidator(lambda q: q if q == "" else _checked(formats.quantity)(str(q)) and q),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^$|{formats.QUANTITY}"},
                {"type": "number", "minimum": 0},
            ]
        }
    ),
]
# Free-form Kubernetes objects (affinity, tolerations, ...): the OpenAPI check judges them.
Object = dict[str, Any]
AccessMode = Literal["ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"]
