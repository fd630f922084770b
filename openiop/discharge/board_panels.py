"""Today board: discharge summaries of my caseload still to sign."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm

from . import services

PANEL_LIMIT = 8


def to_sign_context(request: StaffRequest) -> dict[str, Any] | None:
    rows = list(services.summaries_to_sign(request.user)[: PANEL_LIMIT + 1])
    if not rows:
        return None
    return {"rows": rows[:PANEL_LIMIT], "more": len(rows) > PANEL_LIMIT}


register_panel(
    Panel(
        "discharge_summaries",
        "Discharge summaries to sign",
        Perm.DISCHARGE_WRITE,
        "discharge/panel.html",
        to_sign_context,
        order=9,
    )
)
