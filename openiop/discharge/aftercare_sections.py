"""The chart's "Aftercare plan" section: the plan of the current episode, its status,
how many referrals and the next appointment. One query, with or without a plan."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Q
from django.utils import timezone

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from . import aftercare_services as services
from .models import AftercarePlan


def aftercare_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or not services.can_have_plan(episode):
        return None
    live = Q(referrals__voided=False)
    plan = (
        AftercarePlan.objects.filter(episode_id=episode.pk, voided=False)
        .annotate(
            referral_count=Count("referrals", filter=live),
            next_appointment=Min(
                "referrals__appointment_at",
                filter=live & Q(referrals__appointment_at__gte=timezone.now()),
            ),
        )
        .first()
    )
    return {
        "aftercare": plan,
        "aftercare_changed": bool(plan and services.changed_since_given(plan)),
        "can_write_aftercare": request.user.has_perm_code(Perm.DISCHARGE_WRITE),
    }


register_section(
    Section(
        "aftercare",
        "Aftercare plan",
        Perm.CLINICAL_VIEW,
        "discharge/aftercare_chart_section.html",
        aftercare_context,
        order=91,
    )
)
