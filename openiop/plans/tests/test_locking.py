"""A signed plan version cannot change through the ORM: model save and delete, QuerySet
update and delete, on the plan and on every row under it. Signatures are written once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openiop.plans import services
from openiop.plans.models import (
    Goal,
    Objective,
    PlanIntervention,
    PlanSignature,
    Problem,
    SignedRecordError,
    TreatmentPlan,
)


def rows_of(plan):
    return {
        "problem": Problem.objects.get(plan=plan),
        "goal": Goal.objects.get(plan=plan),
        "objective": Objective.objects.get(goal__plan=plan),
        "intervention": PlanIntervention.objects.get(objective__goal__plan=plan),
    }


def test_a_signed_plan_refuses_save(world):
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    plan.participant_statement = "changed"
    with pytest.raises(SignedRecordError):
        plan.save()
    with pytest.raises(SignedRecordError):
        plan.save(update_fields=["participant_statement"])
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    plan.review_due = dt.date(2031, 1, 1)
    with pytest.raises(SignedRecordError):
        plan.save(update_fields=["review_due"])
    # Not back to a draft, even touching only the status.
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    plan.status = "draft"
    with pytest.raises(SignedRecordError):
        plan.save(update_fields=["status"])
    assert TreatmentPlan.objects.get(pk=world.plan.pk).status == "signed"


def test_a_signed_plan_may_only_become_superseded(world):
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    plan.status = "superseded"
    plan.superseded_at = timezone.now()
    plan.save(update_fields=["status", "superseded_at"])
    plan.status = "signed"
    with pytest.raises(SignedRecordError):
        plan.save(update_fields=["status"])
    plan = TreatmentPlan.objects.get(pk=world.plan.pk)
    plan.change_summary = "x"
    with pytest.raises(SignedRecordError):  # superseded is locked too
        plan.save()


def test_a_signed_plan_refuses_queryset_update_and_delete(world):
    qs = TreatmentPlan.objects.filter(pk=world.plan.pk)
    with pytest.raises(SignedRecordError):
        qs.update(change_summary="changed")
    with pytest.raises(SignedRecordError):
        qs.update(status="draft")
    with pytest.raises(SignedRecordError):
        TreatmentPlan.objects.all().update(effective_date=dt.date(2020, 1, 1))
    with pytest.raises(SignedRecordError):
        qs.delete()
    with pytest.raises(SignedRecordError):
        TreatmentPlan.objects.get(pk=world.plan.pk).delete()
    # Drafts are clinical records too: voided, never deleted.
    with pytest.raises(TypeError):
        TreatmentPlan.objects.get(pk=world.draft_plan.pk).delete()
    assert qs.update(status="superseded") == 1


@pytest.mark.parametrize("kind", ["problem", "goal", "objective", "intervention"])
def test_rows_of_a_signed_plan_refuse_save_and_delete(world, kind):
    row = rows_of(world.plan)[kind]
    field = {
        "problem": "statement",
        "goal": "text",
        "objective": "text",
        "intervention": "description",
    }[kind]
    setattr(row, field, "changed")
    with pytest.raises(SignedRecordError):
        row.save()
    with pytest.raises(SignedRecordError):
        row.delete()
    fresh = type(row).objects.get(pk=row.pk)
    assert getattr(fresh, field) != "changed"


@pytest.mark.parametrize(
    ("model", "path", "changes"),
    [
        (Problem, "plan", {"statement": "x"}),
        (Goal, "plan", {"status": "achieved"}),
        (Objective, "goal__plan", {"target_date": dt.date(2030, 1, 1)}),
        (PlanIntervention, "objective__goal__plan", {"frequency": "never"}),
    ],
)
def test_rows_of_a_signed_plan_refuse_queryset_update_and_delete(world, model, path, changes):
    qs = model.objects.filter(**{path: world.plan})
    with pytest.raises(SignedRecordError):
        qs.update(**changes)
    with pytest.raises(SignedRecordError):
        model.objects.all().update(**changes)  # a mix of draft and signed rows
    with pytest.raises(SignedRecordError):
        qs.delete()
    assert qs.count() == 1
    # The draft's rows still change.
    assert model.objects.filter(**{path: world.draft_plan}).update(**changes) == 1


def test_rows_cannot_be_added_to_or_moved_into_a_signed_plan(world):
    signed, draft = world.plan, world.draft_plan
    signed_rows, draft_rows = rows_of(signed), rows_of(draft)
    with pytest.raises(SignedRecordError):
        Problem.objects.create(plan=signed, asam_dimension=1, statement="new")
    with pytest.raises(SignedRecordError):
        Goal.objects.create(plan=signed, problem=signed_rows["problem"], text="new")
    with pytest.raises(SignedRecordError):
        Objective.objects.create(goal=signed_rows["goal"], text="new")
    with pytest.raises(SignedRecordError):
        PlanIntervention.objects.create(
            objective=signed_rows["objective"], description="new", frequency="daily"
        )
    # A draft row moved under a signed plan.
    problem = draft_rows["problem"]
    problem.plan = signed
    with pytest.raises(SignedRecordError):
        problem.save()
    with pytest.raises(SignedRecordError):
        Problem.objects.filter(pk=problem.pk).update(plan=signed)
    with pytest.raises(SignedRecordError):
        Objective.objects.filter(pk=draft_rows["objective"].pk).update(goal=signed_rows["goal"])
    with pytest.raises(SignedRecordError):
        PlanIntervention.objects.filter(pk=draft_rows["intervention"].pk).update(
            objective_id=signed_rows["objective"].pk
        )
    goal = draft_rows["goal"]
    goal.problem = signed_rows["problem"]
    with pytest.raises(SignedRecordError):
        goal.save()


def test_services_refuse_to_edit_a_signed_version(world):
    rows = rows_of(world.plan)
    actor = world.counsellor
    calls = [
        lambda: services.add_problem(world.plan, actor, asam_dimension=1, statement="x"),
        lambda: services.change_problem(rows["problem"], actor, asam_dimension=1, statement="x"),
        lambda: services.remove_problem(rows["problem"], actor),
        lambda: services.add_goal(rows["problem"], actor, text="x"),
        lambda: services.change_goal(rows["goal"], actor, text="x"),
        lambda: services.remove_goal(rows["goal"], actor),
        lambda: services.add_objective(rows["goal"], actor, text="x", target_date=None),
        lambda: services.change_objective(rows["objective"], actor, text="x", target_date=None),
        lambda: services.remove_objective(rows["objective"], actor),
        lambda: services.add_intervention(
            rows["objective"], actor, description="x", frequency="daily"
        ),
        lambda: services.change_intervention(
            rows["intervention"], actor, description="x", frequency="daily"
        ),
        lambda: services.remove_intervention(rows["intervention"], actor),
        lambda: services.update_plan(world.plan, actor, participant_statement="x"),
        lambda: services.sign_as_clinician(world.plan, actor),
    ]
    for call in calls:
        with pytest.raises(SignedRecordError):
            call()
    assert rows_of(world.plan) == rows


def test_signatures_are_written_once(world):
    sig = PlanSignature.objects.get(plan=world.plan, role="clinician")
    sig.name = "someone else"
    with pytest.raises(SignedRecordError):
        sig.save()
    with pytest.raises(SignedRecordError):
        sig.delete()
    with pytest.raises(SignedRecordError):
        PlanSignature.objects.filter(pk=sig.pk).update(name="x")
    with pytest.raises(SignedRecordError):
        PlanSignature.objects.filter(pk=sig.pk).delete()
    # Nobody signs a draft: the clinician signs first.
    with pytest.raises(SignedRecordError):
        PlanSignature.objects.create(plan=world.draft_plan, role="participant", name="Pat")
