"""A participant's coverage and authorisations: every rule of coverage_services, the
pages that record them (version checks, voiding, renewals), the billing overview with
each day's why, and the chart's Coverage section."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.billing import coverage_services as services
from openiop.billing.choices import CoverageKind, Priority, Relationship
from openiop.billing.models import Authorisation, Coverage, Payer, SlidingFeeTier
from openiop.core.models import AuditEvent
from openiop.testing import add_billing, add_coverage_days

pytestmark = pytest.mark.django_db

D = dt.date(2026, 3, 1)


def days(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def insurance(**values):
    base = {
        "kind": CoverageKind.INSURANCE,
        "payer": None,
        "priority": Priority.PRIMARY,
        "member_id": "M1",
        "relationship": Relationship.SELF,
        "start_date": D,
        "end_date": None,
    }
    return {**base, **values}


def self_pay(**values):
    base = {
        "kind": CoverageKind.SELF_PAY,
        "payer": None,
        "priority": Priority.PRIMARY,
        "start_date": D,
        "end_date": None,
        "household_size": None,
        "annual_income": None,
    }
    return {**base, **values}


@pytest.fixture
def payer(world):
    add_billing(world)
    return world.payer


def other(payer, start, end=None, priority=Priority.PRIMARY, voided=False, kind="insurance"):
    return Coverage(
        kind=kind,
        payer=payer if kind == "insurance" else None,
        priority=priority,
        member_id="OLD-9",
        start_date=start,
        end_date=end,
        voided=voided,
    )


# --- coverage rules -----------------------------------------------------------------------


def test_overlaps():
    assert services.overlaps(D, days(10), days(10), days(20))  # one shared day
    assert not services.overlaps(D, days(9), days(10), days(20))
    assert services.overlaps(D, None, days(400), None)  # open ends run for ever
    assert not services.overlaps(days(21), None, days(10), days(20))
    assert services.overlaps(days(5), days(6), D, None)


def test_coverage_end_before_start(payer):
    problems = services.coverage_problems(
        insurance(payer=payer, end_date=days(-1)), others=[], today=D
    )
    assert problems == {"end_date": "The coverage ends before it starts."}
    # Ending the day it starts is a one-day coverage.
    assert services.coverage_problems(insurance(payer=payer, end_date=D), others=[], today=D) == {}


def test_insurance_needs_a_payer_still_billed_and_a_member_id(payer):
    problems = services.coverage_problems(insurance(member_id=" "), others=[], today=D)
    assert set(problems) == {"payer", "member_id"}
    payer.retired = True
    problems = services.coverage_problems(insurance(payer=payer), others=[], today=D)
    assert problems == {"payer": "Harbor Health Plan is retired: choose a payer still billed."}
    # An edited coverage keeps the payer it has, even once retired.
    kept = services.coverage_problems(
        insurance(payer=payer), others=[], today=D, keep_payer_id=payer.pk
    )
    assert kept == {}


def test_subscriber_fields_when_the_participant_is_not_the_subscriber(payer):
    values = insurance(payer=payer, relationship=Relationship.SPOUSE)
    problems = services.coverage_problems(values, others=[], today=D)
    assert set(problems) == {
        "subscriber_first_name",
        "subscriber_last_name",
        "subscriber_date_of_birth",
        "subscriber_sex",
    }
    complete = {
        **values,
        "subscriber_first_name": "Sam",
        "subscriber_last_name": "Rivera",
        "subscriber_date_of_birth": dt.date(1980, 5, 17),
        "subscriber_sex": "M",
    }
    assert services.coverage_problems(complete, others=[], today=D) == {}
    future = {**complete, "subscriber_date_of_birth": days(1)}
    assert set(services.coverage_problems(future, others=[], today=D)) == {
        "subscriber_date_of_birth"
    }


def test_one_primary_insurance_in_force_at_a_time(payer):
    running = other(payer, days(-30))
    problems = services.coverage_problems(insurance(payer=payer), others=[running], today=D)
    assert list(problems) == ["start_date"]
    assert "Harbor Health Plan (member id OLD-9), from 2026-01-30" in problems["start_date"]
    # It ended the day before: no overlap.
    ended = other(payer, days(-30), days(-1))
    assert services.coverage_problems(insurance(payer=payer), others=[ended], today=D) == {}
    # A later insurance whose dates reach this one's (an open end runs for ever).
    later = other(payer, days(100))
    assert "start_date" in services.coverage_problems(
        insurance(payer=payer), others=[later], today=D
    )
    assert (
        services.coverage_problems(
            insurance(payer=payer, end_date=days(99)), others=[later], today=D
        )
        == {}
    )
    # A secondary beside the primary, a voided primary, a self-pay arrangement: fine.
    secondary = insurance(payer=payer, priority=Priority.SECONDARY)
    assert services.coverage_problems(secondary, others=[running], today=D) == {}
    voided = other(payer, days(-30), voided=True)
    assert services.coverage_problems(insurance(payer=payer), others=[voided], today=D) == {}
    cash = other(payer, days(-30), kind="self_pay")
    assert services.coverage_problems(insurance(payer=payer), others=[cash], today=D) == {}


def test_self_pay_needs_the_household_or_says_the_full_fee_applies(payer):
    assert set(services.coverage_problems(self_pay(), others=[], today=D)) == {"household_size"}
    assert services.coverage_problems(self_pay(), others=[], full_fee=True, today=D) == {}
    assessed = self_pay(household_size=3, annual_income=Decimal("30000"))
    assert services.coverage_problems(assessed, others=[], today=D) == {}
    assert set(services.coverage_problems(assessed, others=[], full_fee=True, today=D)) == {
        "full_fee"
    }
    only_size = self_pay(household_size=3)
    assert set(services.coverage_problems(only_size, others=[], today=D)) == {"annual_income"}
    only_income = self_pay(annual_income=Decimal("1"))
    assert set(services.coverage_problems(only_income, others=[], today=D)) == {"household_size"}
    with_payer = self_pay(payer=payer, household_size=1, annual_income=Decimal("0"))
    assert set(services.coverage_problems(with_payer, others=[], today=D)) == {"payer"}


# --- authorisation rules ----------------------------------------------------------------------


def auth_values(cov, **values):
    base = {
        "coverage": cov,
        "service_code": "H0015",
        "units": 10,
        "start_date": cov.start_date + dt.timedelta(days=1),
        "end_date": cov.start_date + dt.timedelta(days=20),
        "reference_number": "A-1",
        "next_review_on": None,
    }
    return {**base, **values}


def test_an_authorisation_belongs_to_an_insurance_with_a_payer(world, payer):
    cov = world.coverage
    assert services.authorisation_problems(auth_values(cov)) == {}
    none = {**auth_values(cov), "coverage": None}
    assert set(services.authorisation_problems(none)) == {"coverage"}
    cash = Coverage(kind=CoverageKind.SELF_PAY, start_date=cov.start_date)
    assert set(services.authorisation_problems(auth_values(cash))) == {"coverage"}
    cov.voided = True
    assert services.authorisation_problems(auth_values(cov)) == {
        "coverage": "That coverage was voided."
    }


def test_authorisation_units_and_dates(world, payer):
    cov = world.coverage
    start = cov.start_date
    assert set(services.authorisation_problems(auth_values(cov, units=0))) == {"units"}
    assert set(services.authorisation_problems(auth_values(cov, units=1000))) == {"units"}
    assert services.authorisation_problems(auth_values(cov, units=999)) == {}
    backwards = auth_values(cov, start_date=start + dt.timedelta(days=5), end_date=start)
    assert services.authorisation_problems(backwards) == {
        "end_date": "The authorisation ends before it starts."
    }
    one_day = auth_values(cov, start_date=start, end_date=start)
    assert services.authorisation_problems(one_day) == {}
    early = auth_values(cov, start_date=start - dt.timedelta(days=1))
    assert "start_date" in services.authorisation_problems(early)
    # Inside the coverage's end when it has one.
    cov.end_date = start + dt.timedelta(days=10)
    problems = services.authorisation_problems(auth_values(cov))
    assert list(problems) == ["end_date"]
    assert f"{cov.end_date:%Y-%m-%d}" in problems["end_date"]
    review = auth_values(cov, end_date=start + dt.timedelta(days=9), next_review_on=start)
    assert list(services.authorisation_problems(review)) == ["next_review_on"]


def test_an_edit_cannot_lower_units_below_those_used(world, payer):
    values = auth_values(world.coverage, units=3)
    assert services.authorisation_problems(values, used=4, editing=True) == {
        "units": "4 units are already used by days of service: the authorisation cannot "
        "have fewer than 4."
    }
    assert services.authorisation_problems(values, used=3, editing=True) == {}
    assert services.authorisation_problems(values, used=4) == {}  # a new one uses nothing


def test_renewal_starts_the_day_after_or_today(world, payer):
    auth = world.authorisation  # today − 30 to today + 30, 20 units
    today = world.program.today()
    renewal = services.renewal_of(auth, today=today)
    assert renewal == services.Renewal(
        today + dt.timedelta(days=31), today + dt.timedelta(days=91), 20
    )
    auth.start_date, auth.end_date = today - dt.timedelta(days=60), today - dt.timedelta(days=40)
    renewal = services.renewal_of(auth, today=today)
    assert (renewal.start_date, renewal.end_date) == (today, today + dt.timedelta(days=20))
    # Not beyond the coverage's end.
    auth.coverage.end_date = today + dt.timedelta(days=5)
    assert services.renewal_of(auth, today=today).end_date == today + dt.timedelta(days=5)


def test_chains_put_renewals_after_what_they_renew():
    def a(pk, start, renews=None):
        auth = Authorisation(pk=pk, start_date=days(start), end_date=days(start + 9), units=1)
        auth.renews_id = renews
        return auth

    first, second, third, lone = a(1, 0), a(2, 10, renews=1), a(3, 20, renews=2), a(4, 5)
    chains = services.chains([third, lone, first, second])
    assert [[x.pk for x in chain] for chain in chains] == [[1, 2, 3], [4]]
    # A renewal of something not shown starts its own chain.
    assert [[x.pk for x in c] for c in services.chains([second, lone])] == [[2], [4]]


# --- the pages ------------------------------------------------------------------------------


def coverage_post(world, **changes):
    data = {
        "kind": "insurance",
        "payer": str(world.payer.pk),
        "priority": "2",
        "member_id": "SEC-42",
        "group_number": "",
        "plan_name": "",
        "relationship": "18",
        "subscriber_first_name": "",
        "subscriber_last_name": "",
        "subscriber_date_of_birth": "",
        "subscriber_sex": "",
        "patient_sex": "F",
        "start_date": world.program.today().isoformat(),
        "end_date": "",
        "verified": "on",
        "household_size": "",
        "annual_income": "",
    }
    return {**data, **changes}


def test_the_referrals_insurance_is_offered(world, login, payer):
    from openiop.intake.models import Referral

    Referral.objects.create(
        episode=world.active.current_episode,
        participant=world.active,
        program=world.program,
        reason="Drinking daily",
        insurance_payer="harbor health plan",
        insurance_member_id="REF-777",
    )
    page = login(world.intake).get(reverse("coverage:coverage_new", args=[world.active.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert (form.initial["payer"], form.initial["member_id"]) == (world.payer.pk, "REF-777")
    assert "REF-777" in page.content.decode()


def test_a_second_primary_is_refused_and_a_verified_secondary_recorded(world, login, payer):
    client = login(world.intake)
    url = reverse("coverage:coverage_new", args=[world.active.pk])
    response = client.post(url, coverage_post(world, priority="1"))
    assert response.status_code == 400
    assert "HHP123456" in " ".join(response.context["form"].errors["start_date"])
    assert client.post(url, coverage_post(world)).status_code == 302
    made = Coverage.objects.get(member_id="SEC-42")
    assert (made.priority, made.verified_on, made.verified_by_name) == (
        2,
        world.program.today(),
        world.intake.get_full_name(),
    )
    assert AuditEvent.objects.filter(
        action="create", object_type="billing.coverage", object_id=str(made.pk)
    ).exists()


def test_self_pay_is_recorded_with_its_sliding_fee(world, login, payer):
    SlidingFeeTier.objects.create(program=world.program, up_to_percent=200, fee_per_day=75)
    Coverage.objects.filter(pk=world.coverage.pk).update(
        end_date=world.program.today() - dt.timedelta(days=1)
    )
    client = login(world.billing)
    url = reverse("coverage:coverage_new", args=[world.active.pk])
    data = coverage_post(world, kind="self_pay", payer="", priority="1", member_id="")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "household_size" in response.context["form"].errors
    assert (
        client.post(url, {**data, "household_size": "3", "annual_income": "30000"}).status_code
        == 302
    )
    cash = Coverage.objects.get(kind="self_pay")
    assert (cash.household_size, cash.annual_income, cash.payer_id) == (3, Decimal("30000"), None)
    page = client.get(reverse("coverage:overview", args=[world.active.pk])).content.decode()
    # 30,000 is 113% of the guideline for three: the tier up to 200%.
    assert "$75.00</strong> a day" in page


def test_coverage_edit_with_a_stale_version_is_refused(world, login, payer):
    client = login(world.billing)
    url = reverse("coverage:coverage_edit", args=[world.active.pk, world.coverage.pk])
    data = coverage_post(world, priority="1", member_id="HHP123456", version="1")
    data["start_date"] = world.coverage.start_date.isoformat()
    assert client.post(url, {**data, "group_number": "G-2"}).status_code == 302
    world.coverage.refresh_from_db()
    assert (world.coverage.group_number, world.coverage.version) == ("G-2", 2)
    response = client.post(url, {**data, "group_number": "G-3"})
    assert response.status_code == 409
    world.coverage.refresh_from_db()
    assert world.coverage.group_number == "G-2"


def test_voiding_coverage_waits_for_its_authorisations(world, login, payer):
    client = login(world.billing)
    url = reverse("coverage:coverage_void", args=[world.active.pk, world.coverage.pk])
    response = client.post(url, {"version": "1", "reason": "Entered on the wrong person"})
    assert response.status_code == 409
    assert "AUTH-1001" in response.content.decode()
    auth_url = reverse(
        "coverage:authorisation_void", args=[world.active.pk, world.authorisation.pk]
    )
    assert client.post(auth_url, {"version": "1", "reason": "Wrong person"}).status_code == 302
    assert client.post(url, {"version": "1", "reason": "Wrong person"}).status_code == 302
    world.coverage.refresh_from_db()
    assert world.coverage.voided and world.coverage.void_reason == "Wrong person"
    assert world.coverage.voided_by == world.billing
    assert AuditEvent.objects.filter(action="void", object_type="billing.coverage").exists()
    # Voided records are gone from the page's lists, kept below them.
    overview = client.get(reverse("coverage:overview", args=[world.active.pk]))
    assert overview.context["coverages"] == [] and overview.context["chains"] == []
    assert overview.context["voided_coverages"] == [world.coverage]


def auth_post(world, **changes):
    today = world.program.today()
    data = {
        "coverage": str(world.coverage.pk),
        "service_code": "H0015",
        "units": "10",
        "start_date": (today + dt.timedelta(days=31)).isoformat(),
        "end_date": (today + dt.timedelta(days=60)).isoformat(),
        "reference_number": "AUTH-2002",
        "next_review_on": "",
        "reviewer": "",
        "notes": "",
    }
    return {**data, **changes}


def test_an_authorisation_before_its_coverage_is_refused(world, login, payer):
    client = login(world.billing)
    url = reverse("coverage:authorisation_new", args=[world.active.pk])
    early = (world.coverage.start_date - dt.timedelta(days=1)).isoformat()
    response = client.post(url, auth_post(world, start_date=early))
    assert response.status_code == 400
    assert "start_date" in response.context["form"].errors
    assert client.post(url, auth_post(world)).status_code == 302
    assert Authorisation.objects.filter(reference_number="AUTH-2002", renews=None).exists()


def test_an_edit_below_the_units_used_says_how_many(world, login, payer):
    # world.session's day plus three more days of three hours: 4 units used.
    add_coverage_days(world, [3, 5, 9])
    client = login(world.billing)
    url = reverse("coverage:authorisation_edit", args=[world.active.pk, world.authorisation.pk])
    page = client.get(url)
    assert page.context["used"] == 4
    auth = world.authorisation
    data = auth_post(
        world,
        units="3",
        start_date=auth.start_date.isoformat(),
        end_date=auth.end_date.isoformat(),
        reference_number="AUTH-1001",
        version="1",
    )
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["form"].errors["units"] == [
        "4 units are already used by days of service: the authorisation cannot have fewer "
        "than 4."
    ]
    assert client.post(url, {**data, "units": "4"}).status_code == 302
    auth.refresh_from_db()
    assert (auth.units, auth.version) == (4, 2)


def test_renewing_continues_the_authorisation_once(world, login, payer):
    client = login(world.billing)
    auth = world.authorisation
    url = reverse("coverage:authorisation_renew", args=[world.active.pk, auth.pk])
    initial = client.get(url).context["form"].initial
    assert initial["start_date"] == auth.end_date + dt.timedelta(days=1)
    assert (initial["units"], initial["coverage"]) == (20, world.coverage.pk)
    assert client.post(url, auth_post(world, reference_number="AUTH-1002")).status_code == 302
    renewal = Authorisation.objects.get(reference_number="AUTH-1002")
    assert renewal.renews == auth and renewal.episode_id == world.active.current_episode_id
    again = client.post(url, auth_post(world, reference_number="AUTH-1003"))
    assert again.status_code == 409
    assert "AUTH-1001 was already renewed by AUTH-1002" in again.content.decode()
    chains = client.get(reverse("coverage:overview", args=[world.active.pk])).context["chains"]
    assert [[row["auth"].reference_number for row in chain] for chain in chains] == [
        ["AUTH-1001", "AUTH-1002"]
    ]


def test_the_overview_shows_usage_alerts_and_why_each_day(world, login, payer):
    add_coverage_days(world, [2])  # a day of three hours without a note
    add_coverage_days(world, [4], minutes=60)  # too short
    today = world.program.today()
    # The review falls within the profile's 5 days' warning.
    Authorisation.objects.filter(pk=world.authorisation.pk).update(
        next_review_on=today + dt.timedelta(days=3)
    )
    client = login(world.counsellor)
    response = client.get(reverse("coverage:overview", args=[world.active.pk]))
    assert response.status_code == 200
    context = response.context
    row = context["chains"][0][0]
    assert (row["usage"].used, row["usage"].remaining, row["usage"].percent_used) == (2, 18, 10)
    review = f"Concurrent review due {today + dt.timedelta(days=3):%Y-%m-%d}"
    assert row["usage"].alerts == (review,)
    by_day = {d.day: d for d in context["service_days"]}
    assert by_day[world.session.date].billable
    no_note = by_day[today - dt.timedelta(days=2)]
    assert not no_note.billable and "no note" in no_note.why
    short = by_day[today - dt.timedelta(days=4)]
    assert short.why == "Not billable: 60 minutes attended, the minimum is 180."
    page = response.content.decode()
    assert "Not billable: 60 minutes attended" in page and "AUTH-1001" in page
    assert review in page
    # A counsellor may read but not change coverage.
    assert not context["can_record"] and "Add coverage" not in page


def test_another_programs_participant_is_404(world, login, payer):
    client = login(world.outsider)
    assert client.get(reverse("coverage:overview", args=[world.active.pk])).status_code == 404
    url = reverse("coverage:coverage_edit", args=[world.foreign.pk, world.coverage.pk])
    assert login(world.billing).get(url).status_code == 404


def test_the_chart_section(world, login, payer):
    client = login(world.billing)
    page = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert "Harbor Health Plan" in page and "HHP123456" in page
    assert "AUTH-1001" in page and "<strong>19</strong> of 20 units left" in page
    assert reverse("coverage:overview", args=[world.active.pk]) in page


def test_the_overview_runs_the_same_queries_with_more_authorisations_and_days(world, login, payer):
    client = login(world.billing)
    url = reverse("coverage:overview", args=[world.active.pk])
    add_coverage_days(world, [2, 3])  # with world.session's: 3 days

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.context

    small, context = measure()
    assert len(context["service_days"]) == 3 and len(context["chains"]) == 1
    today = world.program.today()
    previous = world.authorisation
    for n in range(4):
        previous = Authorisation.objects.create(
            coverage=world.coverage,
            participant=world.active,
            episode=world.active.current_episode,
            service_code="H0015",
            units=5,
            start_date=today + dt.timedelta(days=31 + 10 * n),
            end_date=today + dt.timedelta(days=40 + 10 * n),
            reference_number=f"AUTH-R{n}",
            renews=previous,
        )
    add_coverage_days(world, [5, 6, 8, 10, 11, 12, 15, 16, 17])
    large, context = measure()
    assert len(context["service_days"]) == 12
    assert [len(chain) for chain in context["chains"]] == [5]
    assert small == large, (small, large)
    assert Payer.objects.count() == 1
