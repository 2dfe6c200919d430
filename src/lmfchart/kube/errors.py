"""Every failure of a request to the cluster, as a ClusterError naming the object.

The server's `Status` body gives the message and causes; a transport failure (refused
connection, timeout, TLS) says which server could not be reached. Nothing here ever quotes
a request or response body beyond the server's own message, so Secret data stays out.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from lmfchart.base.errors import ClusterError, ConflictError

# What a user should try when the server answers with this status and nothing more.
_HINTS = {
    401: "the credential was refused (expired or wrong token or certificate)",
    403: "forbidden by the cluster's RBAC rules",
    404: "not found",
    409: "conflict: the object was changed by someone else",
    422: "invalid",
    429: "too many requests",
}


def translate(error: Exception, *, kind: str, name: str, server: str) -> ClusterError:
    """The ClusterError for ERROR, raised by a request about KIND/NAME to SERVER."""
    if isinstance(error, ApiException) and error.status:
        return _from_status(error, kind=kind, name=name)
    return ClusterError(_transport_message(error, server), kind=kind, name=name,
                        status=None, reason=_transport_reason(error))


def _from_status(error: ApiException, *, kind: str, name: str) -> ClusterError:
    status = int(error.status)
    body = _status_body(error)
    reason = str(body.get("reason") or error.reason or "")
    message = str(body.get("message") or "")
    causes = (body.get("details") or {}).get("causes") or []
    extra = [_cause(c) for c in causes if not _said(c, message)]
    if not message:
        message = _HINTS.get(status) or (
            "the API server failed" if status >= 500 else "the request failed")
    if extra:
        message += " (" + "; ".join(extra) + ")"
    # The status is part of the answer: 403 and a 500 read very differently.
    message += f" (HTTP {status}{' ' + reason if reason else ''})"
    error_class = ConflictError if status == 409 else ClusterError
    return error_class(message, kind=kind, name=name, status=status, reason=reason)


def _status_body(error: ApiException) -> dict[str, Any]:
    raw = error.body
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    # Only a metav1.Status is the server's explanation; any other body is not for users.
    if isinstance(body, dict) and body.get("kind") == "Status":
        return body
    return {}


def _said(cause: dict[str, Any], message: str) -> bool:
    """Whether MESSAGE already tells this cause (the server often repeats them there)."""
    text = str(cause.get("message") or cause.get("reason") or "")
    field = str(cause.get("field") or "")
    return not text or (text in message and field in message)


def _cause(cause: dict[str, Any]) -> str:
    field = cause.get("field") or ""
    message = cause.get("message") or cause.get("reason") or ""
    return f"{field}: {message}" if field and field not in message else str(message)


def _transport_reason(error: Exception) -> str:
    root = _root(error)
    if _is_tls(error, root):
        return "TLSError"
    if isinstance(root, urllib3.exceptions.TimeoutError | TimeoutError):
        return "Timeout"
    return "Unreachable"


def _transport_message(error: Exception, server: str) -> str:
    root = _root(error)
    if _is_tls(error, root):
        return f"TLS handshake with the API server at {server} failed: {_last_line(root)}"
    if isinstance(root, urllib3.exceptions.TimeoutError | TimeoutError):
        return f"the API server at {server} did not answer in time"
    if isinstance(root, ConnectionRefusedError) or "refused" in str(root).lower():
        return f"cannot reach the API server at {server}: connection refused (is it running?)"
    return f"cannot reach the API server at {server}: {_last_line(root)}"


def _is_tls(error: Exception, root: BaseException) -> bool:
    if isinstance(root, ssl.SSLError | urllib3.exceptions.SSLError):
        return True
    # The client turns a TLS failure into ApiException(status=0, reason="SSLError\n...").
    return isinstance(error, ApiException) and str(error.reason or "").startswith("SSLError")


def _root(error: BaseException) -> BaseException:
    """The innermost cause: MaxRetryError wraps the connection error in `.reason`."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "reason", None)
        if isinstance(inner, BaseException):
            error = inner
        elif error.__cause__ is not None:
            error = error.__cause__
        else:
            break
    return error


def _last_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    if isinstance(error, ApiException):
        text = str(error.reason or "").strip()
    return text.splitlines()[-1] if text else type(error).__name__
