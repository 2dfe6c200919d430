"""What `--wait` prints while it waits: a redrawn table on a terminal, and in a log only the
lines that changed."""

from __future__ import annotations

import io

from rich.console import Console

from lmfchart.usecases.cluster import ObjectRef
from lmfchart.usecases.readiness import State
from lmfchart.usecases.wait import ObjectStatus
from lmfchart.waitdisplay import WaitDisplay

DEPLOYMENT = ObjectRef("apps/v1", "Deployment", "ml", "lmf-llama-factory")
SERVICE = ObjectRef("v1", "Service", "ml", "lmf-llama-factory")
PULLING = ObjectStatus(DEPLOYMENT, State.IN_PROGRESS, "0/1 replicas available", (
    "pod lmf-1 container llama-factory: ImagePullBackOff: Back-off pulling image "
    '"registry.invalid/x[1]:0.9"', "Warning Failed on Pod/lmf-1: not found"))
SERVED = ObjectStatus(SERVICE, State.CURRENT, "ready")
ROLLED_OUT = ObjectStatus(DEPLOYMENT, State.CURRENT, "1/1 replicas available")


def test_a_log_gets_a_line_per_change_only() -> None:
    out = io.StringIO()
    with WaitDisplay(Console(file=out, force_terminal=False, width=80)) as display:
        display([SERVED, PULLING])
        display([SERVED, PULLING])
        display([SERVED, ROLLED_OUT])

    assert out.getvalue().splitlines() == [
        "  Service/lmf-llama-factory: Current: ready",
        "  Deployment/lmf-llama-factory: InProgress: 0/1 replicas available (pod lmf-1 "
        'container llama-factory: ImagePullBackOff: Back-off pulling image '
        '"registry.invalid/x[1]:0.9")',
        "  Deployment/lmf-llama-factory: Current: 1/1 replicas available",
    ]


def test_a_terminal_gets_one_table_redrawn() -> None:
    out = io.StringIO()
    with WaitDisplay(Console(file=out, force_terminal=True, width=200,
                             color_system=None)) as display:
        display([SERVED, PULLING])
        display([SERVED, ROLLED_OUT])

    drawn = out.getvalue()
    assert "waiting: 1/2 ready" in drawn and "waiting: 2/2 ready" in drawn
    last = drawn[drawn.rindex("waiting: 2/2 ready"):]
    assert "Deployment/lmf-llama-factory" in last and "1/1 replicas available" in last
    # The reason column keeps the server's text, brackets included.
    assert 'Back-off pulling image "registry.invalid/x[1]:0.9"' in drawn
