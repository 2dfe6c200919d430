"""The audit-log reader the request-count tests and benchmarks rely on.

The API server appends events while a window opens and closes, so either edge can fall
in the middle of an event; a torn event must be dropped, never parsed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.cluster import AuditWindow


def event(verb: str, uri: str, agent: str) -> str:
    return json.dumps({"kind": "Event", "level": "Metadata", "verb": verb,
                       "requestURI": uri, "userAgent": agent}) + "\n"


def test_a_window_opened_inside_an_event_skips_that_event(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    before = event("get", "/api/v1/namespaces/a/secrets", "lmfchart/0.1.0")
    log.write_text(before[:40])  # the size a reader sees while a write is under way
    window = AuditWindow(log)
    with log.open("a") as handle:
        handle.write(before[40:] + event("patch", "/apis/apps/v1/x", "lmfchart/0.1.0"))
    assert window.requests("lmfchart/") == [("patch", "/apis/apps/v1/x")]


def test_a_window_opened_between_events_keeps_the_next_one(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text(event("get", "/old", "lmfchart/0.1.0"))
    window = AuditWindow(log)
    with log.open("a") as handle:
        handle.write(event("list", "/new", "lmfchart/0.1.0") + event("get", "/h", "Helm/4"))
    assert window.requests("lmfchart/") == [("list", "/new")]
    assert window.requests("Helm/") == [("get", "/h")]


def test_an_event_still_being_written_is_left_out(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("")
    window = AuditWindow(log)
    last = event("delete", "/lease", "lmfchart/0.1.0")
    log.write_text(event("create", "/lease", "lmfchart/0.1.0") + last[:30])
    assert window.requests("lmfchart/") == [("create", "/lease")]
