"""The demo's treatment plans."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.demo import builder
from openiop.participants.models import Participant
from openiop.plans import services
from openiop.plans.models import PlanSignature, TreatmentPlan
from openiop.programs.models import Program

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_active_participants_have_a_signed_plan_some_revised_some_overdue():
    builder.build(today=DAY)
    active = Participant.objects.filter(current_episode__status="active")
    assert active.count() > 5
    for person in active:
        plan = services.current_plan(person.current_episode)
        assert plan is not None, person
        assert plan.effective_date <= DAY
        assert services.missing_for_signature(plan) == []
    plans = TreatmentPlan.objects.all()
    assert plans.filter(status="superseded").exists()  # a few have 2 versions
    assert plans.filter(status="draft").exists()  # a new version in progress
    signatures = PlanSignature.objects.all()
    assert signatures.filter(role="participant").exclude(image="").exists()
    assert signatures.filter(role="supervisor").exists()
    program = Program.objects.get(is_demo=True)
    due = services.reviews_due([program], today=DAY)
    assert any(r.overdue for r in due)
    # The counsellor's caseload has reviews due too.
    counsellor = active.first().current_episode.primary_counsellor
    assert services.reviews_due([program], counsellor=counsellor, today=DAY)
