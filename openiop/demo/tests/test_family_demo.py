"""The demo's family involvement (issue 9): consented family members, weekly family
workshops with invitations and family attendance, education in English and Spanish, and
the published family portal login."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from openiop.demo import builder

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_the_demo_has_families_workshops_education_and_a_family_login():
    from openiop.family import access
    from openiop.family.models import EducationArticle, FamilyAttendance, FamilyInvitation
    from openiop.portal.models import PortalAccount
    from openiop.scheduling.models import Session

    builder.build(today=DAY)
    workshops = Session.objects.filter(kind="family_workshop").order_by("date")
    assert workshops.count() == 8
    assert {s.date.weekday() for s in workshops} == {1}  # Tuesday evenings
    past = [s for s in workshops if s.date < DAY]
    assert FamilyAttendance.objects.filter(session__in=past).count() >= 10
    assert not FamilyAttendance.objects.filter(session__date__gt=DAY).exists()
    invited = {i.contact for i in FamilyInvitation.objects.select_related("contact")}
    # Everyone invited had a consent in force (the gate, asked today).
    assert invited and all(access.family_decision(c, on=DAY).allowed for c in invited)
    published = EducationArticle.objects.filter(published=True)
    assert set(published.values_list("language", flat=True)) == {"en", "es"}
    assert set(published.values_list("section", flat=True)) == {"education", "support"}
    assert EducationArticle.objects.filter(published=False).count() == 1

    account = PortalAccount.objects.get(user__username="family")
    assert account.kind == "family" and account.contact.name == "Marisol Vega"
    client = Client()
    response = client.post("/my/sign-in/", {"username": "family", "password": "openiop-demo"})
    assert response.status_code == 302 and response["Location"] == "/family/"
    home = client.get("/family/")
    assert home.status_code == 200
    assert b"Family workshop" in home.content
    # Marisol's consent also covers attendance: the participant's hours are shown.
    assert home.context["weeks"]


def test_the_demo_builds_the_same_families_from_the_same_seed():
    from django.db import transaction

    from openiop.family.models import FamilyAttendance

    results = []
    for _ in range(2):
        try:
            with transaction.atomic():
                builder.build(today=DAY)
                results.append(
                    sorted(
                        (m.contact.name, str(m.session.date), m.status)
                        for m in FamilyAttendance.objects.select_related("contact", "session")
                    )
                )
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
    assert results[0] == results[1] and results[0]
