"""Today board: plan reviews overdue or due within a week — my caseload, or the whole
program for a director."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm, Role
from openiop.participants.access import visible_participants
from openiop.programs.models import Program

from . import services

PANEL_LIMIT = 8


def reviews_due_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    programs = list(Program.objects.filter(pk__in=user.program_ids))
    if not programs:
        return None
    program_wide = user.has_role(Role.DIRECTOR)
    rows = services.reviews_due(programs, counsellor=None if program_wide else user)
    if program_wide and rows:
        visible = set(
            visible_participants(user)
            .filter(pk__in=[r.plan.participant_id for r in rows])
            .values_list("pk", flat=True)
        )
        rows = [r for r in rows if r.plan.participant_id in visible]
    if not rows:
        return None
    return {
        "rows": rows[:PANEL_LIMIT],
        "more": len(rows) > PANEL_LIMIT,
        "total": len(rows),
        "scope": "program" if program_wide else "caseload",
    }


register_panel(
    Panel(
        "plan_reviews",
        "Plan reviews due",
        Perm.PLAN_WRITE,
        "plans/panels/reviews_due.html",
        reviews_due_context,
        order=8,
    )
)
