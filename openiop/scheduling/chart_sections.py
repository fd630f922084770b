"""The chart's Schedule section: the participant's next two weeks, track history and
calendar link."""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .enrolment import sessions_expected_for
from .models import Enrolment, FeedToken

UPCOMING_DAYS = 14


def schedule_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None:
        return None
    enrolments = list(
        Enrolment.objects.filter(episode__participant=participant)
        .select_related("track")
        .order_by("-start_date", "-pk")[:20]
    )
    if not enrolments:
        return None
    today = episode.program.today()
    upcoming = sessions_expected_for([episode.pk], today, today + dt.timedelta(days=UPCOMING_DAYS))
    return {
        "upcoming": upcoming.get(episode.pk, []),
        "enrolments": [e for e in enrolments if e.end_date is None or e.end_date >= e.start_date],
        "feed": FeedToken.objects.filter(participant=participant, revoked_at=None).first(),
        "can_manage_schedule": request.user.has_perm_code(Perm.SCHEDULE_MANAGE),
        "today": today,
    }


register_section(
    Section(
        "schedule",
        "Schedule",
        Perm.SCHEDULE_VIEW,
        "scheduling/sections/schedule.html",
        schedule_context,
        order=25,
    )
)
