"""The chart's Relapse-prevention plan section: the plan in force in brief (the first
items of each section, the support people and their phone numbers), its signatures, and
the open draft."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .choices import SECTIONS, PlanStatus
from .models import RelapsePlan, SupportPerson

SHOWN_ITEMS = 3


def relapse_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or episode.admission_date is None:
        return None
    # One query for the plan in force and the draft, one for the plan's support people
    # (always run, so the section's query count does not depend on the record).
    plans = list(
        RelapsePlan.objects.filter(
            episode=episode, voided=False, status__in=[PlanStatus.SIGNED, PlanStatus.DRAFT]
        ).order_by("-number")
    )
    support = list(
        SupportPerson.objects.filter(
            plan__episode=episode, plan__voided=False, plan__status=PlanStatus.SIGNED
        )
        .select_related("contact")
        .order_by("position", "pk")
    )
    plan = next((p for p in plans if p.status == PlanStatus.SIGNED), None)
    draft = next((p for p in plans if p.status == PlanStatus.DRAFT), None)
    summary = []
    if plan is not None:
        for key, label, _prompt, _mine in SECTIONS:
            items = getattr(plan, key)
            summary.append(
                {
                    "label": label,
                    "items": items[:SHOWN_ITEMS],
                    "more": max(len(items) - SHOWN_ITEMS, 0),
                }
            )
    return {
        "relapse_plan": plan,
        "relapse_draft": draft,
        "relapse_summary": summary,
        "relapse_support": [p for p in support if plan and p.plan_id == plan.pk],
        "can_write_plan": request.user.has_perm_code(Perm.PLAN_WRITE),
    }


register_section(
    Section(
        "relapse",
        "Relapse-prevention plan",
        Perm.CLINICAL_VIEW,
        "relapse/sections/relapse.html",
        relapse_context,
        order=29,
    )
)
