"""Today board: my unsigned notes, so a returning author goes straight back to a draft."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm

from .choices import NoteStatus
from .models import Note

PANEL_LIMIT = 10


def my_drafts_context(request: StaffRequest) -> dict[str, Any] | None:
    drafts = list(
        Note.objects.filter(author=request.user, status=NoteStatus.DRAFT, voided=False)
        .select_related("participant", "session")
        .order_by("service_date", "pk")[: PANEL_LIMIT + 1]
    )
    if not drafts:
        return None
    return {"drafts": drafts[:PANEL_LIMIT], "more": len(drafts) > PANEL_LIMIT}


register_panel(
    Panel(
        "my_drafts",
        "My unsigned notes",
        Perm.NOTE_WRITE,
        "notes/panels/my_drafts.html",
        my_drafts_context,
        order=7,
    )
)
