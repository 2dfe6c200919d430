"""The environment variables the chart sets itself: one list for the template and the check.

The Deployment template writes one env entry per variable (under its condition), and the
cross-check refuses `env` entries that would shadow one of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from lmfchart.model.expr import Expr, Value, and_, eq, ne
from lmfchart.model.values import WEBUI_PORT


@dataclass(frozen=True)
class ChartVariable:
    name: str
    value: str | Expr
    """A fixed text, or the value it copies."""
    when: Expr | None = None
    """Set only when this holds; None: always set."""
    controlled_by: str = "(always set)"
    """The values key a user changes instead of overriding the variable."""
    comment: str = ""
    """Why the chart sets it (a comment above the entry in the chart)."""


def _copied(name: str, key: str, comment: str = "") -> ChartVariable:
    return ChartVariable(name, Value(key), Value(key), key, comment)


CHART_VARIABLES: tuple[ChartVariable, ...] = (
    ChartVariable("GRADIO_SERVER_NAME", "0.0.0.0",
                  comment="Gradio binds to localhost unless told otherwise."),
    ChartVariable("GRADIO_SERVER_PORT", str(WEBUI_PORT)),
    ChartVariable("GRADIO_ANALYTICS_ENABLED", "False",
                  comment="No outbound analytics calls from closed networks."),
    ChartVariable("GRADIO_ROOT_PATH", Value("ingress.path"),
                  and_(Value("ingress.enabled"), ne(Value("ingress.path"), "/")), "ingress.path"),
    ChartVariable("USE_MODELSCOPE_HUB", "1", eq(Value("hub.source"), "modelscope"), "hub.source"),
    ChartVariable("USE_OPENMIND_HUB", "1", eq(Value("hub.source"), "openmind"), "hub.source"),
    _copied("HF_ENDPOINT", "hub.hfEndpoint"),
    _copied("HTTP_PROXY", "proxy.httpProxy"),
    _copied("HTTPS_PROXY", "proxy.httpsProxy"),
    _copied("NO_PROXY", "proxy.noProxy", "Upper case: the web UI overwrites lower-case no_proxy."),
)
