"""Pure attendance rules: weekly hours, prorated minimums, absence runs, rates and check-in
flags.

No Django imports, so the rules can be used (and tested) without settings; the models and
the alert job feed them plain values.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

PRESENT_STATUSES = frozenset({"present", "late", "left_early", "telehealth"})
ABSENT_STATUSES = frozenset({"absent_excused", "absent_unexcused"})
ALL_STATUSES = PRESENT_STATUSES | ABSENT_STATUSES

SUBSTANCES_MAX_LENGTH = 200


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """Round an exact fraction half-up (away from zero for positives) to `places` decimals."""
    scale = 10**places
    scaled = math.floor(value * scale + Fraction(1, 2))
    return Decimal(scaled).scaleb(-places)


# --- weeks ----------------------------------------------------------------------------------


def week_start(day: dt.date) -> dt.date:
    """The Monday of day's week."""
    return day - dt.timedelta(days=day.weekday())


def weeks_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays of every week from first's week to last's week, inclusive.

    ``last`` before ``first`` → [].
    """
    if last < first:
        return []
    monday, final = week_start(first), week_start(last)
    weeks = []
    while monday <= final:
        weeks.append(monday)
        monday += dt.timedelta(days=7)
    return weeks


# --- marks and hours ------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One participant's attendance at one session."""

    day: dt.date
    starts_at: dt.datetime  # for ordering
    status: str  # one of PRESENT_STATUSES | ABSENT_STATUSES
    minutes: int  # minutes attended (0 when absent)

    def __post_init__(self) -> None:
        if self.status not in ALL_STATUSES:
            raise ValueError(f"Unknown attendance status {self.status!r}.")
        if self.minutes < 0:
            raise ValueError(f"Minutes attended cannot be negative ({self.minutes}).")

    @property
    def attended(self) -> bool:
        return self.status in PRESENT_STATUSES


def minutes_by_week(marks: Iterable[Mark]) -> dict[dt.date, int]:
    """Monday → minutes attended that week.

    Every week with a mark appears (a week of absences maps to 0). Only attended marks add
    minutes: an absence counts as 0 even if minutes were recorded against it.
    """
    totals: defaultdict[dt.date, int] = defaultdict(int)
    for mark in marks:
        totals[week_start(mark.day)] += mark.minutes if mark.attended else 0
    return dict(sorted(totals.items()))


def hours(minutes: int) -> Decimal:
    """Minutes as hours, rounded half-up to 0.1 (e.g. 9 min → 0.2, 171 min → 2.9)."""
    return _round_half_up(Fraction(minutes, 60), 1)


# --- absences -------------------------------------------------------------------------------


def _latest_first(marks: Iterable[Mark]) -> list[Mark]:
    """Most recent first; marks with the same starts_at keep their order (the later one given
    counts as the more recent)."""
    return sorted(marks, key=lambda mark: mark.starts_at)[::-1]


def consecutive_absences(marks: Iterable[Mark]) -> int:
    """Absences in a row at the most recent sessions (sorted by starts_at).

    Any attended status ends the run. Excused absences count too (a program decides by
    threshold). Returns 0 when the last mark is attended or there are no marks. Marks with
    the same starts_at are taken in the order given.
    """
    run = 0
    for mark in _latest_first(marks):
        if mark.attended:
            break
        run += 1
    return run


def consecutive_unexcused(marks: Iterable[Mark]) -> int:
    """Like consecutive_absences, counting only absent_unexcused.

    An excused absence neither counts nor breaks the run; any attended status ends it.
    """
    run = 0
    for mark in _latest_first(marks):
        if mark.attended:
            break
        if mark.status == "absent_unexcused":
            run += 1
    return run


# --- weekly minimum -------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCheck:
    """One week's attended minutes against its (prorated) minimum."""

    week: dt.date  # Monday
    minutes: int
    required_minutes: int  # prorated
    below: bool


# ASAM Level 2.1: at least 9 h/week adults, 6 adolescents (DOMAIN.md §1.1). The program's
# `min_weekly_hours` carries that floor; here it is only prorated for partial weeks.
def required_minutes(
    min_weekly_hours: Decimal,
    week: dt.date,
    enrolled_from: dt.date,
    enrolled_until: dt.date | None,
    program_days_in_week: int,
    program_days_enrolled: int,
) -> int:
    """The week's minimum in minutes, prorated by the share of the week's program days the
    participant was enrolled for.

    A participant admitted on Thursday of a Mon–Fri program owes 2/5 of the week.
    ``program_days_in_week == 0`` → 0; an enrolment that does not overlap the week (``week``
    is any day of it) → 0. Rounded to whole minutes, half-up.
    """
    if min_weekly_hours < 0:
        raise ValueError(f"The weekly minimum cannot be negative ({min_weekly_hours} h).")
    if program_days_in_week < 0 or program_days_enrolled < 0:
        raise ValueError("Program day counts cannot be negative.")
    if program_days_enrolled > program_days_in_week:
        raise ValueError(
            f"Enrolled for {program_days_enrolled} program days of a week that has only "
            f"{program_days_in_week}."
        )
    if enrolled_until is not None and enrolled_until < enrolled_from:
        raise ValueError(f"Enrolment ends ({enrolled_until}) before it starts ({enrolled_from}).")
    monday = week_start(week)
    sunday = monday + dt.timedelta(days=6)
    if program_days_in_week == 0 or enrolled_from > sunday:
        return 0
    if enrolled_until is not None and enrolled_until < monday:
        return 0
    weekly = Fraction(min_weekly_hours) * 60
    share = Fraction(program_days_enrolled, program_days_in_week)
    return int(_round_half_up(weekly * share, 0))


def below_minimum(minutes: int, required: int) -> bool:
    """Whether a week falls short: a minimum is owed (> 0) and fewer minutes were attended."""
    return required > 0 and minutes < required


def check_week(week: dt.date, minutes: int, required: int) -> WeekCheck:
    """A WeekCheck for the Monday of ``week``'s week."""
    return WeekCheck(
        week=week_start(week),
        minutes=minutes,
        required_minutes=required,
        below=below_minimum(minutes, required),
    )


def attendance_rate(marks: Iterable[Mark]) -> Decimal | None:
    """Attended sessions / sessions with a mark, as a fraction 0..1 quantized to 0.001
    (half-up). Excused absences count in the denominator. None with no marks."""
    total = attended = 0
    for mark in marks:
        total += 1
        attended += mark.attended
    if total == 0:
        return None
    return _round_half_up(Fraction(attended, total), 3)


# --- check-ins ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckInValues:
    """A check-in's self-reported values (None = not answered)."""

    mood: int | None
    craving: int | None
    used: bool
    substances: str
    stress: int | None
    sleep_hours: Decimal | None


@dataclass(frozen=True)
class CheckInFlag:
    """A reason for the counsellor to look at a check-in."""

    code: str  # "reported_use" or "high_craving"
    message: str


def check_in_flags(values: CheckInValues, craving_threshold: int) -> list[CheckInFlag]:
    """reported_use when use was reported; high_craving when the craving is at or above the
    program's alert threshold. In that order."""
    flags = []
    if values.used:
        what = values.substances.strip()
        message = (
            f"Reported use since the last session: {what}."
            if what
            else "Reported use since the last session."
        )
        flags.append(CheckInFlag(code="reported_use", message=message))
    if values.craving is not None and values.craving >= craving_threshold:
        flags.append(
            CheckInFlag(
                code="high_craving",
                message=f"Craving {values.craving}/10 (alert threshold {craving_threshold}).",
            )
        )
    return flags


def _whole_in_range(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def validate_check_in(values: CheckInValues) -> dict[str, str]:
    """Field → error message for out-of-range values; an empty dict when valid.

    Mood 1–10, craving 0–10, stress 0–10, sleep_hours 0–24 with at most one decimal,
    substances required when use is reported (at most 200 characters) and empty when not.
    An unanswered (None) scale is not an error here: whether it is required is the form's
    decision.
    """
    errors: dict[str, str] = {}
    if values.mood is not None and not _whole_in_range(values.mood, 1, 10):
        errors["mood"] = "Mood must be a whole number from 1 (worst) to 10 (best)."
    if values.craving is not None and not _whole_in_range(values.craving, 0, 10):
        errors["craving"] = "Craving must be a whole number from 0 (none) to 10 (strongest)."
    if values.stress is not None and not _whole_in_range(values.stress, 0, 10):
        errors["stress"] = "Stress must be a whole number from 0 (none) to 10 (extreme)."

    sleep = values.sleep_hours
    if sleep is not None:
        if not isinstance(sleep, Decimal | int) or isinstance(sleep, bool):
            errors["sleep_hours"] = "Hours slept must be a number from 0 to 24."
        elif not Decimal(sleep).is_finite() or not 0 <= sleep <= 24:
            errors["sleep_hours"] = "Hours slept must be from 0 to 24."
        elif (Decimal(sleep) * 10) % 1 != 0:
            errors["sleep_hours"] = "Hours slept can have at most one decimal place, e.g. 7.5."

    what = values.substances.strip()
    if values.used:
        if not what:
            errors["substances"] = "Say what was used, since use was reported."
        elif len(what) > SUBSTANCES_MAX_LENGTH:
            errors["substances"] = (
                f"What was used must be at most {SUBSTANCES_MAX_LENGTH} characters "
                f"(it has {len(what)})."
            )
    elif what:
        errors["substances"] = (
            "Leave what was used empty when no use is reported, or record the use."
        )
    return errors
