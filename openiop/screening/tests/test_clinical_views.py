"""The clinical screening pages: review tasks and the review, the timeline and the chart
section, expected medications, the policy and the statistics. Permissions, bad input
(400, never 500), refused states (409), audit, and pinned query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.screening import services
from openiop.screening.choices import Handling, ReviewOutcome, ReviewStatus
from openiop.screening.models import Analyte, ExpectedMedication, Review, ScreeningPolicy
from openiop.testing import add_screening_review, make_participant, make_user

from . import clinical_helpers as h


@pytest.fixture
def review_world(world):
    add_screening_review(world)
    return world


def review_url(world, review=None) -> str:
    review = review or world.screen_review
    return reverse(
        "participant_screening:review", kwargs={"pk": review.participant_id, "review_pk": review.pk}
    )


def complete(client, world, review=None, **changes):
    review = review or Review.objects.get(pk=world.screen_review.pk)
    data = {
        "outcome": "use",
        "plan_change": "Added a weekly individual session; relapse plan reviewed.",
        "version": review.version,
        **changes,
    }
    return client.post(review_url(world, review), data)


# --- review tasks ---------------------------------------------------------------------------


def test_the_counsellor_sees_their_review_with_its_test(review_world, login):
    w = review_world
    response = login(w.counsellor).get(reverse("screening:reviews"))
    assert response.status_code == 200
    rows = response.context["open_rows"]
    assert [r["review"] for r in rows] == [w.screen_review]
    assert rows[0]["test_day"] == w.program.today() - dt.timedelta(days=2)
    assert rows[0]["days_open"] == 0
    page = response.content.decode()
    assert "Active" in page and "THC" in page and "Unexpected positive" in page


@pytest.mark.parametrize("persona", ["lab", "billing", "compliance", "norole"])
def test_roles_without_screening_review_get_403(review_world, login, persona):
    client = login(review_world.users[persona])
    assert client.get(reverse("screening:reviews")).status_code == 403
    assert client.get(review_url(review_world)).status_code == 403
    assert complete(client, review_world).status_code == 403
    assert Review.objects.get(pk=review_world.screen_review.pk).status == ReviewStatus.OPEN


def test_a_counsellor_does_not_see_a_colleagues_review(review_world, login):
    w = review_world
    colleague = make_user("colleague", [Role.COUNSELLOR], [w.program])
    client = login(colleague)
    assert client.get(reverse("screening:reviews")).context["open_rows"] == []
    assert client.get(review_url(w)).status_code == 404
    assert complete(client, w).status_code == 404


def test_the_director_sees_escalated_reviews_under_a_strict_policy(world, login):
    w = world
    services.update_policy(services.policy_for(w.program), actor=w.director, handling="strict")
    found = h.screen(w.active, w.lab, w.program.today(), [("COC", "positive")])
    review = h.review_of(found)
    assert review.escalated and review.assigned_to == w.counsellor
    director = login(w.director)
    rows = director.get(reverse("screening:reviews")).context["open_rows"]
    assert [r["review"] for r in rows] == [review]
    assert director.get(review_url(w, review)).status_code == 200
    # Under a supportive policy the director is not told.
    services.update_policy(
        services.policy_for(w.program), actor=w.director, handling=Handling.SUPPORTIVE
    )
    other = h.screen(w.active, w.lab, w.program.today(), [("THC", "positive")])
    rows = director.get(reverse("screening:reviews")).context["open_rows"]
    assert h.review_of(other) not in [r["review"] for r in rows]
    assert director.get(review_url(w, h.review_of(other))).status_code == 404


def test_the_outsider_gets_404(review_world, login):
    client = login(review_world.outsider)
    assert client.get(review_url(review_world)).status_code == 404
    assert complete(client, review_world).status_code == 404


def test_the_review_page_shows_order_results_medications_and_the_plan(review_world, login):
    w = review_world
    response = login(w.counsellor).get(review_url(w))
    assert response.status_code == 200
    page = response.content.decode()
    assert "WORLD-R001" in page
    assert "Suboxone" in page
    assert reverse("plans:current", kwargs={"pk": w.active.pk}) in page
    assert "Expected (prescribed medication)" in page  # BUP explained by Suboxone
    assert "Unexpected positive" in page
    # The form offers what fits a positive.
    choices = [c for c, _ in response.context["form"].fields["outcome"].choices]
    assert choices == ["use", "expected", "invalid", "disputed"]


def test_completing_a_review_is_recorded_and_audited(review_world, login):
    w = review_world
    client = login(w.counsellor)
    response = complete(client, w)
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:reviews")
    review = Review.objects.get(pk=w.screen_review.pk)
    assert review.status == ReviewStatus.DONE
    assert review.outcome == ReviewOutcome.USE
    assert review.reviewed_by == w.counsellor
    assert review.plan_change.startswith("Added a weekly")
    event = AuditEvent.objects.filter(actor=w.counsellor, action="change").latest("pk")
    assert event.object_type == "screening.review"
    assert event.changes["outcome"] == [None, "use"]
    # Done, it moves below and the page shows the conclusion without a form.
    listing = client.get(reverse("screening:reviews")).context
    assert listing["open_rows"] == []
    assert [r["review"] for r in listing["done_rows"]] == [review]
    page = client.get(review_url(w))
    assert page.status_code == 200 and not page.context["can_complete"]
    # Posting again is refused.
    again = complete(client, w, review=review)
    assert again.status_code == 409
    assert "already done" in again.content.decode()


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"plan_change": "   "}, 400),
        ({"plan_change": "x" * 4001}, 400),
        ({"outcome": "noted"}, 400),  # not a conclusion for a positive
        ({"outcome": "bogus"}, 400),
        ({"version": "abc"}, 400),
        ({"version": "99999999999999999999"}, 400),
        ({"version": 0}, 409),  # stale
    ],
)
def test_bad_review_input_is_refused(review_world, login, changes, status):
    response = complete(login(review_world.counsellor), review_world, **changes)
    assert response.status_code == status
    assert Review.objects.get(pk=review_world.screen_review.pk).status == ReviewStatus.OPEN


def test_a_review_of_another_participant_is_not_found(review_world, login):
    w = review_world
    url = reverse(
        "participant_screening:review",
        kwargs={"pk": w.referred.pk, "review_pk": w.screen_review.pk},
    )
    assert login(w.counsellor).get(url).status_code == 404


def test_the_today_board_lists_screens_to_review(review_world, login):
    board = login(review_world.counsellor).get(reverse("core:today")).content.decode()
    assert "Screens to review" in board
    assert review_url(review_world) in board
    # The lab has no review work: no panel.
    lab_board = login(review_world.lab).get(reverse("core:today")).content.decode()
    assert "Screens to review" not in lab_board


# --- the chart section and the timeline ------------------------------------------------------


def test_the_chart_shows_the_screens_section(review_world, login):
    w = review_world
    chart = reverse("participants:chart", kwargs={"pk": w.active.pk})
    page = login(w.counsellor).get(chart).content.decode()
    assert 'id="section-screens"' in page
    assert "since the last known use" in page
    assert "WORLD-R001" in page
    lab_page = login(w.lab).get(chart).content.decode()
    assert 'id="section-screens"' in lab_page
    assert "since the last known use" not in lab_page  # check-ins and reviews are clinical
    assert "WORLD-R001" in lab_page
    assert 'id="section-screens"' not in login(w.billing).get(chart).content.decode()


def test_the_timeline_shows_screens_use_and_reviews(review_world, login):
    w = review_world
    client = login(w.counsellor)
    complete(client, w, outcome="invalid", plan_change="Poppy-seed bagel; no change.")
    response = client.get(reverse("participant_screening:timeline", kwargs={"pk": w.active.pk}))
    assert response.status_code == 200
    history = response.context["history"]
    assert {e.kind for e in history.timeline} == {"screen", "use", "review"}
    # The THC positive was reviewed as invalid: the last use is the check-in's.
    assert history.last_use.day == w.check_in.day
    page = response.content.decode()
    assert "Poppy-seed bagel" in page and "Reported use" in page


def _measure(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), "\n".join(q["sql"] for q in ctx.captured_queries)


# participant_screening:timeline for a counsellor
#   1-3. session, user, roles
#   4. programs: the user's programs (visible_participants)
#   5. participant (scoped)
#  6-8. audit: the view event (lock the chain head, INSERT the event, move the head)
#   9. the participant's program (today, time zone)
#  10. orders with panel and specimen
#  11. results with analyte and explaining medication
#  12. reviews with assignee and reviewer
#  13. check-ins reporting use
#  14. expected medications
#  15. their analytes (prefetch)
#  16. banner: open safety alerts
TIMELINE_QUERIES = 16


def test_the_timeline_runs_the_same_queries_with_2_and_10_screens(world, login):
    w = world
    today = w.program.today()
    h.medication(w.active, w.lab, ["BUP"], today - dt.timedelta(days=90))
    client = login(w.counsellor)
    url = reverse("participant_screening:timeline", kwargs={"pk": w.active.pk})

    def grow(start: int, n: int) -> None:
        for i in range(start, start + n):
            found = h.screen(
                w.active,
                w.lab,
                today - dt.timedelta(days=2 * i + 1),
                [("THC", "positive" if i % 2 else "negative"), ("BUP", "positive")],
            )
            if i % 2:
                h.conclude(found, w.counsellor, ReviewOutcome.USE)

    grow(0, 2)
    small, sql_small = _measure(client, url)
    grow(2, 8)
    large, sql_large = _measure(client, url)
    assert small == large, f"{sql_small}\n---\n{sql_large}"
    assert large == TIMELINE_QUERIES, sql_large
    assert len(client.get(url).context["history"].screens) == 10


# --- expected medications -------------------------------------------------------------------


def med_payload(**changes):
    return {
        "name": "Methadone",
        "analytes": [str(a.pk) for a in Analyte.objects.filter(code__in=["MTD", "EDDP"])],
        "start_date": "2026-01-05",
        "end_date": "",
        "prescriber": "OTP clinic",
        "note": "",
        **changes,
    }


def test_adding_an_expected_medication_explains_later_positives(world, login):
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    w = world
    client = login(w.counsellor)
    url = reverse("participant_screening:medications", kwargs={"pk": w.active.pk})
    assert client.get(url).status_code == 200
    start = (w.program.today() - dt.timedelta(days=10)).isoformat()
    response = client.post(url, med_payload(start_date=start))
    assert response.status_code == 302
    medication = ExpectedMedication.objects.get(participant=w.active)
    assert {a.code for a in medication.analytes.all()} == {"MTD", "EDDP"}
    assert AuditEvent.objects.filter(
        actor=w.counsellor, action="create", object_type="screening.expectedmedication"
    ).exists()
    found = h.screen(w.active, w.lab, w.program.today(), [("MTD", "positive")])
    assert found.collection.results.get().interpretation == "expected"
    assert not Review.objects.filter(order=found).exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"name": ""},
        {"name": "n" * 121},
        {"analytes": []},
        {"analytes": ["abc"]},
        {"analytes": ["99999999999999999999"]},
        {"start_date": "not-a-date"},
        {"start_date": "1850-01-01"},
        {"start_date": "2026-01-05", "end_date": "2025-12-01"},  # end before start
        {"note": "n" * 301},
    ],
)
def test_bad_medication_input_is_a_form_error(world, login, changes):
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    url = reverse("participant_screening:medications", kwargs={"pk": world.active.pk})
    response = login(world.counsellor).post(url, med_payload(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors
    assert not ExpectedMedication.objects.exists()


def test_billing_cannot_see_medications_and_compliance_cannot_add(world, login):
    url = reverse("participant_screening:medications", kwargs={"pk": world.active.pk})
    assert login(world.billing).get(url).status_code == 403
    assert login(world.compliance).get(url).status_code == 403
    # Lab staff keep the list too (screening.order).
    assert login(world.lab).get(url).status_code == 200


def test_ending_a_medication(review_world, login):
    w = review_world
    medication = w.medication
    url = reverse(
        "participant_screening:medication_end",
        kwargs={"pk": w.active.pk, "med_pk": medication.pk},
    )
    client = login(w.counsellor)
    assert client.get(url).status_code == 200
    before = medication.start_date - dt.timedelta(days=1)
    bad = client.post(url, {"end_date": before.isoformat(), "version": medication.version})
    assert bad.status_code == 400
    stale = client.post(url, {"end_date": w.program.today().isoformat(), "version": 0})
    assert stale.status_code == 409
    ok = client.post(
        url, {"end_date": w.program.today().isoformat(), "version": medication.version}
    )
    assert ok.status_code == 302
    medication.refresh_from_db()
    assert medication.end_date == w.program.today()
    # Another participant's medication: not found.
    other = reverse(
        "participant_screening:medication_end",
        kwargs={"pk": w.referred.pk, "med_pk": medication.pk},
    )
    assert client.get(other).status_code == 404
    assert login(w.billing).get(url).status_code == 403


# --- policy ---------------------------------------------------------------------------------


def policy_payload(**changes):
    from openiop.screening.models import Panel

    return {
        "random_rate": "1.50",
        "draw_days_per_week": "4",
        "random_panel": str(Panel.objects.get(name="12-panel urine cup").pk),
        "test_at_admission": "on",
        "scheduled_weekday": "0",
        "scheduled_every_days": "",
        "minimum_per_week": "1.00",
        "handling": "strict",
        "refusal_counts_as": "positive",
        "no_show_counts_as": "missed",
        "dilute_counts_as": "retest",
        "adulterated_counts_as": "positive",
        "price_per_test": "15.00",
        **changes,
    }


def test_the_policy_page_shows_the_figures_and_the_director_saves(world, login):
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    w = world
    url = reverse("screening:policy")
    client = login(w.director)
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["daily_pct"] == Decimal("25.0")  # 1 a week over 4 days
    assert page.context["census"] == 1  # world.active
    response = client.post(url, policy_payload())
    assert response.status_code == 302
    policy = ScreeningPolicy.objects.get(program=w.program)
    assert policy.random_rate == Decimal("1.50")
    assert policy.scheduled_weekday == 0
    assert policy.handling == "strict"
    assert policy.updated_by == w.director
    event = AuditEvent.objects.filter(actor=w.director, action="change").latest("pk")
    assert event.changes["random_rate"] == ["1.00", "1.50"]
    page = client.get(url)
    assert page.context["per_week"] == Decimal("2.50")  # 1.5 random + 1 scheduled
    # 2.5 a week x 1 participant x $15 x 4.3482 weeks (365.25 / 12 / 7).
    assert page.context["monthly_cost"] == Decimal("163.06")


def test_the_lab_reads_the_policy_but_cannot_change_it(world, login):
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    url = reverse("screening:policy")
    client = login(world.lab)
    page = client.get(url)
    assert page.status_code == 200
    assert not page.context["can_edit"]
    assert page.context["form"].fields["random_rate"].disabled
    assert client.post(url, policy_payload()).status_code == 403
    assert ScreeningPolicy.objects.get(program=world.program).random_rate == Decimal("1.00")
    assert login(world.billing).get(url).status_code == 403
    assert login(world.admin).get(url).status_code == 403


@pytest.mark.parametrize(
    "changes",
    [
        {"random_rate": "5", "draw_days_per_week": "4"},  # more than once a day
        {"random_rate": "-1"},
        {"random_rate": "NaN"},
        {"draw_days_per_week": "8"},
        {"draw_days_per_week": "0"},
        {"scheduled_weekday": "7"},
        {"scheduled_every_days": "0"},
        {"minimum_per_week": "8"},
        {"handling": "punitive"},
        {"refusal_counts_as": "bogus"},
        {"price_per_test": "-5"},
        {"price_per_test": "99999"},
        {"random_panel": "99999999999999999999"},
        {"random_panel": ""},
    ],
)
def test_bad_policy_input_is_a_form_error(world, login, changes):
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    client = login(world.director)
    response = client.post(reverse("screening:policy"), policy_payload(**changes))
    assert response.status_code == 400
    assert response.context["form"].errors
    assert ScreeningPolicy.objects.get(program=world.program).random_rate == Decimal("1.00")


# --- statistics -----------------------------------------------------------------------------


def test_the_statistics_page_defaults_to_12_weeks(review_world, login):
    w = review_world
    response = login(w.director).get(reverse("screening:stats"))
    assert response.status_code == 200
    stats = response.context["stats"]
    assert len(stats.weeks) == 12
    assert stats.last == w.program.today()
    assert stats.tests == 1 and stats.negative == 0
    assert [s.substance for s in stats.substances] == ["cannabis"]
    assert "Positivity by substance" in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"first": "not-a-date", "last": "2026-01-01"},
        {"first": "2026-02-30", "last": "2026-03-01"},
        {"first": "2026-03-01", "last": "2026-01-01"},  # end before start
        {"first": "2020-01-01", "last": "2026-01-01"},  # over two years
        {"first": "1800-01-01", "last": "1800-02-01"},
        {"first": "99999-01-01", "last": "2026-01-01"},
        {"first": "2026-01-01"},
        {"first": "2026-01-01", "last": "x" * 10_000},
    ],
)
def test_bad_statistics_dates_answer_400(world, login, query):
    response = login(world.director).get(reverse("screening:stats"), query)
    assert response.status_code == 400
    assert response.context["form"].errors


def test_a_chosen_range(world, login):
    today = world.program.today()
    query = {"first": (today - dt.timedelta(days=13)).isoformat(), "last": today.isoformat()}
    response = login(world.director).get(reverse("screening:stats"), query)
    assert response.status_code == 200
    assert response.context["stats"].first == today - dt.timedelta(days=13)


# screening:stats for a director
#   1-3. session, user, roles
#   4. programs: the user's program ids (user.program_ids)
#   5. programs: those programs with their sites (the program chooser)
#   6. policy (created with the defaults the first time: + INSERT, + SAVEPOINTs)
#   7. closed orders grouped by week, status, validity and unexpected
#   8. unexpected positives per substance
#   9. episodes in care with their collected tests
#  10. banner: open safety alerts
#  11-13. audit: the view event (lock the chain head, INSERT the event, move the head)
STATS_QUERIES = 13


def test_the_statistics_page_runs_a_fixed_number_of_queries(world, login):
    w = world
    services.policy_for(w.program)
    client = login(w.director)
    url = reverse("screening:stats")
    few, _ = _measure(client, url)
    today = w.program.today()
    for i in range(6):
        extra = make_participant(
            w.program, w.intake, last=f"Extra{i}", status="active", counsellor=w.counsellor
        )
        h.screen(extra, w.lab, today - dt.timedelta(days=i * 3), [("THC", "positive")])
        h.refused(extra, w.lab, today - dt.timedelta(days=i * 3 + 1))
    many, sql = _measure(client, url)
    assert few == many == STATS_QUERIES, sql
