"""Today-board panel for compliance: emergency accesses waiting for review (two queries)."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm

from .models import EmergencyAccess

PANEL_LIMIT = 5


def emergency_panel_context(request: StaffRequest) -> dict[str, Any] | None:
    waiting = EmergencyAccess.objects.filter(
        reviewed_at__isnull=True, participant__program_id__in=request.user.program_ids
    )
    total = waiting.count()
    if not total:
        return None
    rows = list(
        waiting.select_related("user", "participant").order_by("started_at", "id")[:PANEL_LIMIT]
    )
    return {"total": total, "rows": rows, "more": total > len(rows)}


register_panel(
    Panel(
        "emergency_access",
        "Emergency access to review",
        Perm.EMERGENCY_REVIEW,
        "privacy/panel_emergency.html",
        emergency_panel_context,
        order=5,
    )
)
