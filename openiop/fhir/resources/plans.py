"""CarePlan (treatment plans and relapse-prevention plans) and Goal (the treatment plan's
goals), DOMAIN.md §7: "Treatment / relapse-prevention plan → CarePlan (activities,
`addresses` Condition, `goal`); sign as a new version; never edit a signed version" and
"Measurable objectives → Goal".

Each *version* of a plan is one CarePlan: a signed version never changes, a new version
`replaces` the one it was copied from. `addresses` is left out: this server has no
Condition resource. Local codes live under `urn:openiop:...` systems.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from openiop.plans.choices import GoalStatus, Modality, ObjectiveStatus
from openiop.plans.choices import PlanStatus as TPStatus
from openiop.plans.models import Goal, Objective, PlanIntervention, TreatmentPlan
from openiop.relapse.choices import SECTION_LABELS
from openiop.relapse.models import RelapsePlan, SupportPerson

from .. import search as s
from ..api import instant
from ..registry import Provider, Source, register
from .patient import patient_reference

CAREPLAN_CATEGORY = "urn:openiop:careplan-category"  # local: no standard code we are sure of
MODALITY = "urn:openiop:intervention-modality"  # local: the intervention library's modalities
GOAL_KEY = "urn:openiop:plan-goal-key"  # local: the same goal across plan versions
GOAL_CATEGORY = "http://terminology.hl7.org/CodeSystem/goal-category"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
RELAPSE_PREFIX = "relapse-"
GOAL_PREFIX = "goal-"


# --- status ------------------------------------------------------------------------------
# Both kinds of plan have the statuses draft → signed → superseded (the PlanStatus of
# openiop.plans and of openiop.relapse have the same values; a test checks it).
# draft → draft; signed → active, or completed once the episode it belongs to has ended
# (discharge); superseded → revoked: FHIR R4 defines revoked as "the
# plan has been terminated prior to reaching completion (though it may have been replaced
# by a new plan)", which is what signing a newer version does. "completed" would claim its
# activities were carried out, which nothing says.


def plan_status(obj: TreatmentPlan | RelapsePlan) -> str:
    if obj.status == TPStatus.DRAFT:
        return "draft"
    if obj.status == TPStatus.SUPERSEDED:
        return "revoked"
    return "completed" if obj.episode.discharge_date is not None else "active"


# The same, as filters for the `status` parameter (both models have `status` and `episode`).
PLAN_STATUS_FILTERS: dict[str, Q] = {
    "draft": Q(status=TPStatus.DRAFT),
    "active": Q(status=TPStatus.SIGNED, episode__discharge_date__isnull=True),
    "completed": Q(status=TPStatus.SIGNED, episode__discharge_date__isnull=False),
    "revoked": Q(status=TPStatus.SUPERSEDED),
}


def activity_status(obj: TreatmentPlan | RelapsePlan) -> str:
    """An activity's status from its plan's (CarePlan.activity.detail.status)."""
    return {
        "draft": "not-started",
        "active": "in-progress",
        "completed": "completed",
        "revoked": "stopped",
    }[plan_status(obj)]


def _period(
    obj: TreatmentPlan | RelapsePlan, start: dt.date | None, ctx: Any
) -> dict[str, str] | None:
    """From the day the version took effect to the day it was superseded or the episode
    ended (a draft has none)."""
    if start is None:
        return None
    period = {"start": start.isoformat()}
    end: dt.date | None = None
    if obj.status == TPStatus.SUPERSEDED and obj.superseded_at is not None:
        end = obj.superseded_at.astimezone(ctx.tz).date()
    elif obj.status == TPStatus.SIGNED:
        end = obj.episode.discharge_date
    if end is not None and end >= start:
        period["end"] = end.isoformat()
    return period


def _author(name: str, credential: str) -> dict[str, str] | None:
    """The signing clinician as display only (this server has no Practitioner)."""
    if not name:
        return None
    return {"display": f"{name}, {credential}" if credential else name}


def _category(code: str, text: str) -> list[dict[str, Any]]:
    return [
        {"coding": [{"system": CAREPLAN_CATEGORY, "code": code, "display": text}], "text": text}
    ]


def _drop_empty(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if v not in (None, [], "", {})}


# --- CarePlan: treatment plans -----------------------------------------------------------


class TreatmentPlanSource(Source):
    model = TreatmentPlan
    category = "plan"
    date_field = "effective_date"
    date_kind = "date"
    status_filters = PLAN_STATUS_FILTERS

    def queryset(self) -> QuerySet[Any]:
        interventions = PlanIntervention.objects.select_related("template", "responsible")
        objectives = Objective.objects.order_by("order", "pk").prefetch_related(
            Prefetch("interventions", queryset=interventions.order_by("order", "pk"))
        )
        goals = Goal.objects.order_by(
            "problem__asam_dimension", "problem__order", "order", "pk"
        ).prefetch_related(Prefetch("objectives", queryset=objectives))
        return (
            TreatmentPlan.objects.filter(voided=False)
            .select_related("participant", "episode", "previous")
            .prefetch_related(Prefetch("goals", queryset=goals))
        )

    def to_resource(self, obj: TreatmentPlan, ctx: Any) -> dict[str, Any]:
        patient = patient_reference(obj.participant)
        goals = list(obj.goals.all())
        activities = []
        for goal in goals:
            goal_ref = {"reference": f"Goal/{GOAL_SOURCE.fhir_id(goal)}"}
            for objective in goal.objectives.all():
                for item in objective.interventions.all():
                    activities.append({"detail": _intervention(obj, objective, item, goal_ref)})
        description = obj.get_reason_display()
        if obj.change_summary:
            description = f"{description}: {obj.change_summary}"
        return _drop_empty(
            {
                "status": plan_status(obj),
                "intent": "plan",
                "category": _category("treatment-plan", "Treatment plan"),
                "title": f"Treatment plan, version {obj.number}",
                "description": description,
                "subject": patient,
                "period": _period(obj, obj.effective_date, ctx),
                "created": instant(obj.created_at),
                "author": _author(obj.signed_name, obj.signed_credential),
                "replaces": (
                    [{"reference": f"CarePlan/{obj.previous.uuid}"}] if obj.previous else None
                ),
                "goal": [{"reference": f"Goal/{GOAL_SOURCE.fhir_id(g)}"} for g in goals],
                "activity": activities,
                # In the participant's own words: the participant is the note's author.
                "note": (
                    [{"authorReference": patient, "text": obj.participant_statement}]
                    if obj.participant_statement
                    else None
                ),
            }
        )


# An intervention serving an objective that is over is over too.
OBJECTIVE_ACTIVITY: dict[str, str] = {
    ObjectiveStatus.ACHIEVED: "completed",
    ObjectiveStatus.NOT_ACHIEVED: "stopped",
    ObjectiveStatus.DISCONTINUED: "stopped",
}


def _intervention(
    plan: TreatmentPlan, objective: Objective, item: PlanIntervention, goal_ref: dict[str, str]
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "status": OBJECTIVE_ACTIVITY.get(objective.status, activity_status(plan)),
        "description": item.description,
        "scheduledString": item.frequency,
        "goal": [goal_ref],
    }
    if item.template is not None:
        modality = item.template.modality
        detail["code"] = {
            "coding": [{"system": MODALITY, "code": modality, "display": Modality(modality).label}],
            "text": item.template.name,
        }
    if item.responsible is not None:
        detail["performer"] = [{"display": item.responsible.display_name}]
    return detail


# --- CarePlan: relapse-prevention plans --------------------------------------------------

# Sections that are things to do (activities); the others describe the participant
# (reasons, triggers, high-risk situations, warning signs) and go in notes.
ACTIVITY_SECTIONS = ("coping", "craving_steps")


class RelapsePlanSource(Source):
    model = RelapsePlan
    category = "plan"
    # No effective date: a version takes effect when the clinician signs it.
    date_field = "signed_at"
    date_kind = "datetime"
    id_prefix = RELAPSE_PREFIX
    status_filters = PLAN_STATUS_FILTERS

    def queryset(self) -> QuerySet[Any]:
        support = SupportPerson.objects.filter(contact__voided=False).select_related("contact")
        return (
            RelapsePlan.objects.filter(voided=False)
            .select_related("participant", "episode", "previous")
            .prefetch_related(
                Prefetch("support_people", queryset=support.order_by("position", "pk"))
            )
        )

    def to_resource(self, obj: RelapsePlan, ctx: Any) -> dict[str, Any]:
        status = activity_status(obj)
        activities: list[dict[str, Any]] = []
        for key in ACTIVITY_SECTIONS:
            for n, item in enumerate(getattr(obj, key) or [], start=1):
                label = SECTION_LABELS[key]
                activities.append(
                    {
                        "detail": {
                            "code": {
                                "text": f"{label} (step {n})" if key == "craving_steps" else label
                            },
                            "status": status,
                            "description": str(item),
                        }
                    }
                )
        for person in obj.support_people.all():
            activities.append(
                {
                    "detail": {
                        "code": {"text": "Support person"},
                        "status": status,
                        "description": person.role or "Support person",
                        # A contact is a RelatedPerson, which this server does not serve.
                        "performer": [{"display": person.contact.name}],
                    }
                }
            )
        notes = [
            {"text": f"{SECTION_LABELS[key]}: " + "; ".join(str(i) for i in items)}
            for key in ("reasons", "triggers", "high_risk", "warning_signs")
            if (items := getattr(obj, key))
        ]
        signed_on = obj.signed_at.astimezone(ctx.tz).date() if obj.signed_at else None
        return _drop_empty(
            {
                "status": plan_status(obj),
                "intent": "plan",
                "category": _category("relapse-prevention-plan", "Relapse prevention plan"),
                "title": f"Relapse-prevention plan, version {obj.number}",
                "subject": patient_reference(obj.participant),
                "period": _period(obj, signed_on, ctx),
                "created": instant(obj.created_at),
                "author": _author(obj.signed_name, obj.signed_credential),
                "replaces": (
                    [{"reference": f"CarePlan/{RELAPSE_PREFIX}{obj.previous.uuid}"}]
                    if obj.previous
                    else None
                ),
                "activity": activities,
                "note": notes,
            }
        )


# --- Goal ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[1-9][0-9]{0,17}")  # ASCII digits, no leading zero, < 2**63


def numeric_ids(ids: list[str], prefix: str) -> list[int]:
    """The numbers of ids `prefix` + number (for rows without a uuid). Only the canonical
    spelling counts, so each row has one id: "goal-007", or digits of other scripts, are
    no one's."""
    return [
        int(v[len(prefix) :])
        for v in ids
        if v.startswith(prefix) and _NUMBER.fullmatch(v[len(prefix) :])
    ]


def goal_lifecycle(goal: Goal) -> str:
    """Goal.lifecycleStatus. An active goal of a draft plan is only proposed; a revised
    goal was replaced by new wording, so this one is no longer pursued (cancelled)."""
    if goal.status == GoalStatus.ACHIEVED:
        return "completed"
    if goal.status in (GoalStatus.REVISED, GoalStatus.DISCONTINUED):
        return "cancelled"
    return "proposed" if goal.plan.status == TPStatus.DRAFT else "active"


# The same, as filters for `lifecycle-status`.
LIFECYCLE_FILTERS: dict[str, Q] = {
    "proposed": Q(status=GoalStatus.ACTIVE, plan__status=TPStatus.DRAFT),
    "active": Q(status=GoalStatus.ACTIVE) & ~Q(plan__status=TPStatus.DRAFT),
    "completed": Q(status=GoalStatus.ACHIEVED),
    "cancelled": Q(status__in=[GoalStatus.REVISED, GoalStatus.DISCONTINUED]),
}

# Goal.achievementStatus where one fits (none for revised or discontinued goals: neither
# says whether it was reached).
ACHIEVEMENT = {
    "active": ("in-progress", "In Progress"),
    "completed": ("achieved", "Achieved"),
}


def lifecycle_param(qs: QuerySet[Any], values: list[str], ctx: Any) -> QuerySet[Any]:
    """`lifecycle-status=active,proposed` (the R4 Goal search parameter): AND over
    repeated parameters, OR over the values of one; an unknown code matches nothing."""
    for text in values:
        any_of = Q(pk__in=[])
        for value in s.split_values(text, "lifecycle-status"):
            any_of |= LIFECYCLE_FILTERS.get(s.parse_token(value), Q(pk__in=[]))
        qs = qs.filter(any_of)
    return qs


class GoalSource(Source):
    """A goal row of one plan version. Goals have no uuid (and their `key` is shared by
    the versions of one goal), so the id is a prefix and the row's primary key."""

    model = Goal
    participant_path = "plan__participant"
    category = "plan"
    date_field = "plan__effective_date"  # the day the plan version took effect
    date_kind = "date"
    updated_field = "plan__updated_at"  # changing a goal touches its plan
    id_prefix = GOAL_PREFIX
    id_field = "pk"
    extra_params = {"lifecycle-status": lifecycle_param}

    def queryset(self) -> QuerySet[Any]:
        return (
            Goal.objects.filter(plan__voided=False)
            .select_related("plan", "plan__participant")
            .prefetch_related(
                Prefetch("objectives", queryset=Objective.objects.order_by("order", "pk"))
            )
        )

    def id_q(self, ids: list[str]) -> Q | None:
        keys = numeric_ids(ids, GOAL_PREFIX)
        return Q(pk__in=keys) if keys else None

    def last_updated(self, obj: Goal) -> dt.datetime | None:
        return obj.plan.updated_at

    def participant_id_of(self, obj: Goal) -> int:
        return int(obj.plan.participant_id)

    def to_resource(self, obj: Goal, ctx: Any) -> dict[str, Any]:
        patient = patient_reference(obj.plan.participant)
        lifecycle = goal_lifecycle(obj)
        objectives = list(obj.objectives.all())
        achievement = ACHIEVEMENT.get(lifecycle)
        notes = []
        for o in objectives:
            text = f"Objective: {o.text} ({o.get_status_display()}"
            if o.target_date:
                text += f"; target {o.target_date.isoformat()}"
            notes.append({"text": text + ")"})
        return _drop_empty(
            {
                "identifier": [{"system": GOAL_KEY, "value": str(obj.key)}],
                "lifecycleStatus": lifecycle,
                "achievementStatus": (
                    {
                        "coding": [
                            {
                                "system": GOAL_ACHIEVEMENT,
                                "code": achievement[0],
                                "display": achievement[1],
                            }
                        ]
                    }
                    if achievement
                    else None
                ),
                "category": [
                    {
                        "coding": [
                            {"system": GOAL_CATEGORY, "code": "behavioral", "display": "Behavioral"}
                        ]
                    }
                ],
                "description": {"text": obj.text},
                "subject": patient,
                "startDate": obj.plan.effective_date.isoformat()
                if obj.plan.effective_date
                else None,
                "target": [
                    {"dueDate": o.target_date.isoformat()} for o in objectives if o.target_date
                ],
                "statusReason": (
                    "Revised: replaced by a new wording of the goal"
                    if obj.status == GoalStatus.REVISED
                    else None
                ),
                # The goal is written in the participant's own words.
                "expressedBy": patient,
                "note": notes,
            }
        )


GOAL_SOURCE = GoalSource()

register(
    Provider(
        "CarePlan",
        [TreatmentPlanSource(), RelapsePlanSource()],
        documentation=(
            "Treatment plans and relapse-prevention plans (ids starting “relapse-”), one "
            "resource per version; a newer version `replaces` the one it was copied from."
        ),
        params_doc={
            "date": "The day the version took effect (treatment plans) or was signed.",
            "status": "draft, active, completed (episode ended) or revoked (superseded).",
        },
    )
)
register(
    Provider(
        "Goal",
        [GOAL_SOURCE],
        documentation="The goals of each treatment plan version (not of voided plans).",
        params_doc={
            "date": "The day the goal's plan version took effect.",
            "lifecycle-status": "proposed, active, completed or cancelled.",
        },
    )
)
