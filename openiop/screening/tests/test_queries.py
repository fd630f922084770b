"""The clinical reads: the days-since-last-use rule, decisive results, a participant's
history (and its fixed query count), the policy's figures and the program statistics on
a small hand-built data set."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from openiop.core.roles import Role
from openiop.participants.choices import EpisodeStatus as S
from openiop.screening import queries, services
from openiop.screening.choices import (
    CountsAs,
    ReviewOutcome,
    ReviewReason,
    ReviewStatus,
)
from openiop.screening.models import Result, ScreeningPolicy
from openiop.screening.queries import (
    FROM_CHECK_IN,
    FROM_POSITIVE,
    FROM_REVIEW,
    KnownUse,
    ReviewFact,
    ScreenFact,
    last_known_use,
)
from openiop.testing import make_participant, make_program, make_user

from . import clinical_helpers as h

D = dt.date(2026, 3, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def positive(order_id: int, n: int, unexpected: bool = True) -> ScreenFact:
    return ScreenFact(order_id, day(n), unexpected)


def reviewed(order_id: int, n: int, outcome: str, reason: str = ReviewReason.UNEXPECTED_POSITIVE):
    status = ReviewStatus.DONE if outcome else ReviewStatus.OPEN
    return ReviewFact(order_id, day(n), reason, status, outcome)


# --- the rule (issue 7, point 8) --------------------------------------------------------


def test_nothing_known_means_no_last_use():
    assert last_known_use([], [], []) is None
    assert queries.days_since(day(5), None) is None


def test_a_check_in_reporting_use_counts():
    assert last_known_use([day(3), day(1)], [], []) == KnownUse(day(3), FROM_CHECK_IN)


def test_an_unreviewed_unexpected_positive_counts():
    assert last_known_use([day(1)], [positive(7, 4)], []) == KnownUse(day(4), FROM_POSITIVE)


def test_a_positive_with_an_open_review_counts():
    use = last_known_use([], [positive(7, 4)], [reviewed(7, 4, "")])
    assert use == KnownUse(day(4), FROM_POSITIVE)


@pytest.mark.parametrize("outcome", [ReviewOutcome.EXPECTED, ReviewOutcome.INVALID])
def test_a_positive_reviewed_as_expected_or_invalid_does_not_reset(outcome):
    use = last_known_use([day(1)], [positive(7, 4)], [reviewed(7, 4, outcome)])
    assert use == KnownUse(day(1), FROM_CHECK_IN)
    assert last_known_use([], [positive(7, 4)], [reviewed(7, 4, outcome)]) is None


def test_a_positive_explained_by_an_expected_medication_does_not_reset():
    # Its interpretation is "expected": the screen has no unexpected positive.
    assert last_known_use([day(1)], [positive(7, 4, unexpected=False)], []) == KnownUse(
        day(1), FROM_CHECK_IN
    )


def test_a_disputed_positive_still_counts():
    use = last_known_use([], [positive(7, 4)], [reviewed(7, 4, ReviewOutcome.DISPUTED)])
    assert use == KnownUse(day(4), FROM_POSITIVE)


def test_a_review_that_concluded_use_counts_on_the_day_of_the_test():
    # A refusal the participant later owned up to: use, dated to the test.
    fact = reviewed(9, 6, ReviewOutcome.USE, reason=ReviewReason.REFUSAL)
    assert last_known_use([day(2)], [positive(9, 6, unexpected=False)], [fact]) == KnownUse(
        day(6), FROM_REVIEW
    )


def test_a_review_noted_does_not_count():
    fact = reviewed(9, 6, ReviewOutcome.NOTED, reason=ReviewReason.NO_SHOW)
    assert last_known_use([day(2)], [], [fact]) == KnownUse(day(2), FROM_CHECK_IN)


def test_clearing_one_positive_leaves_the_others():
    screens = [positive(1, 2), positive(2, 8)]
    use = last_known_use([], screens, [reviewed(2, 8, ReviewOutcome.INVALID)])
    assert use == KnownUse(day(2), FROM_POSITIVE)


def test_only_a_review_of_the_positive_clears_it():
    # A no-show review on the same order concluded "invalid" is not about the positive.
    fact = reviewed(7, 4, ReviewOutcome.INVALID, reason=ReviewReason.INVALID_SPECIMEN)
    assert last_known_use([], [positive(7, 4)], [fact]) == KnownUse(day(4), FROM_POSITIVE)


def test_the_latest_source_wins_and_a_review_names_a_shared_day():
    facts = [reviewed(3, 5, ReviewOutcome.USE)]
    assert last_known_use([day(5)], [positive(3, 5)], facts) == KnownUse(day(5), FROM_REVIEW)
    assert last_known_use([day(9)], [positive(3, 5)], facts) == KnownUse(day(9), FROM_CHECK_IN)


def test_days_since():
    assert queries.days_since(day(10), KnownUse(day(3), FROM_CHECK_IN)) == 7
    assert queries.days_since(day(3), KnownUse(day(3), FROM_CHECK_IN)) == 0


# --- decisive results -----------------------------------------------------------------


def _result(collection: int, analyte: int, method: str, interpretation: str) -> Result:
    return Result(
        collection_id=collection,
        analyte_id=analyte,
        method=method,
        outcome="positive",
        interpretation=interpretation,
    )


def test_a_definitive_result_replaces_the_presumptive_one():
    screen = _result(1, 10, "presumptive", "unexpected")
    lab = _result(1, 10, "definitive", "negative")
    other = _result(1, 11, "presumptive", "unexpected")
    assert queries.decisive([screen, lab, other]) == [lab, other]
    assert queries.decisive([lab, screen]) == [lab]
    voided = _result(2, 10, "definitive", "negative")
    voided.voided = True
    assert queries.decisive([voided]) == []


# --- a participant's history -------------------------------------------------------------


def history(world, user=None, clinical=True):
    participant = world.active
    program = participant.program
    return queries.screening_history(
        participant,
        user=user or world.counsellor,
        today=program.today(),
        tz=program.tz,
        clinical=clinical,
    )


def test_history_applies_the_rule_to_real_records(world):
    lab, counsellor = world.lab, world.counsellor
    today = world.program.today()
    used_on = world.check_in.day  # world.active reported use at the last session
    h.medication(world.active, lab, ["BUP"], today - dt.timedelta(days=60))
    # An expected positive (buprenorphine) after the check-in does not reset the count.
    h.screen(world.active, lab, used_on + dt.timedelta(days=0), [("BUP", "positive")])
    found = history(world)
    assert found.last_use == KnownUse(used_on, FROM_CHECK_IN)
    assert found.days_since_use == (today - used_on).days
    # An unexpected THC positive today does, until it is reviewed as invalid.
    thc = h.screen(world.active, lab, today, [("THC", "positive"), ("BUP", "positive")])
    assert history(world).last_use == KnownUse(today, FROM_POSITIVE)
    assert history(world).days_since_use == 0
    h.conclude(thc, counsellor, ReviewOutcome.INVALID)
    assert history(world).last_use == KnownUse(used_on, FROM_CHECK_IN)
    # The screen's results carry their interpretation.
    row = history(world).screens[0]
    assert row.order == thc
    assert {(r.analyte.code, r.interpretation) for r in row.results} == {
        ("THC", "unexpected"),
        ("BUP", "expected"),
    }
    assert [e.kind for e in history(world).timeline][:2] == ["review", "screen"]


def test_a_definitive_negative_overturns_a_presumptive_positive(world):
    lab = world.lab
    today = world.program.today()
    found = h.screen(world.active, lab, today, [("COC", "positive")])
    assert history(world).last_use.day == today
    h.add_results(found.collection, lab, [("COC", "negative")], method="definitive")
    assert history(world).last_use.day == world.check_in.day


def test_lab_readers_see_results_without_reviews_or_check_ins(world):
    h.screen(world.active, world.lab, world.program.today(), [("THC", "positive")])
    found = history(world, user=world.lab, clinical=False)
    assert len(found.screens) == 1
    assert found.reviews == [] and found.use_check_ins == []
    assert found.last_use is None
    assert [e.kind for e in found.timeline] == ["screen"]


def test_todays_random_selection_is_hidden_from_the_counsellor(world):
    today = world.program.today()
    h.order(world.active, world.lab, today, reason="random")
    assert history(world, user=world.counsellor).screens == []
    assert len(history(world, user=world.lab, clinical=False).screens) == 1


def _count(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_history_runs_a_fixed_number_of_queries_with_2_and_10_screens(world):
    lab, counsellor = world.lab, world.counsellor
    today = world.program.today()
    h.medication(world.active, lab, ["BUP"], today - dt.timedelta(days=60))

    def grow(n: int) -> None:
        for i in range(n):
            found = h.screen(
                world.active,
                lab,
                today - dt.timedelta(days=2 * i + 1),
                [("THC", "positive" if i % 2 else "negative"), ("BUP", "positive")],
            )
            if i % 2:
                h.conclude(found, counsellor, ReviewOutcome.USE)

    grow(2)
    small = (_count(lambda: history(world)), _count(lambda: history(world, world.lab, False)))
    grow(8)
    assert len(history(world).screens) == 10
    large = (_count(lambda: history(world)), _count(lambda: history(world, world.lab, False)))
    # Orders, results; for clinical readers also reviews and check-ins reporting use.
    assert small == large == (4, 2)


# --- review lists ----------------------------------------------------------------------


def test_the_board_panel_counts_in_one_query(world):
    lab = world.lab
    today = world.program.today()
    for i in range(3):
        h.screen(world.active, lab, today - dt.timedelta(days=i + 1), [("THC", "positive")])
    world.counsellor.program_ids  # noqa: B018  (cached per request on a real page)
    world.counsellor.role_codes  # noqa: B018
    with CaptureQueriesContext(connection) as ctx:
        rows, total = queries.review_panel(world.counsellor, 2)
    assert len(ctx.captured_queries) == 1
    assert (len(rows), total) == (2, 3)
    assert queries.review_panel(world.supervisor, 8)[1] == 0  # not escalated (supportive)


# --- policy figures -----------------------------------------------------------------------


def test_expected_tests_and_monthly_cost():
    policy = ScreeningPolicy(
        random_rate=Decimal("1.50"), draw_days_per_week=4, price_per_test=Decimal("12.00")
    )
    assert policy.daily_probability == Decimal("0.375")
    assert queries.expected_tests_per_week(policy) == Decimal("1.50")
    policy.scheduled_weekday = 0
    policy.scheduled_every_days = 14
    assert queries.expected_tests_per_week(policy) == Decimal("3.00")  # 1.5 + 1 + 0.5
    # 3 a week x 10 participants x $12 x 4.348 weeks a month.
    assert queries.monthly_cost(policy, 10) == Decimal("1565.36")
    assert queries.monthly_cost(policy, 0) == Decimal("0.00")
    # A rate above the program days is capped: a draw picks someone at most once a day.
    capped = ScreeningPolicy(random_rate=Decimal("6"), draw_days_per_week=4)
    assert queries.expected_tests_per_week(capped) == Decimal("4.00")


@pytest.mark.parametrize(
    ("status", "validity", "unexpected", "expected"),
    [
        ("collected", "valid", False, "negative"),
        ("collected", "valid", True, "positive"),
        ("collected", "dilute", False, None),  # retest
        ("collected", "dilute", True, "positive"),  # still a positive
        ("collected", "adulterated", False, "positive"),
        ("collected", "substituted", False, "positive"),
        ("refused", None, False, "positive"),
        ("no_show", None, False, None),  # missed
        ("cancelled", None, False, None),
    ],
)
def test_how_a_closed_order_counts_under_the_default_policy(status, validity, unexpected, expected):
    policy = ScreeningPolicy()
    assert queries.classify(policy, status, validity, unexpected) == expected


def test_how_a_refusal_counts_follows_the_policy():
    policy = ScreeningPolicy(refusal_counts_as=CountsAs.MISSED)
    assert queries.classify(policy, "refused", None, False) is None
    policy.no_show_counts_as = CountsAs.POSITIVE
    assert queries.classify(policy, "no_show", None, False) == "positive"


# --- statistics on a hand-built data set ----------------------------------------------------


@pytest.fixture
def stats_world(db):
    """A program of three participants in care (admitted 57 days ago) and two weeks of
    screens. Default policy: a refusal counts as positive, a no-show as missed, a dilute
    specimen as a retest, an adulterated one as positive. Insurer minimum 1.25 a week.

    Week 1: A unexpected THC (test, positive); B all negative (negative); C refused
            (positive); A no-show (not a test).
    Week 2: A BUP positive explained by Suboxone (negative); B presumptive COC positive
            overturned by a definitive negative (negative); C dilute, negative (retest: not
            a test); C adulterated (positive); B definitive FEN and presumptive OPI
            unexpected (positive).
    """
    program = make_program("Stats IOP")
    director = make_user("statsdir", [Role.DIRECTOR], [program])
    a, b, c = (
        make_participant(program, director, last=name, status=S.ACTIVE, days_ago=60)
        for name in ("Alder", "Birch", "Cedar")
    )
    policy = services.policy_for(program)
    services.update_policy(policy, actor=director, minimum_per_week=Decimal("1.25"))
    today = program.today()
    w1 = queries.week_of(today) - dt.timedelta(days=21)
    w2 = w1 + dt.timedelta(days=7)
    h.medication(a, director, ["BUP"], today - dt.timedelta(days=59))
    h.screen(a, director, w1, [("THC", "positive"), ("BUP", "negative")])
    h.screen(b, director, w1 + dt.timedelta(days=1), [("THC", "negative"), ("COC", "negative")])
    h.refused(c, director, w1 + dt.timedelta(days=2))
    h.no_show(a, director, w1 + dt.timedelta(days=3))
    h.screen(a, director, w2, [("BUP", "positive"), ("THC", "negative")])
    overturned = h.screen(b, director, w2, [("COC", "positive")])
    h.add_results(overturned.collection, director, [("COC", "negative")], method="definitive")
    h.screen(c, director, w2 + dt.timedelta(days=1), [("THC", "negative")], validity="dilute")
    h.screen(c, director, w2 + dt.timedelta(days=2), [], validity="adulterated")
    fen = h.screen(b, director, w2 + dt.timedelta(days=3), [("OPI", "positive")])
    h.add_results(fen.collection, director, [("FEN", "positive")], method="definitive")
    # Outside the range: not counted.
    h.screen(a, director, w1 - dt.timedelta(days=1), [("THC", "positive")])
    return program, director, (a, b, c), w1, w2


def test_program_statistics_on_a_small_data_set(stats_world):
    program, director, (a, b, c), w1, w2 = stats_world
    policy = services.policy_for(program)
    last = w2 + dt.timedelta(days=6)
    director.program_ids, director.role_codes  # noqa: B018  (read once per request)
    with CaptureQueriesContext(connection) as ctx:
        stats = queries.program_stats(
            program, policy, w1, last, user=director, today=program.today()
        )
    assert len(ctx.captured_queries) == 3
    first_week, second_week = stats.weeks
    assert (first_week.week, first_week.tests, first_week.negative) == (w1, 3, 1)
    assert (second_week.week, second_week.tests, second_week.negative) == (w2, 4, 2)
    assert (first_week.negative_pct, second_week.negative_pct) == (Decimal("33.3"), Decimal("50.0"))
    assert (stats.tests, stats.negative, stats.negative_pct) == (7, 3, Decimal("42.9"))
    # Collected specimens (the dilute and adulterated ones included) per participant-week.
    assert (first_week.collected, second_week.collected, stats.collected) == (2, 5, 7)
    assert (first_week.participant_weeks, second_week.participant_weeks) == (3, 3)
    assert (first_week.per_participant, second_week.per_participant) == (
        Decimal("0.67"),
        Decimal("1.67"),
    )
    assert stats.per_participant == Decimal("1.17")
    # Positivity by substance: one test each of seven; cocaine overturned, BUP expected.
    assert [(s.substance, s.positives, s.pct) for s in stats.substances] == [
        ("cannabis", 1, Decimal("14.3")),
        ("fentanyl", 1, Decimal("14.3")),
        ("opioids", 1, Decimal("14.3")),
    ]
    # Against the insurer's minimum of 1.25: A and C had 2 tests in 2 weeks, B had 3.
    assert [(r.episode.participant, r.tests, r.per_week) for r in stats.below_minimum] == [
        (a, 2, Decimal("1.00")),
        (c, 2, Decimal("1.00")),
    ]
    assert stats.expected_per_week == Decimal("1.00")


def test_a_policy_counting_refusals_as_missed_changes_the_rate(stats_world):
    program, director, _abc, w1, w2 = stats_world
    policy = services.update_policy(
        services.policy_for(program), actor=director, refusal_counts_as=CountsAs.MISSED
    )
    stats = queries.program_stats(
        program, policy, w1, w2 + dt.timedelta(days=6), user=director, today=program.today()
    )
    assert (stats.weeks[0].tests, stats.weeks[0].negative) == (2, 1)
    assert (stats.tests, stats.negative) == (6, 3)


def test_statistics_run_the_same_queries_for_an_empty_range(stats_world):
    program, director, _abc, w1, _w2 = stats_world
    far = w1 - dt.timedelta(days=400)
    director.program_ids, director.role_codes  # noqa: B018  (read once per request)
    with CaptureQueriesContext(connection) as ctx:
        stats = queries.program_stats(
            program,
            services.policy_for(program),
            far,
            far + dt.timedelta(days=13),
            user=director,
            today=program.today(),
        )
    assert len(ctx.captured_queries) == 4  # the policy, then the same three
    assert stats.tests == 0 and stats.negative_pct is None and stats.substances == []
    assert stats.below_minimum == []  # nobody was in care then
