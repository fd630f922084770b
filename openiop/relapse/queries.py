"""Read-only access to plans, for pages, the chart and (later) the participant portal.

    plan = current_plan(episode)     # the signed plan in force, or None

No audit here: callers that show a plan to someone audit that view (staff pages through
`participants.access`; the portal will through its own access helper).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from .choices import SECTION_KEYS, PlanStatus
from .diff import PlanContent, SupportEntry
from .models import RelapsePlan, SupportPerson


def with_support(plans: QuerySet[RelapsePlan]) -> QuerySet[RelapsePlan]:
    """Plans with their support people and contacts (one more query for all of them)."""
    return plans.prefetch_related(
        Prefetch(
            "support_people",
            queryset=SupportPerson.objects.select_related("contact").order_by("position", "pk"),
        )
    )


def current_plan(episode: Any) -> RelapsePlan | None:
    """The episode's signed plan in force (the latest signed version), with its support
    people, or None. Two queries."""
    if episode is None:
        return None
    return (
        with_support(
            RelapsePlan.objects.filter(episode=episode, status=PlanStatus.SIGNED, voided=False)
        )
        .select_related("signed_by")
        .order_by("-number")
        .first()
    )


def open_draft(episode: Any) -> RelapsePlan | None:
    if episode is None:
        return None
    return RelapsePlan.objects.filter(
        episode=episode, status=PlanStatus.DRAFT, voided=False
    ).first()


def content_of(plan: RelapsePlan | None) -> PlanContent | None:
    """The plan's content as plain data (for the diff); its support people must be
    loaded (`with_support`) to avoid a query."""
    if plan is None:
        return None
    return PlanContent(
        sections={key: tuple(getattr(plan, key)) for key in SECTION_KEYS},
        support=tuple(
            SupportEntry(p.contact_id, p.contact.name, p.role) for p in plan.support_people.all()
        ),
    )
