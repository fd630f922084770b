"""Attendance rules: weeks, hours, prorated minimums, absence runs, rates and check-ins."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.attendance.rules import (
    ABSENT_STATUSES,
    PRESENT_STATUSES,
    CheckInFlag,
    CheckInValues,
    Mark,
    WeekCheck,
    attendance_rate,
    below_minimum,
    check_in_flags,
    check_week,
    consecutive_absences,
    consecutive_unexcused,
    hours,
    minutes_by_week,
    required_minutes,
    validate_check_in,
    week_start,
    weeks_between,
)

UTC = dt.UTC
MONDAY = dt.date(2026, 3, 2)


def mark(day: dt.date, status: str, minutes: int | None = None, hour: int = 9) -> Mark:
    if minutes is None:
        minutes = 180 if status in PRESENT_STATUSES else 0
    starts_at = dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)
    return Mark(day=day, starts_at=starts_at, status=status, minutes=minutes)


def run(*statuses: str) -> list[Mark]:
    """Marks on consecutive days from MONDAY, oldest first."""
    return [mark(MONDAY + dt.timedelta(days=i), s) for i, s in enumerate(statuses)]


# --- statuses and weeks ---------------------------------------------------------------------


def test_status_sets() -> None:
    assert {"present", "late", "left_early", "telehealth"} == PRESENT_STATUSES
    assert {"absent_excused", "absent_unexcused"} == ABSENT_STATUSES
    assert not PRESENT_STATUSES & ABSENT_STATUSES


def test_week_start() -> None:
    for offset in range(7):
        assert week_start(MONDAY + dt.timedelta(days=offset)) == MONDAY
    assert week_start(MONDAY - dt.timedelta(days=1)) == dt.date(2026, 2, 23)
    assert week_start(dt.date(2027, 1, 1)) == dt.date(2026, 12, 28)  # across a year end


def test_weeks_between() -> None:
    assert weeks_between(MONDAY, MONDAY) == [MONDAY]
    assert weeks_between(dt.date(2026, 3, 8), dt.date(2026, 3, 9)) == [MONDAY, dt.date(2026, 3, 9)]
    assert weeks_between(dt.date(2026, 3, 4), dt.date(2026, 3, 25)) == [
        MONDAY,
        dt.date(2026, 3, 9),
        dt.date(2026, 3, 16),
        dt.date(2026, 3, 23),
    ]
    assert weeks_between(dt.date(2026, 3, 9), dt.date(2026, 3, 8)) == []


# --- marks, minutes and hours ---------------------------------------------------------------


def test_mark_refuses_unknown_status_and_negative_minutes() -> None:
    with pytest.raises(ValueError, match="Unknown attendance status"):
        mark(MONDAY, "excused")
    with pytest.raises(ValueError, match="negative"):
        mark(MONDAY, "present", minutes=-1)


def test_minutes_by_week() -> None:
    marks = [
        mark(MONDAY, "present", 180),
        mark(dt.date(2026, 3, 4), "late", 150),
        mark(dt.date(2026, 3, 8), "telehealth", 60),  # Sunday: same week
        mark(dt.date(2026, 3, 9), "absent_unexcused"),
        mark(dt.date(2026, 3, 18), "left_early", 90),
    ]
    assert minutes_by_week(marks) == {
        MONDAY: 390,
        dt.date(2026, 3, 9): 0,  # a week of absences is still listed
        dt.date(2026, 3, 16): 90,
    }
    assert minutes_by_week([]) == {}


def test_minutes_recorded_on_an_absence_do_not_count() -> None:
    assert minutes_by_week([mark(MONDAY, "absent_excused", 45)]) == {MONDAY: 0}


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, "0.0"),
        (2, "0.0"),  # 0.0333
        (3, "0.1"),  # 0.05 exactly: half-up
        (9, "0.2"),  # 0.15 exactly: half-up
        (171, "2.9"),  # 2.85 exactly: half-up
        (180, "3.0"),
        (540, "9.0"),
        (539, "9.0"),
        (536, "8.9"),
    ],
)
def test_hours(minutes: int, expected: str) -> None:
    result = hours(minutes)
    assert result == Decimal(expected)
    assert str(result) == expected


# --- absence runs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "absences", "unexcused"),
    [
        ((), 0, 0),
        (("present",), 0, 0),
        (("absent_unexcused",), 1, 1),
        (("present", "absent_unexcused", "absent_unexcused"), 2, 2),
        (("absent_unexcused", "present", "absent_unexcused"), 1, 1),
        (("absent_unexcused", "absent_unexcused", "late"), 0, 0),
        (("present", "absent_excused", "absent_unexcused", "absent_excused"), 3, 1),
        (("absent_excused", "absent_excused"), 2, 0),
        (("absent_unexcused", "absent_excused", "absent_unexcused"), 3, 2),
        (("absent_unexcused", "telehealth", "absent_excused", "absent_unexcused"), 2, 1),
        (("absent_unexcused", "left_early", "absent_excused"), 1, 0),
    ],
)
def test_consecutive_absences(statuses: tuple[str, ...], absences: int, unexcused: int) -> None:
    marks = run(*statuses)
    assert consecutive_absences(marks) == absences
    assert consecutive_unexcused(marks) == unexcused


def test_runs_sort_by_start_not_input_order() -> None:
    marks = run("present", "absent_unexcused", "absent_unexcused")
    shuffled = [marks[2], marks[0], marks[1]]
    assert consecutive_absences(shuffled) == 2
    assert consecutive_unexcused(iter(shuffled)) == 2
    # Two sessions on one day: the afternoon one is the most recent.
    day = [mark(MONDAY, "absent_unexcused", hour=13), mark(MONDAY, "present", hour=9)]
    assert consecutive_absences(day) == 1
    day = [mark(MONDAY, "absent_unexcused", hour=9), mark(MONDAY, "present", hour=13)]
    assert consecutive_absences(day) == 0
    # The same start: the mark given later counts as the more recent.
    same = dt.datetime(2026, 3, 2, 9, tzinfo=UTC)
    tie = [
        Mark(day=MONDAY, starts_at=same, status="present", minutes=180),
        Mark(day=MONDAY, starts_at=same, status="absent_excused", minutes=0),
    ]
    assert consecutive_absences(tie) == 1
    assert consecutive_absences(tie[::-1]) == 0


# --- weekly minimum -------------------------------------------------------------------------


def test_full_week_owes_the_full_minimum() -> None:
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 1, 1), None, 5, 5) == 540
    assert required_minutes(Decimal(6), MONDAY, dt.date(2026, 1, 1), None, 3, 3) == 360
    assert required_minutes(Decimal("9.5"), MONDAY, dt.date(2026, 1, 1), None, 4, 4) == 570


def test_admitted_thursday_of_mon_fri_owes_two_fifths() -> None:
    thursday = dt.date(2026, 3, 5)
    assert required_minutes(Decimal(9), MONDAY, thursday, None, 5, 2) == 216


def test_mon_thu_program_admitted_wednesday_owes_half() -> None:
    wednesday = dt.date(2026, 3, 4)
    assert required_minutes(Decimal(9), MONDAY, wednesday, None, 4, 2) == 270
    # `week` may be any day of the week.
    assert required_minutes(Decimal(9), dt.date(2026, 3, 7), wednesday, None, 4, 2) == 270


def test_discharged_mid_week_is_prorated_too() -> None:
    tuesday = dt.date(2026, 3, 3)
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 1, 1), tuesday, 5, 2) == 216


def test_prorating_rounds_half_up() -> None:
    # 9 h over 7 days, 1 enrolled: 77.14 → 77; 6.5 h * 60 = 390 over 4, 1 enrolled: 97.5 → 98.
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 8), None, 7, 1) == 77
    assert required_minutes(Decimal("6.5"), MONDAY, dt.date(2026, 3, 5), None, 4, 1) == 98
    # 1/3 of 9 h = 180 exactly; 2/3 = 360.
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 4), None, 3, 1) == 180
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 3), None, 3, 2) == 360


def test_no_program_days_or_no_overlap_owes_nothing() -> None:
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 1, 1), None, 0, 0) == 0
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 9), None, 5, 0) == 0
    # Enrolment outside the week: 0 whatever the caller's day count says.
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 9), None, 5, 5) == 0
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 1, 1), dt.date(2026, 3, 1), 5, 5) == 0
    assert required_minutes(Decimal(9), MONDAY, dt.date(2026, 3, 4), None, 4, 0) == 0
    assert required_minutes(Decimal(0), MONDAY, dt.date(2026, 1, 1), None, 5, 5) == 0


def test_required_minutes_refuses_inconsistent_input() -> None:
    start = dt.date(2026, 1, 1)
    with pytest.raises(ValueError, match="negative"):
        required_minutes(Decimal(-1), MONDAY, start, None, 5, 5)
    with pytest.raises(ValueError, match="negative"):
        required_minutes(Decimal(9), MONDAY, start, None, 5, -1)
    with pytest.raises(ValueError, match="only 5"):
        required_minutes(Decimal(9), MONDAY, start, None, 5, 6)
    with pytest.raises(ValueError, match="before it starts"):
        required_minutes(Decimal(9), MONDAY, start, dt.date(2025, 12, 31), 5, 5)


@pytest.mark.parametrize(
    ("minutes", "required", "below"),
    [(539, 540, True), (540, 540, False), (541, 540, False), (0, 0, False), (0, 1, True)],
)
def test_below_minimum(minutes: int, required: int, below: bool) -> None:
    assert below_minimum(minutes, required) is below


def test_check_week() -> None:
    assert check_week(dt.date(2026, 3, 5), 500, 540) == WeekCheck(
        week=MONDAY, minutes=500, required_minutes=540, below=True
    )
    assert not check_week(MONDAY, 540, 540).below


# --- rates ----------------------------------------------------------------------------------


def test_attendance_rate() -> None:
    assert attendance_rate([]) is None
    assert attendance_rate(run("present")) == Decimal("1.000")
    assert attendance_rate(run("absent_unexcused")) == Decimal("0.000")
    # Excused absences count in the denominator; all attended statuses in the numerator.
    rate = attendance_rate(run("present", "late", "left_early", "telehealth", "absent_excused"))
    assert rate == Decimal("0.800")
    assert str(attendance_rate(run("present", "absent_excused", "absent_unexcused"))) == "0.333"
    assert attendance_rate(run("present", "present", "absent_unexcused")) == Decimal("0.667")


def test_attendance_rate_rounds_half_up() -> None:
    # 1/2000 = 0.0005 exactly → 0.001.
    marks = [mark(MONDAY, "present")] + [
        mark(MONDAY + dt.timedelta(days=i), "absent_unexcused") for i in range(1, 2000)
    ]
    assert attendance_rate(marks) == Decimal("0.001")


# --- check-ins ------------------------------------------------------------------------------


def values(**changes: object) -> CheckInValues:
    base: dict[str, object] = {
        "mood": 6,
        "craving": 3,
        "used": False,
        "substances": "",
        "stress": 4,
        "sleep_hours": Decimal("7.5"),
    }
    base.update(changes)
    return CheckInValues(**base)  # type: ignore[arg-type]


def test_no_flags_for_a_quiet_check_in() -> None:
    assert check_in_flags(values(), craving_threshold=7) == []


def test_craving_flag_at_threshold_not_below() -> None:
    assert check_in_flags(values(craving=6), craving_threshold=7) == []
    assert check_in_flags(values(craving=7), craving_threshold=7) == [
        CheckInFlag("high_craving", "Craving 7/10 (alert threshold 7).")
    ]
    assert check_in_flags(values(craving=8), craving_threshold=7) == [
        CheckInFlag("high_craving", "Craving 8/10 (alert threshold 7).")
    ]
    assert check_in_flags(values(craving=None), craving_threshold=0) == []


def test_reported_use_flag() -> None:
    flags = check_in_flags(values(used=True, substances="alcohol"), craving_threshold=7)
    assert flags == [CheckInFlag("reported_use", "Reported use since the last session: alcohol.")]
    flags = check_in_flags(values(used=True, substances="  "), craving_threshold=7)
    assert flags == [CheckInFlag("reported_use", "Reported use since the last session.")]


def test_both_flags_use_first() -> None:
    flags = check_in_flags(values(used=True, substances="cannabis", craving=9), 7)
    assert [f.code for f in flags] == ["reported_use", "high_craving"]


def test_valid_check_in() -> None:
    assert validate_check_in(values()) == {}
    assert validate_check_in(values(used=True, substances="alcohol")) == {}
    unanswered = values(mood=None, craving=None, stress=None, sleep_hours=None)
    assert validate_check_in(unanswered) == {}


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("mood", [1, 10], [0, 11, -1, True, 5.5]),
        ("craving", [0, 10], [-1, 11, 5.0]),
        ("stress", [0, 10], [-1, 11, False]),
        (
            "sleep_hours",
            [Decimal(0), Decimal(24), Decimal("0.1"), Decimal("23.9"), Decimal("7.50"), 8],
            [
                Decimal("-0.1"),
                Decimal("24.1"),
                Decimal("7.25"),
                Decimal("NaN"),
                Decimal("Infinity"),
                7.5,
                True,
            ],
        ),
    ],
)
def test_scale_bounds(field: str, good: list[object], bad: list[object]) -> None:
    for value in good:
        assert validate_check_in(values(**{field: value})) == {}, value
    for value in bad:
        errors = validate_check_in(values(**{field: value}))
        assert list(errors) == [field], value
        message = errors[field]
        assert message[0].isupper() and message.endswith("."), message


def test_scale_messages_name_the_range() -> None:
    errors = validate_check_in(
        values(mood=0, craving=11, stress=-1, sleep_hours=Decimal(25), used=False)
    )
    assert errors == {
        "mood": "Mood must be a whole number from 1 (worst) to 10 (best).",
        "craving": "Craving must be a whole number from 0 (none) to 10 (strongest).",
        "stress": "Stress must be a whole number from 0 (none) to 10 (extreme).",
        "sleep_hours": "Hours slept must be from 0 to 24.",
    }
    one_decimal = validate_check_in(values(sleep_hours=Decimal("6.75")))["sleep_hours"]
    assert "one decimal" in one_decimal


def test_substances_rules() -> None:
    assert "Say what was used" in validate_check_in(values(used=True, substances=""))["substances"]
    assert "substances" in validate_check_in(values(used=True, substances="   "))
    assert validate_check_in(values(used=True, substances="x" * 200)) == {}
    too_long = validate_check_in(values(used=True, substances="x" * 201))["substances"]
    assert "at most 200 characters" in too_long
    assert "201" in too_long
    not_used = validate_check_in(values(used=False, substances="alcohol"))["substances"]
    assert "empty when no use is reported" in not_used
    assert validate_check_in(values(used=False, substances="  ")) == {}


# --- properties -----------------------------------------------------------------------------

STATUSES = sorted(PRESENT_STATUSES | ABSENT_STATUSES)


@st.composite
def marks_lists(draw: st.DrawFn) -> list[Mark]:
    result = []
    for _ in range(draw(st.integers(0, 60))):
        status = draw(st.sampled_from(STATUSES))
        starts_at = draw(
            st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 12, 31), timezones=st.just(UTC))
        )
        minutes = draw(st.integers(0, 600)) if status in PRESENT_STATUSES else 0
        result.append(
            Mark(day=starts_at.date(), starts_at=starts_at, status=status, minutes=minutes)
        )
    return result


@settings(max_examples=300, deadline=None)
@given(marks_lists())
def test_minutes_by_week_properties(marks: list[Mark]) -> None:
    weekly = minutes_by_week(marks)
    assert sum(weekly.values()) == sum(m.minutes for m in marks)
    assert set(weekly) == {week_start(m.day) for m in marks}
    assert all(week.weekday() == 0 for week in weekly)
    assert list(weekly) == sorted(weekly)


@settings(max_examples=300, deadline=None)
@given(marks_lists())
def test_absence_run_properties(marks: list[Mark]) -> None:
    absences = consecutive_absences(marks)
    unexcused = consecutive_unexcused(marks)
    assert 0 <= unexcused <= absences <= len(marks)
    latest = sorted(marks, key=lambda m: m.starts_at)
    if not latest or latest[-1].status in PRESENT_STATUSES:
        assert absences == 0
        assert unexcused == 0
    else:
        assert absences >= 1
    if len({m.starts_at for m in marks}) == len(marks):  # input order matters only for ties
        assert consecutive_absences(list(reversed(marks))) == absences
        assert consecutive_unexcused(list(reversed(marks))) == unexcused
    rate = attendance_rate(marks)
    if marks:
        assert rate is not None
        assert Decimal(0) <= rate <= Decimal(1)
    else:
        assert rate is None


@settings(max_examples=300, deadline=None)
@given(
    st.decimals(min_value=0, max_value=60, places=1),
    st.integers(0, 7),
    st.data(),
)
def test_required_minutes_properties(hours_: Decimal, days: int, data: st.DataObject) -> None:
    enrolled = data.draw(st.integers(0, days))
    start = dt.date(2026, 1, 1)
    owed = required_minutes(hours_, MONDAY, start, None, days, enrolled)
    full = required_minutes(hours_, MONDAY, start, None, days, days)
    assert 0 <= owed <= full
    assert full == (0 if days == 0 else int(hours_ * 60))
    if days:
        assert abs(owed - hours_ * 60 * enrolled / days) <= Decimal("0.5")
