"""The chart's "Attendance letters" section and the today board's "Letters to produce"
panel, for holders of records.disclose (registered on import). Each runs one query."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .views import chart_rows, pending_requests

CHART_ROWS = 6
PANEL_LIMIT = 5


def chart_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    """One query: the latest requests and letters (one more than shown, to know if there
    are more)."""
    rows = chart_rows(participant, CHART_ROWS + 1)
    return {"letters": rows[:CHART_ROWS], "more_letters": len(rows) > CHART_ROWS}


def panel_context(request: StaffRequest) -> dict[str, Any] | None:
    """One query: the oldest requests waiting, with a window count."""
    rows, total = pending_requests(request.user, PANEL_LIMIT)
    if not total:
        return None
    return {"rows": rows, "total": total, "more": total > len(rows)}


register_section(
    Section(
        "letters",
        "Attendance letters",
        Perm.RECORDS_DISCLOSE,
        "letters/chart_section.html",
        chart_context,
        order=24,
    )
)

register_panel(
    Panel(
        "letters_waiting",
        "Attendance letters to produce",
        Perm.RECORDS_DISCLOSE,
        "letters/panel.html",
        panel_context,
        order=7,
    )
)
