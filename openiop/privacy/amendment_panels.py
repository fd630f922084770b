"""The amendment requests on the chart (section registered in `chart_sections`) and the
today board's "Amendment requests waiting" panel for amendment.decide holders (registered
here, on import). Each runs one query."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm
from openiop.participants.models import Participant

from . import amendment_services as services
from .amendment_views import can_read, pending_requests
from .models import AmendmentRequest

CHART_REQUESTS = 8
PANEL_LIMIT = 8


def chart_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    """One query: the participant's latest requests (one more than shown, to know if there
    are more). Hidden from users who may not read them (clinical.view or consent.view)."""
    user = request.user
    if not can_read(user):
        return None
    rows = list(
        AmendmentRequest.objects.filter(participant=participant, voided=False)
        .select_related("decided_by")
        .order_by("-received_on", "-pk")[: CHART_REQUESTS + 1]
    )
    return {
        "amendments": services.with_due(rows[:CHART_REQUESTS], participant.program.today()),
        "more_amendments": len(rows) > CHART_REQUESTS,
        "can_log_amendment": user.has_perm_code(Perm.AMENDMENT_RECORD),
    }


def panel_context(request: StaffRequest) -> dict[str, Any] | None:
    """One query: the oldest requests waiting for a decision, with a window COUNT."""
    rows, total = pending_requests(request.user, PANEL_LIMIT)
    if not total:
        return None
    return {
        "rows": rows,
        "total": total,
        "more": total > len(rows),
        "overdue": sum(1 for r in rows if getattr(r, "overdue", False)),
    }


register_panel(
    Panel(
        "amendments_waiting",
        "Amendment requests waiting",
        Perm.AMENDMENT_DECIDE,
        "privacy/amendments/panel.html",
        panel_context,
        order=6,
    )
)
