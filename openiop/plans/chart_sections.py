"""The chart's Treatment plan section: the plan in force, its review date, who has
signed, and its active goals. A fixed number of queries."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from .choices import GoalStatus, PlanStatus
from .models import Goal, PlanSignature, TreatmentPlan


def plan_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    """Three queries, with or without a plan: the signed plan and draft, the roles that
    signed the plan, its active goals with a count of their objectives."""
    episode = participant.current_episode
    if episode is None or episode.admission_date is None:
        return None
    plans = list(
        TreatmentPlan.objects.filter(
            episode=episode, voided=False, status__in=[PlanStatus.SIGNED, PlanStatus.DRAFT]
        ).order_by("-number")
    )
    plan = next((p for p in plans if p.status == PlanStatus.SIGNED), None)
    draft = next((p for p in plans if p.status == PlanStatus.DRAFT), None)
    plan_id = plan.pk if plan else None  # None: the queries match nothing, but still run
    signed_roles = set(PlanSignature.objects.filter(plan_id=plan_id).values_list("role", flat=True))
    goals = list(
        Goal.objects.filter(plan_id=plan_id, status=GoalStatus.ACTIVE)
        .annotate(objective_count=Count("objectives"))
        .order_by("problem__asam_dimension", "problem__order", "order", "pk")
    )
    today = episode.program.today()
    return {
        "plan": plan,
        "draft": draft,
        "goals": goals,
        "signed_roles": signed_roles,
        "review_overdue": bool(plan and plan.review_due and plan.review_due <= today),
        "can_write": request.user.has_perm_code(Perm.PLAN_WRITE),
    }


register_section(
    Section(
        "treatment_plan",
        "Treatment plan",
        Perm.CLINICAL_VIEW,
        "plans/sections/plan.html",
        plan_context,
        order=26,
    )
)
