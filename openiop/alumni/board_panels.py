"""Today board: "Follow-up calls due" (due by today + 7 days; mine, or the whole program
for a director) for holders of alumni.follow_up. One query."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm, Role

from .views import due_count


def calls_due_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    mine = not user.has_role(Role.DIRECTOR)
    total = due_count(user, timezone.localdate(), mine=mine)
    if not total:
        return None
    return {"total": total, "mine": mine}


register_panel(
    Panel(
        "alumni_calls_due",
        "Follow-up calls due",
        Perm.ALUMNI_FOLLOW_UP,
        "alumni/panel.html",
        calls_due_context,
        order=9,
    )
)
