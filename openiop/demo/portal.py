"""The demo's participant portal (issue 9): one active participant of the demo counsellor
with a signed treatment plan and relapse-prevention plan gets the published portal login
`participant` (password: the demo password), made the way a real one is — an invitation
accepted — and a few check-ins sent from the portal over the past days, so the chart shows
them marked as from the portal and the progress page has a trend to draw.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils import timezone

from openiop.attendance import rules
from openiop.attendance import services as attendance
from openiop.attendance.choices import CheckInSource
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant
from openiop.plans.choices import PlanStatus
from openiop.portal import services as portal

PARTICIPANT_LOGIN = "participant"
CHECK_IN_DAYS = 6


def _chosen(program: Any, counsellor: Any) -> Participant | None:
    """The first active participant of the counsellor with both plans signed."""
    from openiop.plans.models import TreatmentPlan
    from openiop.relapse.models import RelapsePlan

    signed = {"episode": OuterRef("current_episode"), "status": PlanStatus.SIGNED}
    return (
        Participant.objects.filter(
            program=program,
            voided=False,
            current_episode__status=S.ACTIVE,
            current_episode__primary_counsellor=counsellor,
        )
        .filter(Exists(TreatmentPlan.objects.filter(voided=False, **signed)))
        .filter(Exists(RelapsePlan.objects.filter(voided=False, **signed)))
        .select_related("current_episode", "current_episode__program")
        .order_by("pk")
        .first()
    )


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Returns the number of portal check-ins made."""
    from openiop.demo.builder import DEMO_PASSWORD

    counsellor = staff["counsellor"]
    participant = _chosen(program, counsellor)
    if participant is None:
        return 0
    _invitation, raw = portal.invite(
        participant,
        kind="participant",
        channel="printed",
        language=portal.language_for_participant(participant),
        actor=counsellor,
    )
    user = portal.accept(
        raw,
        username=PARTICIPANT_LOGIN,
        password=DEMO_PASSWORD,
        language=portal.language_for_participant(participant),
    )
    episode = participant.current_episode
    if episode is None:  # _chosen picks participants with an active episode
        return 0
    made = 0
    threshold = program.craving_alert_at
    mood, craving = rng.randint(4, 6), rng.randint(3, max(3, threshold - 2))
    for days_ago in range(CHECK_IN_DAYS, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        if day < (episode.admission_date or day):
            continue
        # Getting a little better over the week, below the alert threshold.
        mood = min(9, max(2, mood + rng.choice([0, 1, 1, -1])))
        craving = min(threshold - 1, max(0, craving + rng.choice([0, -1, -1, 1])))
        at = timezone.make_aware(
            dt.datetime.combine(day, dt.time(7, rng.randint(0, 50))), program.tz
        )
        attendance.record_check_in(
            episode,
            rules.CheckInValues(
                mood=mood,
                craving=craving,
                used=False,
                substances="",
                stress=rng.randint(2, 6),
                sleep_hours=Decimal(rng.choice(["6", "6.5", "7", "7.5", "8"])),
            ),
            actor=user,
            source=CheckInSource.PORTAL,
            day=day,
            at=at,
        )
        made += 1
    return made
