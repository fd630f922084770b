"""The billing board, the days of service, the days at risk (page and CSV) and the today
board's billing panels."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.billing.choices import Risk
from openiop.billing.models import Authorisation
from openiop.billing.tests.test_risks import attend, free_day
from openiop.core.models import AuditEvent
from openiop.testing import add_billing


@pytest.fixture
def billed(world):
    add_billing(world)
    return world


def test_board_shows_an_authorisation_running_out_and_days_at_risk(billed, login):
    Authorisation.objects.filter(pk=billed.authorisation.pk).update(units=3)
    day = free_day(billed, 10)
    attend(billed, day, note="draft")
    client = login(billed.billing)
    response = client.get(reverse("billing:board"))
    assert response.status_code == 200
    rows = response.context["attention"]
    assert [u.authorisation.pk for u in rows] == [billed.authorisation.pk]
    # world.session's day and the day with a draft note (3 hours, note pending) use units.
    assert rows[0].used == 2 and rows[0].remaining == 1
    assert "Only 1 unit left" in rows[0].alerts
    reasons = {r["code"]: r["count"] for r in response.context["reasons"]}
    assert reasons == {Risk.NOTE_UNSIGNED: 1}
    assert response.context["unclaimed"] == 1 and response.context["claimable"] == 1
    assert AuditEvent.objects.filter(actor=billed.billing, object_type="billing.board").exists()


def test_board_without_a_billing_profile(world, login):
    response = login(world.billing).get(reverse("billing:board"))
    assert response.status_code == 200
    assert "data-no-profile" in response.content.decode()


def test_days_page_shows_each_day_with_why(billed, login):
    day = free_day(billed, 3)
    attend(billed, day, note=None)
    client = login(billed.billing)
    start = (billed.program.today() - dt.timedelta(days=40)).isoformat()
    end = billed.program.today().isoformat()
    response = client.get(reverse("billing:days"), {"start": start, "end": end})
    assert response.status_code == 200
    shown = {(d.day, d.billable) for d in response.context["page"].object_list}
    assert (billed.session.date, True) in shown and (day, False) in shown
    body = response.content.decode()
    assert "H0015" in body and "no note" in body
    only = client.get(reverse("billing:days"), {"start": start, "end": end, "show": "not_billable"})
    assert [d.day for d in only.context["page"].object_list] == [day]


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-03-02", "end": "2026-03-01"},
        {"start": "not-a-date", "end": "2026-03-01"},
        {"start": "2020-01-01", "end": "2026-01-01"},
        {"start": "2026-01-01", "end": "2026-01-31", "show": "bogus"},
        {"start": "2026-01-01", "end": "2026-01-31", "show": "a\x00b"},
    ],
)
def test_bad_filters_answer_400(billed, login, params):
    client = login(billed.billing)
    assert client.get(reverse("billing:days"), params).status_code == 400
    # The risk pages have a reason where the days page has "show".
    if "show" in params:
        params = {"start": params["start"], "end": params["end"], "reason": "bogus\x00"}
    assert client.get(reverse("billing:risks"), params).status_code == 400
    assert client.get(reverse("billing:risks_csv"), params).status_code == 400


def test_another_program_is_refused(billed, login):
    client = login(billed.billing)
    url = reverse("billing:board") + f"?program={billed.other_program.pk}"
    assert client.get(url).status_code == 400


def test_risk_page_filters_by_reason_and_the_csv_is_an_audited_export(billed, login):
    a, b = free_day(billed, 10), free_day(billed, 12)
    attend(billed, a, note=None)
    attend(billed, b, note="draft")
    client = login(billed.billing)
    params = {"start": min(a, b).isoformat(), "end": max(a, b).isoformat()}
    page = client.get(reverse("billing:risks"), {**params, "reason": Risk.NOTE_MISSING})
    assert page.status_code == 200
    assert [r.day.day for r in page.context["rows"]] == [a]
    assert page.context["report"].counts == {Risk.NOTE_MISSING: 1, Risk.NOTE_UNSIGNED: 1}
    csv = client.get(reverse("billing:risks_csv"), params)
    assert csv.status_code == 200
    lines = csv.content.decode().strip().splitlines()
    assert lines[0].startswith("date,record number,participant")
    assert len(lines) == 3
    assert AuditEvent.objects.filter(
        actor=billed.billing, action="export", object_type="billing.risks"
    ).exists()


def test_today_board_panels(billed, login):
    Authorisation.objects.filter(pk=billed.authorisation.pk).update(units=2)
    attend(billed, free_day(billed, 10), note=None)
    # The counsellor (world.active's) sees the authorisation running out, not the risks.
    board = login(billed.counsellor).get(reverse("core:today")).content.decode()
    assert "data-panel-authorisations" in board and "AUTH-1001" in board
    assert "data-panel-risks" not in board
    # Billing sees both.
    board = login(billed.billing).get(reverse("core:today")).content.decode()
    assert "data-panel-authorisations" in board and "data-panel-risks" in board
    assert "No note for a session attended" in board
    # A counsellor of another caseload, narrowed to care teams, sees none.
    billed.program.counsellors_see_care_team_only = True
    billed.program.save(update_fields=["counsellors_see_care_team_only"])
    board = login(billed.supervisee).get(reverse("core:today")).content.decode()
    assert "data-panel-authorisations" not in board
