"""The demo's participant portal: the published login `participant` (demo password),
made from an accepted invitation, with check-ins sent from the portal that the chart
shows as such."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.attendance.models import CheckIn
from openiop.demo import builder
from openiop.demo.portal import PARTICIPANT_LOGIN
from openiop.portal.models import PortalAccount

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 11, 24)


def test_the_demo_participant_signs_in_to_the_portal_and_sees_their_pages(client):
    builder.build(today=DAY)
    account = PortalAccount.objects.select_related("user", "participant").get(
        user__username=PARTICIPANT_LOGIN
    )
    assert account.kind == "participant" and account.invitation.accepted_at is not None
    portal_check_ins = CheckIn.objects.filter(participant=account.participant, source="portal")
    assert portal_check_ins.count() >= 3
    assert all(c.day < DAY for c in portal_check_ins)
    response = client.post(
        reverse("portal:login"),
        {"username": PARTICIPANT_LOGIN, "password": builder.DEMO_PASSWORD},
    )
    assert response.status_code == 302
    for name in ("portal:home", "portal:plan", "portal:progress"):
        assert client.get(reverse(name)).status_code == 200
    page = client.get(reverse("portal:plan")).content.decode()
    assert "My treatment goals" in page and "is not signed yet" not in page
