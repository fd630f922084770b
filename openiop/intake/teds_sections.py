"""The chart's "State reporting (TEDS)" section: how many of the episode's TEDS admission
items are recorded, which are missing or would be refused by the export, and a link to
the form. One query (the episode's items); the rest is read from the chart's episode."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from . import teds_services as rules
from .models import TedsAdmission


def teds_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if (
        episode is None
        or episode.status not in rules.ADMITTED_OR_LATER
        or episode.admission_date is None
    ):
        return None
    episode.participant = participant
    items = TedsAdmission.objects.filter(episode=episode).first()
    age = rules.age_at_admission(episode)
    if age is not None and not 0 <= age <= rules.OLDEST:
        age = None
    _derived, derived_problems = rules.derived_items(episode)
    problems = derived_problems + rules.check_items(items, age=age)
    applicable = rules.applicable_fields(items)
    return {
        "teds_recorded": sum(1 for f in applicable if getattr(items, f, None) is not None),
        "teds_expected": len(applicable),
        "teds_missing": [p for p in problems if p.missing],
        "teds_wrong": [p for p in problems if not p.missing],
        "can_record_teds": request.user.has_perm_code(Perm.TEDS_RECORD),
    }


register_section(
    Section(
        "teds",
        "State reporting (TEDS)",
        Perm.CLINICAL_VIEW,
        "intake/sections/teds.html",
        teds_context,
        order=16,
    )
)
