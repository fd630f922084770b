"""The treatment-plan goals and objectives a note addresses.

A note links to goals and objectives of the participant's signed plan in force: rows
of a signed plan never change (plans.models), so a link made today still shows the goal
as it was written. Drafts of a plan are not offered (their rows can still be removed).
A signed note's links are locked with it (see `_refuse_changes_to_signed_notes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch

from openiop.plans.choices import GoalStatus, PlanStatus
from openiop.plans.models import Goal, Objective


def addressable_goals(episode_ids: Iterable[int]) -> dict[int, list[Goal]]:
    """{episode id: the active goals of its signed plan in force, objectives prefetched}.
    Two queries whatever the number of episodes."""
    ids = sorted({int(i) for i in episode_ids})
    out: dict[int, list[Goal]] = {i: [] for i in ids}
    if not ids:
        return out
    goals = (
        Goal.objects.filter(
            plan__episode_id__in=ids,
            plan__status=PlanStatus.SIGNED,
            plan__voided=False,
            status=GoalStatus.ACTIVE,
        )
        .select_related("plan", "problem")
        .order_by("problem__asam_dimension", "problem__order", "order", "pk")
        .prefetch_related(
            Prefetch("objectives", queryset=Objective.objects.order_by("order", "pk"))
        )
    )
    for goal in goals:
        out[goal.plan.episode_id].append(goal)
    return out


class GoalChoiceError(ValueError):
    """A goal or objective that is not on the participant's signed plan."""


def check_choice(
    goals: list[Goal], goal_ids: Iterable[int], objective_ids: Iterable[int]
) -> tuple[list[int], list[int]]:
    """The chosen ids, checked against the goals offered; an objective's goal counts as
    addressed too."""
    offered_goals = {g.pk: g for g in goals}
    offered_objectives = {o.pk: g.pk for g in goals for o in g.objectives.all()}
    chosen_goals = sorted(set(goal_ids))
    chosen_objectives = sorted(set(objective_ids))
    if any(pk not in offered_goals for pk in chosen_goals) or any(
        pk not in offered_objectives for pk in chosen_objectives
    ):
        raise GoalChoiceError("Choose goals and objectives from the participant's signed plan.")
    with_parents = set(chosen_goals) | {offered_objectives[pk] for pk in chosen_objectives}
    return sorted(with_parents), chosen_objectives


def ids_from(values: Iterable[Any]) -> list[int]:
    """Posted ids; anything that is not a small positive whole number is refused."""
    out = []
    for raw in values:
        text = str(raw).strip()
        if not (text.isascii() and text.isdigit() and len(text) < 10):
            raise GoalChoiceError("Choose goals and objectives from the list.")
        out.append(int(text))
    return out


def addressed_by(note: Any) -> list[Goal]:
    """The goals a note addressed, each with `chosen_objectives` (those it named)."""
    objectives = list(note.objectives_addressed.all())
    goals = list(note.goals_addressed.order_by("order", "pk"))
    for goal in goals:
        goal.chosen_objectives = [o for o in objectives if o.goal_id == goal.pk]
    return goals
