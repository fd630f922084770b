"""Every write to treatment plans, atomic and audited; and the reads other screens use
(`active_goals`, `reviews_due`, `diff`).

A plan is edited as a draft. The clinician signs it (every problem with a goal, every
goal with an objective, every objective with a target date); the version is then locked
(see `models`) and the previous signed version is superseded. The participant signs on
the tablet at the desk and the supervisor signs after the clinician. A change is a new
version: a draft copy of the current signed one, goals and objectives keeping their
`key` so `diff` can say what changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.participants.choices import IN_CARE

from .choices import (
    GoalStatus,
    ObjectiveStatus,
    PlanReason,
    PlanStatus,
    SignatureRole,
)
from .models import (
    Goal,
    InterventionTemplate,
    Objective,
    PlanIntervention,
    PlanSignature,
    Problem,
    SignedRecordError,
    TreatmentPlan,
    validate_signature_image,
)

MAX_TEXT = 2000
MAX_FREQUENCY = 120
MAX_NAME = 200
# Target dates further than this from the program day are refused as typing mistakes.
TARGET_PAST_DAYS = 366
TARGET_FUTURE_DAYS = 3 * 366
# Reviews due within this many days are listed with the overdue ones.
DUE_SOON_DAYS = 7


class PlanError(Exception):
    """A request refused because of the plan's state (409); the message says why."""


class PlanInputError(PlanError):
    """A request refused because of what was typed (400); the message says why."""


# --- Reading ------------------------------------------------------------------------------


def plan_queryset() -> Any:
    """A plan with everything its page shows, in a fixed number of queries."""
    return TreatmentPlan.objects.select_related(
        "program", "participant", "episode", "clinician", "previous"
    ).prefetch_related(
        Prefetch(
            "problems",
            queryset=Problem.objects.order_by("asam_dimension", "order", "pk").prefetch_related(
                Prefetch(
                    "goals",
                    queryset=Goal.objects.order_by("order", "pk").prefetch_related(
                        Prefetch(
                            "objectives",
                            queryset=Objective.objects.order_by("order", "pk").prefetch_related(
                                Prefetch(
                                    "interventions",
                                    queryset=PlanIntervention.objects.select_related(
                                        "template", "responsible"
                                    ).order_by("order", "pk"),
                                )
                            ),
                        )
                    ),
                )
            ),
        ),
        Prefetch("signatures", queryset=PlanSignature.objects.select_related("user")),
    )


def plans_of(episode: Any) -> Any:
    return TreatmentPlan.objects.filter(episode=episode, voided=False)


def current_plan(episode: Any) -> TreatmentPlan | None:
    """The episode's signed plan in force (the newest signed version), if any."""
    return plans_of(episode).filter(status=PlanStatus.SIGNED).order_by("-number").first()


def draft_of(episode: Any) -> TreatmentPlan | None:
    return plans_of(episode).filter(status=PlanStatus.DRAFT).first()


def signatures_by_role(plan: TreatmentPlan) -> dict[str, PlanSignature]:
    return {sig.role: sig for sig in plan.signatures.all()}


def active_goals(episode_ids: Iterable[int]) -> dict[int, list[Goal]]:
    """{episode id: its active goals}, from each episode's current signed plan (or its
    draft when none is signed yet), objectives prefetched. Three queries whatever the
    number of episodes: plans, goals, objectives."""
    ids = sorted({int(i) for i in episode_ids})
    out: dict[int, list[Goal]] = {i: [] for i in ids}
    if not ids:
        return out
    chosen: dict[int, tuple[int, int]] = {}  # episode -> (rank, plan id); signed beats draft
    for plan_id, episode_id, status, number in TreatmentPlan.objects.filter(
        episode_id__in=ids,
        voided=False,
        status__in=[PlanStatus.SIGNED, PlanStatus.DRAFT],
    ).values_list("pk", "episode_id", "status", "number"):
        rank = (2 if status == PlanStatus.SIGNED else 1) * 1_000_000 + number
        if episode_id not in chosen or rank > chosen[episode_id][0]:
            chosen[episode_id] = (rank, plan_id)
    plan_ids = [plan_id for _rank, plan_id in chosen.values()]
    if not plan_ids:
        return out
    goals = (
        Goal.objects.filter(plan_id__in=plan_ids, status=GoalStatus.ACTIVE)
        .select_related("plan")
        .only("pk", "plan__episode_id", "plan_id", "problem_id", "text", "status", "key", "order")
        .order_by("problem__asam_dimension", "problem__order", "order", "pk")
        .prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.order_by("order", "pk"))
        )
    )
    for goal in goals:
        out[goal.plan.episode_id].append(goal)
    return out


@dataclass
class ReviewDue:
    plan: TreatmentPlan
    days_left: int  # negative: overdue by that many days
    has_draft: bool

    @property
    def overdue(self) -> bool:
        """Due today or earlier."""
        return self.days_left <= 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)


def reviews_due(
    programs: Iterable[Any],
    counsellor: Any = None,
    today: dt.date | None = None,
    *,
    window: int = DUE_SOON_DAYS,
) -> list[ReviewDue]:
    """Current signed plans of open episodes whose review is overdue (due on or before
    today) or due within `window` days: a counsellor's caseload (primary counsellor),
    or the whole of the programs. Oldest due first. One query."""
    programs = list(programs)
    if not programs:
        return []
    if today is None:
        today = programs[0].today()
    qs = (
        TreatmentPlan.objects.filter(
            program__in=programs,
            status=PlanStatus.SIGNED,
            voided=False,
            review_due__lte=today + dt.timedelta(days=window),
            episode__status__in=sorted(IN_CARE),
            episode__voided=False,
        )
        .select_related("participant", "episode__primary_counsellor", "program")
        .order_by("review_due", "pk")
    )
    if counsellor is not None:
        qs = qs.filter(episode__primary_counsellor=counsellor)
    # Whether a new version is already in progress: in the same query, so the page costs
    # the same with no plan due as with many.
    qs = qs.annotate(
        draft_in_progress=Exists(
            TreatmentPlan.objects.filter(
                episode_id=OuterRef("episode_id"), status=PlanStatus.DRAFT, voided=False
            )
        )
    )
    return [
        ReviewDue(
            plan=p,
            days_left=(p.review_due - today).days if p.review_due else 0,
            has_draft=p.draft_in_progress,
        )
        for p in qs
    ]


# --- What changed between versions --------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveSnap:
    key: str
    text: str
    target_date: dt.date | None
    status: str
    interventions: tuple[str, ...] = ()


@dataclass(frozen=True)
class GoalSnap:
    key: str
    text: str
    status: str
    objectives: tuple[ObjectiveSnap, ...] = ()


@dataclass(frozen=True)
class ProblemSnap:
    key: str
    dimension: int
    statement: str
    goals: tuple[GoalSnap, ...] = ()


@dataclass(frozen=True)
class PlanSnap:
    number: int
    statement: str
    problems: tuple[ProblemSnap, ...] = ()


def intervention_line(item: PlanIntervention) -> str:
    who = f" ({item.responsible.display_name})" if item.responsible is not None else ""
    return f"{item.description} — {item.frequency}{who}"


def snapshot(plan: TreatmentPlan) -> PlanSnap:
    """A plan's content as plain values (uses prefetched rows when present)."""
    return PlanSnap(
        number=plan.number,
        statement=plan.participant_statement,
        problems=tuple(
            ProblemSnap(
                key=str(problem.key),
                dimension=problem.asam_dimension,
                statement=problem.statement,
                goals=tuple(
                    GoalSnap(
                        key=str(goal.key),
                        text=goal.text,
                        status=goal.status,
                        objectives=tuple(
                            ObjectiveSnap(
                                key=str(obj.key),
                                text=obj.text,
                                target_date=obj.target_date,
                                status=obj.status,
                                interventions=tuple(
                                    intervention_line(i) for i in obj.interventions.all()
                                ),
                            )
                            for obj in goal.objectives.all()
                        ),
                    )
                    for goal in problem.goals.all()
                ),
            )
            for problem in plan.problems.all()
        ),
    )


@dataclass
class Change:
    """One difference: `kind` problem / goal / objective / plan, `change` added / removed
    / changed; `fields` lists (label, old, new) for a change."""

    kind: str
    change: str
    key: str
    text: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)
    context: str = ""


@dataclass
class PlanDiff:
    old_number: int
    new_number: int
    changes: list[Change] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def keys(self, change: str) -> set[str]:
        return {c.key for c in self.changes if c.change == change}

    @property
    def added(self) -> list[Change]:
        return [c for c in self.changes if c.change == "added"]

    @property
    def removed(self) -> list[Change]:
        return [c for c in self.changes if c.change == "removed"]

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.change == "changed"]


def _show(value: Any, labels: dict[str, str] | None = None) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    if labels is not None:
        return labels.get(str(value), str(value))
    return str(value)


GOAL_LABELS = dict(GoalStatus.choices)
OBJECTIVE_LABELS = dict(ObjectiveStatus.choices)


def diff(old: TreatmentPlan | PlanSnap, new: TreatmentPlan | PlanSnap) -> PlanDiff:
    """What changed from `old` to `new`: problems, goals and objectives matched by key
    (added, removed, changed with the old and new text, status and dates; an objective's
    interventions listed as they were and are). Pure on snapshots."""
    a = old if isinstance(old, PlanSnap) else snapshot(old)
    b = new if isinstance(new, PlanSnap) else snapshot(new)
    result = PlanDiff(a.number, b.number)
    out = result.changes
    if a.statement != b.statement:
        out.append(
            Change(
                "plan",
                "changed",
                "statement",
                "In the participant's own words",
                [("Statement", _show(a.statement), _show(b.statement))],
            )
        )

    def goals_of(plan: PlanSnap) -> dict[str, tuple[GoalSnap, ProblemSnap]]:
        return {g.key: (g, p) for p in plan.problems for g in p.goals}

    def objectives_of(plan: PlanSnap) -> dict[str, tuple[ObjectiveSnap, GoalSnap]]:
        return {o.key: (o, g) for p in plan.problems for g in p.goals for o in g.objectives}

    old_problems = {p.key: p for p in a.problems}
    new_problems = {p.key: p for p in b.problems}
    for key, p in new_problems.items():
        if key not in old_problems:
            out.append(Change("problem", "added", key, p.statement, context=f"D{p.dimension}"))
            continue
        before = old_problems[key]
        fields = []
        if before.statement != p.statement:
            fields.append(("Problem", before.statement, p.statement))
        if before.dimension != p.dimension:
            fields.append(("ASAM dimension", str(before.dimension), str(p.dimension)))
        if fields:
            out.append(Change("problem", "changed", key, p.statement, fields, f"D{p.dimension}"))
    for key, p in old_problems.items():
        if key not in new_problems:
            out.append(Change("problem", "removed", key, p.statement, context=f"D{p.dimension}"))

    old_goals, new_goals = goals_of(a), goals_of(b)
    for key, (g, p) in new_goals.items():
        if key not in old_goals:
            out.append(Change("goal", "added", key, g.text, context=p.statement))
            continue
        gb, _ = old_goals[key]
        fields = []
        if gb.text != g.text:
            fields.append(("Goal", gb.text, g.text))
        if gb.status != g.status:
            fields.append(("Status", _show(gb.status, GOAL_LABELS), _show(g.status, GOAL_LABELS)))
        if fields:
            out.append(Change("goal", "changed", key, g.text, fields, p.statement))
    for key, (g, p) in old_goals.items():
        if key not in new_goals:
            out.append(Change("goal", "removed", key, g.text, context=p.statement))

    old_objs, new_objs = objectives_of(a), objectives_of(b)
    for key, (o, g) in new_objs.items():
        if key not in old_objs:
            out.append(Change("objective", "added", key, o.text, context=g.text))
            continue
        ob, _ = old_objs[key]
        fields = []
        if ob.text != o.text:
            fields.append(("Objective", ob.text, o.text))
        if ob.target_date != o.target_date:
            fields.append(("Target date", _show(ob.target_date), _show(o.target_date)))
        if ob.status != o.status:
            fields.append(
                ("Status", _show(ob.status, OBJECTIVE_LABELS), _show(o.status, OBJECTIVE_LABELS))
            )
        if ob.interventions != o.interventions:
            fields.append(
                (
                    "Interventions",
                    "; ".join(ob.interventions) or "—",
                    "; ".join(o.interventions) or "—",
                )
            )
        if fields:
            out.append(Change("objective", "changed", key, o.text, fields, g.text))
    for key, (o, g) in old_objs.items():
        if key not in new_objs:
            out.append(Change("objective", "removed", key, o.text, context=g.text))
    return result


# --- Writing: versions -------------------------------------------------------------------


def _check_in_care(episode: Any) -> None:
    if episode.voided or (episode.status not in IN_CARE):
        raise PlanError("A treatment plan is written for a participant admitted to the program.")


def _touch(plan: TreatmentPlan, actor: Any) -> None:
    """Bump the draft's version (so a stale editor page can tell) and audit the change."""
    plan.version += 1
    plan.updated_by = actor
    plan.updated_at = timezone.now()
    plan.save(update_fields=["version", "updated_by", "updated_at"])


def _lock_draft(plan: TreatmentPlan) -> TreatmentPlan:
    """The plan row locked for update; refused unless it is still a draft."""
    current = (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("program")
        .get(pk=plan.pk)
    )
    if current.voided:
        raise PlanError("This plan version was voided.")
    if current.status != PlanStatus.DRAFT:
        raise SignedRecordError(
            "This plan version is signed and cannot be changed; start a new version."
        )
    return current


def start_plan(episode: Any, actor: Any) -> TreatmentPlan:
    """A draft version 1 for an admitted episode, or the draft already open."""
    _check_in_care(episode)
    with transaction.atomic():
        existing = draft_of(episode)
        if existing is not None:
            return existing
        if plans_of(episode).exists():
            raise PlanError("This episode already has a plan: start a new version of it.")
        try:
            with transaction.atomic():
                plan = TreatmentPlan.objects.create(
                    participant_id=episode.participant_id,
                    episode=episode,
                    program_id=episode.program_id,
                    number=1,
                    reason=PlanReason.INITIAL,
                    created_by=actor,
                    updated_by=actor,
                )
        except IntegrityError:  # someone started it at the same moment
            existing = draft_of(episode)
            if existing is None:
                raise
            return existing
        audit.record(AuditAction.CREATE, actor=actor, obj=plan, changes={"number": 1})
    return plan


def new_version(
    plan: TreatmentPlan, actor: Any, reason: str = PlanReason.REVIEW, summary: str = ""
) -> TreatmentPlan:
    """A draft copy of the episode's current signed version (problems, goals, objectives,
    interventions; keys kept), or the draft already open. `reason` is a PlanReason;
    any other text is kept as the summary with the reason "other"."""
    if reason not in PlanReason.values:
        summary, reason = (summary or str(reason)), PlanReason.OTHER
    summary = _text(summary, "The summary", required=False, limit=4000)
    episode = plan.episode
    _check_in_care(episode)
    with transaction.atomic():
        existing = draft_of(episode)
        if existing is not None:
            return existing
        source = current_plan(episode)
        if source is None:
            raise PlanError("There is no signed version to start from: sign the draft first.")
        source = plan_queryset().get(pk=source.pk)
        number = (plans_of(episode).order_by("-number").values_list("number", flat=True)[:1])[0]
        draft = TreatmentPlan.objects.create(
            participant_id=source.participant_id,
            episode_id=source.episode_id,
            program_id=source.program_id,
            number=number + 1,
            previous=source,
            reason=reason,
            change_summary=summary,
            participant_statement=source.participant_statement,
            created_by=actor,
            updated_by=actor,
        )
        for problem in source.problems.all():
            new_problem = Problem.objects.create(
                plan=draft,
                asam_dimension=problem.asam_dimension,
                statement=problem.statement,
                key=problem.key,
                order=problem.order,
            )
            for goal in problem.goals.all():
                new_goal = Goal.objects.create(
                    plan=draft,
                    problem=new_problem,
                    text=goal.text,
                    status=goal.status,
                    key=goal.key,
                    order=goal.order,
                )
                for obj in goal.objectives.all():
                    new_obj = Objective.objects.create(
                        goal=new_goal,
                        text=obj.text,
                        target_date=obj.target_date,
                        status=obj.status,
                        key=obj.key,
                        order=obj.order,
                    )
                    for item in obj.interventions.all():
                        PlanIntervention.objects.create(
                            objective=new_obj,
                            template=item.template,
                            description=item.description,
                            frequency=item.frequency,
                            responsible=item.responsible,
                            order=item.order,
                        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=draft,
            changes={"number": draft.number, "from": source.number, "reason": reason},
        )
    return draft


def update_plan(
    plan: TreatmentPlan,
    actor: Any,
    *,
    participant_statement: str,
    change_summary: str | None = None,
    reason: str | None = None,
) -> TreatmentPlan:
    statement = _text(participant_statement, "The statement", required=False, limit=4000)
    summary = (
        _text(change_summary, "The summary", required=False, limit=4000)
        if change_summary is not None
        else None
    )
    if reason is not None and reason not in PlanReason.values:
        raise PlanInputError("Choose why this version is written.")
    with transaction.atomic():
        current = _lock_draft(plan)
        before = audit.snapshot(current, ["participant_statement", "change_summary", "reason"])
        current.participant_statement = statement
        fields = ["participant_statement"]
        if summary is not None:
            current.change_summary = summary
            fields.append("change_summary")
        if reason is not None:
            current.reason = reason
            fields.append("reason")
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
        after = audit.snapshot(current, ["participant_statement", "change_summary", "reason"])
        # The text is PHI and is in the plan: the audit says which fields changed.
        changed = sorted(audit.diff(before, after))
        audit.record(AuditAction.CHANGE, actor=actor, obj=current, changes={"fields": changed})
    return current


# --- Writing: the draft's rows ------------------------------------------------------------


def _text(value: Any, what: str, *, required: bool = True, limit: int = MAX_TEXT) -> str:
    text = (value if isinstance(value, str) else "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise PlanInputError(f"{what} contains a character that cannot be saved (NUL).")
    if required and not text:
        raise PlanInputError(f"{what} is empty: write it.")
    if len(text) > limit:
        raise PlanInputError(f"{what} can hold at most {limit:,} characters.")
    return text


def _dimension(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PlanInputError("Choose an ASAM dimension from 1 to 6.") from None
    if not 1 <= number <= 6:
        raise PlanInputError("Choose an ASAM dimension from 1 to 6.")
    return number


def _target(plan: TreatmentPlan, value: dt.date | None) -> dt.date | None:
    if value is None:
        return None
    today = plan.program.today()
    if value < today - dt.timedelta(days=TARGET_PAST_DAYS):
        raise PlanInputError("The target date is more than a year ago.")
    if value > today + dt.timedelta(days=TARGET_FUTURE_DAYS):
        raise PlanInputError("The target date is more than three years away.")
    return value


def _next_order(qs: Any) -> int:
    last = qs.order_by("-order").values_list("order", flat=True).first()
    return (last or 0) + 1


def _row_audit(actor: Any, plan: TreatmentPlan, op: str, what: str, pk: int) -> None:
    audit.record(AuditAction.CHANGE, actor=actor, obj=plan, changes={op: f"{what} {pk}"})


def add_problem(plan: TreatmentPlan, actor: Any, *, asam_dimension: Any, statement: str) -> Problem:
    dimension = _dimension(asam_dimension)
    text = _text(statement, "The problem")
    with transaction.atomic():
        current = _lock_draft(plan)
        problem = Problem.objects.create(
            plan=current,
            asam_dimension=dimension,
            statement=text,
            order=_next_order(current.problems.all()),
        )
        _touch(current, actor)
        _row_audit(actor, current, "added", "problem", problem.pk)
    return problem


def change_problem(problem: Problem, actor: Any, *, asam_dimension: Any, statement: str) -> Problem:
    dimension = _dimension(asam_dimension)
    text = _text(statement, "The problem")
    with transaction.atomic():
        current = _lock_draft(problem.plan)
        problem.asam_dimension = dimension
        problem.statement = text
        problem.save(update_fields=["asam_dimension", "statement"])
        _touch(current, actor)
        _row_audit(actor, current, "changed", "problem", problem.pk)
    return problem


def remove_problem(problem: Problem, actor: Any) -> None:
    with transaction.atomic():
        current = _lock_draft(problem.plan)
        pk = problem.pk
        problem.delete()
        _touch(current, actor)
        _row_audit(actor, current, "removed", "problem", pk)


def add_goal(problem: Problem, actor: Any, *, text: str) -> Goal:
    words = _text(text, "The goal")
    with transaction.atomic():
        current = _lock_draft(problem.plan)
        goal = Goal.objects.create(
            plan=current,
            problem=problem,
            text=words,
            order=_next_order(problem.goals.all()),
        )
        _touch(current, actor)
        _row_audit(actor, current, "added", "goal", goal.pk)
    return goal


def change_goal(goal: Goal, actor: Any, *, text: str, status: str | None = None) -> Goal:
    words = _text(text, "The goal")
    if status is not None and status not in GoalStatus.values:
        raise PlanInputError("Choose the goal's status from the list.")
    with transaction.atomic():
        current = _lock_draft(goal.plan)
        goal.text = words
        if status is not None:
            goal.status = status
        goal.save(update_fields=["text", "status"])
        _touch(current, actor)
        _row_audit(actor, current, "changed", "goal", goal.pk)
    return goal


def remove_goal(goal: Goal, actor: Any) -> None:
    with transaction.atomic():
        current = _lock_draft(goal.plan)
        pk = goal.pk
        goal.delete()
        _touch(current, actor)
        _row_audit(actor, current, "removed", "goal", pk)


def add_objective(goal: Goal, actor: Any, *, text: str, target_date: dt.date | None) -> Objective:
    words = _text(text, "The objective")
    with transaction.atomic():
        current = _lock_draft(goal.plan)
        objective = Objective.objects.create(
            goal=goal,
            text=words,
            target_date=_target(current, target_date),
            order=_next_order(goal.objectives.all()),
        )
        _touch(current, actor)
        _row_audit(actor, current, "added", "objective", objective.pk)
    return objective


def change_objective(
    objective: Objective,
    actor: Any,
    *,
    text: str,
    target_date: dt.date | None,
    status: str | None = None,
) -> Objective:
    words = _text(text, "The objective")
    if status is not None and status not in ObjectiveStatus.values:
        raise PlanInputError("Choose the objective's status from the list.")
    with transaction.atomic():
        current = _lock_draft(objective.goal.plan)
        objective.text = words
        objective.target_date = _target(current, target_date)
        if status is not None:
            objective.status = status
        objective.save(update_fields=["text", "target_date", "status"])
        _touch(current, actor)
        _row_audit(actor, current, "changed", "objective", objective.pk)
    return objective


def remove_objective(objective: Objective, actor: Any) -> None:
    with transaction.atomic():
        current = _lock_draft(objective.goal.plan)
        pk = objective.pk
        objective.delete()
        _touch(current, actor)
        _row_audit(actor, current, "removed", "objective", pk)


def _responsible_ok(plan: TreatmentPlan, user: Any) -> None:
    if user is None:
        return
    if not user.is_active or plan.program_id not in user.program_ids:
        raise PlanInputError("The person responsible must be staff of this program.")


def add_intervention(
    objective: Objective,
    actor: Any,
    *,
    template: InterventionTemplate | None = None,
    description: str = "",
    frequency: str,
    responsible: Any = None,
) -> PlanIntervention:
    if template is not None and (not template.active or template.retired):
        raise PlanInputError("That intervention is no longer in the library.")
    if template is not None and not (description or "").strip():
        description = template.description or template.name
    if template is None and not (description or "").strip():
        raise PlanInputError("Pick an intervention from the library or describe one.")
    words = _text(description, "The intervention")
    often = _text(frequency, "The frequency", limit=MAX_FREQUENCY)
    with transaction.atomic():
        current = _lock_draft(objective.goal.plan)
        _responsible_ok(current, responsible)
        item = PlanIntervention.objects.create(
            objective=objective,
            template=template,
            description=words,
            frequency=often,
            responsible=responsible,
            order=_next_order(objective.interventions.all()),
        )
        _touch(current, actor)
        _row_audit(actor, current, "added", "intervention", item.pk)
    return item


def change_intervention(
    item: PlanIntervention,
    actor: Any,
    *,
    description: str,
    frequency: str,
    responsible: Any = None,
) -> PlanIntervention:
    words = _text(description, "The intervention")
    often = _text(frequency, "The frequency", limit=MAX_FREQUENCY)
    with transaction.atomic():
        current = _lock_draft(item.objective.goal.plan)
        _responsible_ok(current, responsible)
        item.description = words
        item.frequency = often
        item.responsible = responsible
        item.save(update_fields=["description", "frequency", "responsible"])
        _touch(current, actor)
        _row_audit(actor, current, "changed", "intervention", item.pk)
    return item


def remove_intervention(item: PlanIntervention, actor: Any) -> None:
    with transaction.atomic():
        current = _lock_draft(item.objective.goal.plan)
        pk = item.pk
        item.delete()
        _touch(current, actor)
        _row_audit(actor, current, "removed", "intervention", pk)


# --- Signing ------------------------------------------------------------------------------


def missing_for_signature(plan: TreatmentPlan) -> list[str]:
    """What still stops the clinician from signing (empty: ready)."""
    problems = list(
        Problem.objects.filter(plan=plan).prefetch_related("goals__objectives").order_by("pk")
    )
    if not problems:
        return ["Add at least one problem."]
    missing = []
    for problem in problems:
        goals = list(problem.goals.all())
        label = problem.statement[:60]
        if not goals:
            missing.append(f"Problem “{label}” has no goal.")
        for goal in goals:
            objectives = list(goal.objectives.all())
            if not objectives:
                missing.append(f"Goal “{goal.text[:60]}” has no objective.")
            for obj in objectives:
                if obj.target_date is None:
                    missing.append(f"Objective “{obj.text[:60]}” has no target date.")
    return missing


def sign_as_clinician(
    plan: TreatmentPlan,
    actor: Any,
    *,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> TreatmentPlan:
    """Sign and lock the draft; the review falls due `program.plan_review_days` after it
    takes effect. The version it replaces is superseded."""
    if not actor.has_perm_code(Perm.PLAN_WRITE):
        raise PlanError("Only a clinician who writes plans can sign one.")
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock_draft(plan)
        _check_version(current, expected_version)
        missing = missing_for_signature(current)
        if missing:
            raise PlanError("Not ready to sign: " + " ".join(missing))
        today = current.program.today(now)
        older = list(
            TreatmentPlan.objects.select_for_update()
            .filter(episode_id=current.episode_id, status=PlanStatus.SIGNED, voided=False)
            .exclude(pk=current.pk)
        )
        for old in older:
            old.status = PlanStatus.SUPERSEDED
            old.superseded_at = now
            old.version += 1
            old.save(update_fields=["status", "superseded_at", "version"])
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                obj=old,
                changes={"status": ["signed", "superseded"], "by_version": current.number},
            )
        current.status = PlanStatus.SIGNED
        current.effective_date = today
        current.review_due = today + dt.timedelta(days=current.program.plan_review_days)
        current.signed_at = now
        current.clinician = actor
        current.signed_name = actor.get_full_name() or actor.username
        current.signed_credential = actor.credentials
        current.version += 1
        current.updated_by = actor
        current.updated_at = now
        current.save()
        PlanSignature.objects.create(
            plan=current,
            role=SignatureRole.CLINICIAN,
            user=actor,
            name=current.signed_name,
            credential=current.signed_credential,
            at=now,
        )
        audit.record(
            AuditAction.SIGN,
            actor=actor,
            obj=current,
            changes={"role": "clinician", "review_due": current.review_due.isoformat()},
        )
    return current


def _check_version(plan: TreatmentPlan, expected: int | None) -> None:
    if expected is not None and plan.version != expected:
        raise PlanError("The plan changed since you opened it: read it again below, then sign.")


def _lock_signed(plan: TreatmentPlan) -> TreatmentPlan:
    current = (
        TreatmentPlan.objects.select_for_update()
        .select_related("program", "participant")
        .get(pk=plan.pk)
    )
    if current.voided:
        raise PlanError("This plan version was voided.")
    if current.status == PlanStatus.DRAFT:
        raise PlanError("The clinician signs the plan first.")
    if current.status == PlanStatus.SUPERSEDED:
        raise PlanError("A newer version has been signed: sign that one.")
    return current


def sign_as_participant(
    plan: TreatmentPlan,
    actor: Any,
    *,
    typed_name: str,
    image: str = "",
    now: dt.datetime | None = None,
) -> PlanSignature:
    """The participant signs at the desk on a tablet handed over by `actor` (a clinician
    present, PLAN_WRITE): a typed name and, optionally, a drawn signature."""
    if not actor.has_perm_code(Perm.PLAN_WRITE):
        raise PlanError("A clinician who writes plans hands the tablet to the participant.")
    name = _text(typed_name, "The typed name", limit=MAX_NAME)
    image = (image or "").strip()
    try:
        validate_signature_image(image)
    except ValidationError as exc:
        raise PlanInputError(" ".join(exc.messages)) from None
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock_signed(plan)
        if current.signatures.filter(role=SignatureRole.PARTICIPANT).exists():
            raise PlanError("The participant has already signed this version.")
        signature = PlanSignature.objects.create(
            plan=current,
            role=SignatureRole.PARTICIPANT,
            user=None,
            witnessed_by=actor,
            name=current.participant.legal_name,
            typed_name=name,
            image=image,
            at=now,
        )
        audit.record(
            AuditAction.SIGN,
            actor=actor,
            obj=current,
            changes={"role": "participant", "drawn": bool(image)},
        )
    return signature


def sign_as_supervisor(
    plan: TreatmentPlan,
    actor: Any,
    *,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> PlanSignature:
    if not actor.has_perm_code(Perm.PLAN_APPROVE):
        raise PlanError("Only a clinical supervisor signs as supervisor.")
    now = now or timezone.now()
    with transaction.atomic():
        current = _lock_signed(plan)
        _check_version(current, expected_version)
        if current.clinician_id == actor.pk:
            raise PlanError("The supervisor's signature is someone else's than the clinician's.")
        if current.signatures.filter(role=SignatureRole.SUPERVISOR).exists():
            raise PlanError("A supervisor has already signed this version.")
        signature = PlanSignature.objects.create(
            plan=current,
            role=SignatureRole.SUPERVISOR,
            user=actor,
            name=actor.get_full_name() or actor.username,
            credential=actor.credentials,
            at=now,
        )
        audit.record(AuditAction.SIGN, actor=actor, obj=current, changes={"role": "supervisor"})
    return signature


def plans_needing_supervisor(programs: Iterable[Any]) -> Any:
    """Signed current plans without a supervisor's signature yet."""
    return (
        TreatmentPlan.objects.filter(
            program__in=list(programs), status=PlanStatus.SIGNED, voided=False
        )
        .exclude(Q(signatures__role=SignatureRole.SUPERVISOR))
        .select_related("participant", "clinician")
        .order_by("signed_at")
    )
