"""The chart's Discharge section: the discharge with its reason and TEDS code, the level
of care transition, and the summary's status; for an episode in care, the way to the
discharge form. One query for a discharged episode, none for an episode in care."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.choices import IN_CARE, EpisodeStatus
from openiop.participants.models import Participant

from .models import Discharge


def discharge_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or episode.admission_date is None:
        return None
    can_write = request.user.has_perm_code(Perm.DISCHARGE_WRITE)
    if episode.status in IN_CARE:
        return {"discharge": None, "in_care": True, "can_discharge": can_write}
    if episode.status not in (EpisodeStatus.DISCHARGED, EpisodeStatus.ALUMNI):
        return None
    record = Discharge.objects.filter(episode=episode).select_related("summary").first()
    summary = getattr(record, "summary", None) if record else None
    return {
        "discharge": record,
        "discharge_summary": summary,
        "in_care": False,
        "can_discharge": can_write,
    }


register_section(
    Section(
        "discharge",
        "Discharge",
        Perm.CLINICAL_VIEW,
        "discharge/chart_section.html",
        discharge_context,
        order=95,
    )
)
