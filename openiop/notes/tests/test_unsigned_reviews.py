"""Unsigned work lists overdue plan reviews: a counsellor's own caseload, and the whole
program for a director."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse


def test_overdue_plan_reviews_are_on_the_unsigned_work_page(world, login):
    plan = world.plan
    assert plan.review_due is not None
    url = reverse("notes_home:unsigned")
    page = login(world.counsellor).get(url)
    assert page.context["my_reviews"] == []
    later = dt.datetime.combine(plan.review_due + dt.timedelta(days=2), dt.time(15), dt.UTC)
    with time_machine.travel(later, tick=False):
        page = login(world.counsellor).get(url)
        [row] = page.context["my_reviews"]
        assert row.plan.pk == plan.pk and row.days_overdue == 2
        # The version-2 draft in the test world shows as a new version in progress.
        assert row.has_draft
        assert "2 days overdue" in page.content.decode()
        # A director sees other counsellors' overdue reviews across the program.
        director = login(world.director).get(url)
        assert [r.plan.pk for r in director.context["program_reviews"]] == [plan.pk]
        # Billing has no unsigned work page at all.
        assert login(world.billing).get(url).status_code == 403
