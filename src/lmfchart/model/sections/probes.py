"""Health probes on the web UI port."""
# ruff: noqa: N815  (field names are the user's camelCase values keys)

from __future__ import annotations

from pydantic import Field, StrictBool, StrictInt

from lmfchart.model.sections.base import Section


class ProbeTiming(Section):
    initialDelaySeconds: StrictInt = Field(0, ge=0, description="Seconds before the first probe.")
    periodSeconds: StrictInt = Field(10, ge=1, description="Seconds between probes.")
    timeoutSeconds: StrictInt = Field(5, ge=1, description="Seconds before a probe times out.")
    failureThreshold: StrictInt = Field(3, ge=1, description="Failures before acting.")


class Probes(Section):
    enabled: StrictBool = Field(True, description="Probe the web UI port at all.")
    startup: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=10, failureThreshold=60),
        description="HTTP GET / until the UI first answers (loading can take minutes).",
    )
    liveness: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=30, timeoutSeconds=10,
                                            failureThreshold=6),
        description="TCP check: a busy UI during training must not be restarted.",
    )
    readiness: ProbeTiming = Field(
        default_factory=lambda: ProbeTiming(periodSeconds=10, timeoutSeconds=5),
        description="HTTP GET / before the Service sends traffic.",
    )
