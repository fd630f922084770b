"""The demo's contacts and relapse-prevention plans."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.demo import builder
from openiop.participants.models import Contact, Participant
from openiop.relapse.models import RelapsePlan
from openiop.relapse.queries import current_plan

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_active_participants_have_support_people_and_a_signed_plan():
    builder.build(today=DAY)
    active = Participant.objects.filter(current_episode__status="active")
    assert active.count() == 14
    for person in active:
        plan = current_plan(person.current_episode)
        assert plan is not None and plan.triggers and plan.craving_steps and plan.reasons
        assert plan.support_people.exists()
        assert plan.signed_at.date() <= DAY
        assert Contact.objects.filter(participant=person, is_support=True).exists()
    plans = RelapsePlan.objects.all()
    assert plans.filter(status="superseded").exists()  # some have a second version
    assert plans.filter(status="draft").exists()  # and one has a draft open
    assert plans.exclude(participant_signature="").exists()  # some signatures drawn
    assert plans.filter(status="signed", participant_signed_at__isnull=True).exists()
    # Everyone's emergency contact is a contact.
    assert Contact.objects.filter(is_emergency=True).count() == Participant.objects.count()
