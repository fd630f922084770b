"""The chart's Notes section: the participant's latest notes, drafts marked."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .models import Note

CHART_NOTES = 15


def notes_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or episode.admission_date is None:
        return None
    notes = list(
        Note.objects.filter(participant=participant, voided=False)
        .select_related("author", "session")
        .order_by("-service_date", "-pk")[:CHART_NOTES]
    )
    return {"notes": notes, "can_write": request.user.has_perm_code(Perm.NOTE_WRITE)}


register_section(
    Section(
        "notes",
        "Progress notes",
        Perm.CLINICAL_VIEW,
        "notes/sections/notes.html",
        notes_context,
        order=28,
    )
)
