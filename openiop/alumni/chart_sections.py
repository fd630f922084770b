"""The chart's "Alumni" section: the participant's follow-ups after discharge with their
status and outcomes, and the alumni events they came to. Two queries, whatever the size
of the record."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .models import AlumniAttendance, FollowUp

CHART_FOLLOW_UPS = 10
CHART_EVENTS = 5


def alumni_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    follow_ups = list(
        FollowUp.objects.filter(participant=participant, voided=False)
        .select_related("discharge")
        .order_by("-due_date", "-pk")[:CHART_FOLLOW_UPS]
    )
    attended = list(
        AlumniAttendance.objects.filter(participant=participant, voided=False, attended=True)
        .select_related("event")
        .order_by("-event__starts_at", "-pk")[:CHART_EVENTS]
    )
    if not follow_ups and not attended:
        return None
    return {
        "follow_ups": sorted(follow_ups, key=lambda f: (f.due_date, f.pk)),
        "attended": attended,
        "can_follow_up": request.user.has_perm_code(Perm.ALUMNI_FOLLOW_UP),
    }


register_section(
    Section(
        "alumni",
        "Alumni",
        Perm.CLINICAL_VIEW,
        "alumni/chart_section.html",
        alumni_context,
        order=92,
    )
)
