"""The chart's `helm test` hook."""

from __future__ import annotations

from pydantic import Field, StrictBool

from lmfchart.model.sections.base import Section


class HelmTest(Section):
    enabled: StrictBool = Field(
        True, description="A Pod run by helm test RELEASE that checks the web UI answers on "
        "its Service (a hook: never applied by install).")
