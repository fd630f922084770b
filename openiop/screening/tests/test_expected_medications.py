"""The expected-medication rule (issue 7, point 6; acceptance 4): a positive explained by a
medication the participant is expected to take (it lists the analyte and covers the day of
the collection) is *expected*, not use, and opens no review. Negative and inconclusive
results are never "expected"."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from openiop.participants.choices import EpisodeStatus as S
from openiop.screening import services
from openiop.screening.choices import (
    Interpretation,
    ResultMethod,
    ResultOutcome,
    ReviewReason,
)
from openiop.screening.models import Analyte, ExpectedMedication, Result, Review
from openiop.testing import make_participant

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 5)
END = dt.date(2026, 2, 5)


def analyte(code: str) -> Analyte:
    return Analyte.objects.get(code=code)


def medication(
    world, *codes: str, start=START, end=END, name="Buprenorphine"
) -> ExpectedMedication:
    return services.add_expected_medication(
        world.active,
        actor=world.counsellor,
        name=name,
        analytes=[analyte(c) for c in codes],
        start_date=start,
        end_date=end,
    )


def meds(world) -> list[ExpectedMedication]:
    return services.medications_for(world.active.pk)


@pytest.fixture
def bup(world) -> ExpectedMedication:
    """world.active takes buprenorphine from Jan 5 to Feb 5, 2026 (shows as BUP, NORBUP)."""
    return medication(world, "BUP", "NORBUP")


# --- the rule -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (START - dt.timedelta(days=1), False),  # before it starts
        (START, True),  # the first day counts
        (dt.date(2026, 1, 20), True),
        (END, True),  # the last day counts
        (END + dt.timedelta(days=1), False),  # after it ends
    ],
)
def test_a_medication_explains_only_the_days_it_covers(world, bup, day, covered):
    found = services.explaining_medication(meds(world), analyte("BUP").pk, day)
    assert (found == bup) is covered
    assert (found is None) is not covered


def test_a_medication_without_an_end_covers_every_day_from_its_start(world):
    ongoing = medication(world, "MTD", "EDDP", end=None, name="Methadone")
    day = dt.date(2030, 6, 1)
    assert services.explaining_medication(meds(world), analyte("EDDP").pk, day) == ongoing
    assert services.explaining_medication(meds(world), analyte("MTD").pk, START) == ongoing
    before = START - dt.timedelta(days=1)
    assert services.explaining_medication(meds(world), analyte("MTD").pk, before) is None


def test_only_the_analytes_a_medication_lists_are_explained(world, bup):
    day = dt.date(2026, 1, 20)
    assert services.explaining_medication(meds(world), analyte("NORBUP").pk, day) == bup
    for code in ("MTD", "FEN", "OPI", "BZO"):
        assert services.explaining_medication(meds(world), analyte(code).pk, day) is None


def test_a_voided_medication_explains_nothing(world, bup):
    day = dt.date(2026, 1, 20)
    listed = meds(world)
    listed[0].voided = True  # voided after the list was read
    assert services.explaining_medication(listed, analyte("BUP").pk, day) is None
    ExpectedMedication.objects.filter(pk=bup.pk).update(voided=True)
    assert meds(world) == []  # and a voided one is not listed at all


def test_the_medication_covering_the_day_is_the_one_that_explains(world):
    old = medication(world, "BZO", start=dt.date(2025, 6, 1), end=dt.date(2025, 12, 31))
    new = medication(world, "BZO", start=dt.date(2026, 3, 1), end=None, name="Clonazepam")
    listed = meds(world)
    assert services.explaining_medication(listed, analyte("BZO").pk, dt.date(2025, 7, 1)) == old
    assert services.explaining_medication(listed, analyte("BZO").pk, dt.date(2026, 3, 2)) == new
    assert services.explaining_medication(listed, analyte("BZO").pk, dt.date(2026, 2, 1)) is None


def test_the_rule_runs_no_query(world, bup, django_assert_num_queries):
    listed, bup_pk = meds(world), analyte("BUP").pk
    with django_assert_num_queries(0):
        for day in (START, END, END + dt.timedelta(days=1)):
            services.interpret(ResultOutcome.POSITIVE, bup_pk, day, listed)


@pytest.mark.parametrize(
    ("outcome", "code", "day", "expected"),
    [
        (ResultOutcome.POSITIVE, "BUP", START, (Interpretation.EXPECTED, True)),
        (
            ResultOutcome.POSITIVE,
            "BUP",
            START - dt.timedelta(days=1),
            (Interpretation.UNEXPECTED, False),
        ),
        (
            ResultOutcome.POSITIVE,
            "BUP",
            END + dt.timedelta(days=1),
            (Interpretation.UNEXPECTED, False),
        ),
        (ResultOutcome.POSITIVE, "FEN", START, (Interpretation.UNEXPECTED, False)),
        # Negative and inconclusive are never "expected", covered or not.
        (ResultOutcome.NEGATIVE, "BUP", START, (Interpretation.NEGATIVE, False)),
        (ResultOutcome.NEGATIVE, "FEN", START, (Interpretation.NEGATIVE, False)),
        (ResultOutcome.INCONCLUSIVE, "BUP", START, (Interpretation.INCONCLUSIVE, False)),
        (ResultOutcome.INCONCLUSIVE, "FEN", START, (Interpretation.INCONCLUSIVE, False)),
    ],
)
def test_interpret(world, bup, outcome, code, day, expected):
    meaning, explained_by = services.interpret(outcome, analyte(code).pk, day, meds(world))
    assert (meaning, explained_by is not None) == expected
    if explained_by is not None:
        assert explained_by == bup


def test_without_any_medication_a_positive_is_unexpected(world):
    assert services.interpret(ResultOutcome.POSITIVE, analyte("BUP").pk, START, []) == (
        Interpretation.UNEXPECTED,
        None,
    )


# --- through record_results ---------------------------------------------------------------


def collected(world, participant, specimen_id: str, at: dt.datetime):
    order = services.order_test(
        participant.current_episode,
        actor=world.counsellor,
        day=at.date(),
        reason="for_cause",
        reason_detail="test",
    )
    return services.record_collection(
        order,
        services.CollectionInput(specimen_id=specimen_id, collected_at=at),
        actor=world.lab,
    )


def bup_positive(world, collection) -> Result:
    (result,) = services.record_results(
        collection,
        [
            services.ResultInput(
                analyte=analyte("BUP"), method=ResultMethod.PRESUMPTIVE, outcome="positive"
            )
        ],
        actor=world.lab,
    )
    return result


def local(world, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(world.program.time_zone))


def test_a_buprenorphine_positive_with_buprenorphine_expected_opens_no_review(world, bup):
    collection = collected(world, world.active, "MED-1", local(world, 2026, 1, 12, 10))

    result = bup_positive(world, collection)

    assert result.interpretation == Interpretation.EXPECTED
    assert result.explained_by == bup
    assert not Review.objects.filter(order=collection.order).exists()


def test_the_same_positive_without_the_medication_is_unexpected_and_reviewed(world, bup):
    other = make_participant(
        world.program, world.intake, last="Other", status=S.ACTIVE, counsellor=world.counsellor
    )
    collection = collected(world, other, "MED-2", local(world, 2026, 1, 12, 10))

    result = bup_positive(world, collection)

    assert result.interpretation == Interpretation.UNEXPECTED
    assert result.explained_by is None
    review = Review.objects.get(order=collection.order)
    assert review.reason == ReviewReason.UNEXPECTED_POSITIVE
    assert review.detail == "BUP" and review.assigned_to == world.counsellor


def test_a_positive_after_the_medication_ended_is_unexpected(world, bup):
    collection = collected(world, world.active, "MED-3", local(world, 2026, 2, 6, 10))
    result = bup_positive(world, collection)
    assert result.interpretation == Interpretation.UNEXPECTED
    assert Review.objects.filter(order=collection.order).exists()


def test_the_day_of_the_collection_is_the_programs_day(world, bup):
    """23:30 on Jan 4 on the program's clock is already Jan 5 in UTC, but the medication
    starting on Jan 5 does not cover it."""
    at = local(world, 2026, 1, 4, 23, 30)
    assert at.astimezone(dt.UTC).date() == START
    collection = collected(world, world.active, "MED-4", at)
    assert bup_positive(world, collection).interpretation == Interpretation.UNEXPECTED


def test_a_voided_medication_does_not_explain_a_recorded_positive(world, bup):
    ExpectedMedication.objects.filter(pk=bup.pk).update(voided=True)
    collection = collected(world, world.active, "MED-5", local(world, 2026, 1, 12, 10))
    result = bup_positive(world, collection)
    assert result.interpretation == Interpretation.UNEXPECTED
    assert result.explained_by is None


def test_negatives_are_negative_even_for_an_expected_medication(world, bup):
    collection = collected(world, world.active, "MED-6", local(world, 2026, 1, 12, 10))
    made = services.record_results(
        collection,
        [
            services.ResultInput(analyte=analyte("BUP"), method="presumptive", outcome="negative"),
            services.ResultInput(
                analyte=analyte("NORBUP"), method="presumptive", outcome="inconclusive"
            ),
        ],
        actor=world.lab,
    )
    assert [(r.interpretation, r.explained_by) for r in made] == [
        (Interpretation.NEGATIVE, None),
        (Interpretation.INCONCLUSIVE, None),
    ]
    assert not Review.objects.filter(order=collection.order).exists()
