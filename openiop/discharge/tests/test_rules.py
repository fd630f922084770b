"""The discharge rules as plain functions (no HTTP, no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openiop.discharge import rules
from openiop.discharge.choices import DischargeReason as R
from openiop.participants.choices import EpisodeStatus as S

TODAY = dt.date(2026, 3, 20)
ADMITTED = dt.date(2026, 2, 1)


def proposed(**changes):
    values = {
        "status": S.ACTIVE,
        "admission_date": ADMITTED,
        "level_of_care": "3:2.1",
        "today": TODAY,
        "discharge_date": TODAY,
        "last_contact_date": TODAY - dt.timedelta(days=2),
        "reason": R.COMPLETED,
        "reason_detail": "",
        "next_level": "",
        "receiving_program": "",
        "already_discharged": False,
    }
    values.update(changes)
    return rules.Proposed(**values)


def fields(d):
    return [f for f, _m in rules.problems(d)]


@pytest.mark.parametrize(
    ("code", "number"),
    [("3:2.1", Decimal("2.1")), ("4:4.0", Decimal("4")), ("3:0.5", Decimal("0.5")), ("", None)],
)
def test_level_number_reads_the_asam_number(code, number):
    assert rules.level_number(code) == number


def test_a_completed_discharge_passes():
    assert rules.problems(proposed()) == []
    rules.check(proposed())


@pytest.mark.parametrize("status", [S.REFERRED, S.SCREENING, S.ASSESSED, S.DISCHARGED, S.ALUMNI])
def test_only_an_episode_in_care_is_discharged(status):
    assert fields(proposed(status=status)) == [None]
    with pytest.raises(rules.DischargeRefused, match="in care"):
        rules.check(proposed(status=status))


def test_admitted_but_not_started_can_be_discharged():
    assert rules.problems(proposed(status=S.ADMITTED)) == []


def test_one_discharge_per_episode():
    with pytest.raises(rules.DischargeRefused, match="already been discharged"):
        rules.check(proposed(already_discharged=True))


def test_dates_not_in_the_future():
    tomorrow = TODAY + dt.timedelta(days=1)
    assert "discharge_date" in fields(proposed(discharge_date=tomorrow))
    assert "last_contact_date" in fields(proposed(discharge_date=TODAY, last_contact_date=tomorrow))


def test_dates_not_before_the_admission():
    before = ADMITTED - dt.timedelta(days=1)
    assert fields(proposed(discharge_date=before, last_contact_date=before)) == [
        "discharge_date",
        "last_contact_date",
    ]


def test_last_contact_on_or_before_the_discharge():
    d = proposed(discharge_date=TODAY - dt.timedelta(days=3), last_contact_date=TODAY)
    assert fields(d) == ["last_contact_date"]
    assert rules.problems(proposed(last_contact_date=TODAY)) == []
    assert rules.problems(proposed(last_contact_date=ADMITTED)) == []


def test_what_happened_is_required_unless_completed():
    assert fields(proposed(reason=R.AGAINST_ADVICE)) == ["reason_detail"]
    assert fields(proposed(reason=R.AGAINST_ADVICE, reason_detail="   ")) == ["reason_detail"]
    assert rules.problems(proposed(reason=R.AGAINST_ADVICE, reason_detail="Stopped coming")) == []


def test_an_unknown_reason():
    assert fields(proposed(reason="bogus")) == ["reason"]


@pytest.mark.parametrize(
    ("reason", "next_level", "ok"),
    [
        (R.STEP_UP, "3:2.5", True),
        (R.STEP_UP, "4:3.7", True),  # 4th edition, higher number
        (R.STEP_UP, "3:2.1", False),  # the same level
        (R.STEP_UP, "4:1.5", False),
        (R.STEP_DOWN, "3:1", True),
        (R.STEP_DOWN, "4:1.0", True),
        (R.STEP_DOWN, "4:2.5", False),
        (R.STEP_DOWN, "4:2.1", False),  # the same number in the other edition
    ],
)
def test_step_up_goes_higher_and_step_down_lower(reason, next_level, ok):
    d = proposed(reason=reason, reason_detail="x", next_level=next_level, receiving_program="Y")
    assert (fields(d) == []) is ok
    if not ok:
        assert fields(d) == ["next_level"]


def test_a_step_needs_a_level_and_a_receiving_program():
    d = proposed(reason=R.STEP_DOWN, reason_detail="Doing well")
    assert fields(d) == ["next_level", "receiving_program"]


def test_other_reasons_ignore_the_level():
    assert rules.problems(proposed(reason=R.COMPLETED, next_level="3:2.1")) == []
