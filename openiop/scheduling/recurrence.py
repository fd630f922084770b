"""Weekly-template recurrence: a program's sessions, day by day, in the program's time zone.

A template slot says "Mondays 09:00–12:00" in the program's local wall-clock time. Each
occurrence is stored as an aware UTC instant, so a 09:00 group stays at 09:00 local on both
sides of a daylight-saving change while its UTC time moves by an hour.

Pure Python: no Django imports, so it can be used (and tested) without settings.

Daylight-saving rules, the same everywhere in this module:

* a wall-clock time that does not exist (the spring-forward gap) moves forward by the length
  of the gap: 02:30 on 2026-03-08 in America/New_York becomes 03:30 EDT;
* an ambiguous wall-clock time (the repeated fall-back hour) takes its first occurrence
  (``fold=0``): 01:30 on 2026-11-01 in America/New_York is 01:30 EDT, 05:30Z.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any

# The longest range `occurrences` will expand, in days (inclusive): a guard against a typo
# in a year generating sessions for decades.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class SlotSpec:
    """One slot of a weekly template, in the program's local wall-clock time."""

    key: Hashable  # the template slot's id (opaque)
    weekday: int  # 0 = Monday … 6 = Sunday
    start: dt.time  # local wall-clock time in the program's zone
    end: dt.time  # after start, the same day

    def __post_init__(self) -> None:
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise ValueError(f"Slot {self.key!r}: weekday must be a whole number 0–6.")
        if not 0 <= self.weekday <= 6:
            raise ValueError(
                f"Slot {self.key!r}: weekday must be 0 (Monday) to 6 (Sunday), "
                f"not {self.weekday}."
            )
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError(
                f"Slot {self.key!r}: start and end are local wall-clock times; "
                "give them without a time zone."
            )
        if self.end <= self.start:
            raise ValueError(
                f"Slot {self.key!r}: the end ({self.end:%H:%M}) must be after the start "
                f"({self.start:%H:%M}) on the same day."
            )


@dataclass(frozen=True)
class Occurrence:
    """One slot on one program day."""

    key: Hashable
    day: dt.date  # the program day (local date)
    starts_at: dt.datetime  # aware, in UTC
    ends_at: dt.datetime  # aware, in UTC


def _check_local_time(time: dt.time) -> None:
    if time.tzinfo is not None:
        raise ValueError("A local wall-clock time must be given without a time zone.")


def local_to_utc(day: dt.date, time: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """Wall-clock time on a program day → aware UTC.

    A time that does not exist (the spring-forward gap) moves forward by the gap (02:30 →
    03:30 in America/New_York); an ambiguous time (the fall-back hour) takes the first
    occurrence (fold=0).
    """
    _check_local_time(time)
    # PEP 495: with fold=0 a time in the gap is read with the offset in force before the
    # transition, which lands it the length of the gap later; an ambiguous time gets the
    # earlier of its two offsets, i.e. its first occurrence.
    local = dt.datetime.combine(day, time.replace(fold=0), tzinfo=tz)
    return local.astimezone(dt.UTC)


def wall_time_exists(day: dt.date, time: dt.time, tz: dt.tzinfo) -> bool:
    """Whether the wall-clock time occurs on that day in that zone (False in a DST gap)."""
    _check_local_time(time)
    naive = dt.datetime.combine(day, time.replace(fold=0))
    back = local_to_utc(day, time, tz).astimezone(tz).replace(tzinfo=None, fold=0)
    return back == naive


def _wall_minutes(start: dt.time, end: dt.time) -> dt.timedelta:
    """Scheduled length on the wall clock (not real elapsed time across a DST change)."""
    day = dt.date(2000, 1, 3)
    return dt.datetime.combine(day, end) - dt.datetime.combine(day, start)


def _occurrence(slot: SlotSpec, day: dt.date, tz: dt.tzinfo) -> Occurrence:
    starts_at = local_to_utc(day, slot.start, tz)
    ends_at = local_to_utc(day, slot.end, tz)
    if ends_at <= starts_at:
        # Only possible when the start falls in the spring-forward gap and moves past an end
        # that exists (02:30–03:15 → 03:30 start). Keep the scheduled wall-clock length from
        # the moved start, so an occurrence always ends after it starts.
        ends_at = starts_at + _wall_minutes(slot.start, slot.end)
    return Occurrence(key=slot.key, day=day, starts_at=starts_at, ends_at=ends_at)


def _sorted(found: list[tuple[int, Occurrence]]) -> list[Occurrence]:
    """Sort by (starts_at, key); keys that cannot be compared fall back to template order."""

    def by_key(item: tuple[int, Occurrence]) -> tuple[dt.datetime, Any]:
        return item[1].starts_at, item[1].key

    try:
        found.sort(key=by_key)
    except TypeError:
        found.sort(key=lambda item: (item[1].starts_at, item[0]))
    return [occurrence for _, occurrence in found]


def occurrences(
    slots: Iterable[SlotSpec],
    start: dt.date,
    end: dt.date,
    tz: dt.tzinfo,
    closed: Callable[[dt.date], bool] = lambda d: False,
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
) -> list[Occurrence]:
    """Every occurrence of each slot on days start..end inclusive whose weekday matches.

    Days where ``closed(day)`` is true and days outside [valid_from, valid_until] (either
    None = open-ended) are skipped. Sorted by (starts_at, key). ``end < start`` → [].
    Ranges longer than 366 days raise ValueError (a guard against runaway generation).
    """
    if end < start:
        return []
    length = (end - start).days + 1
    if length > MAX_RANGE_DAYS:
        raise ValueError(
            f"Refusing to generate {length} days of sessions ({start} to {end}); "
            f"the limit is {MAX_RANGE_DAYS} days at a time."
        )
    by_weekday: dict[int, list[tuple[int, SlotSpec]]] = {}
    for index, slot in enumerate(slots):
        by_weekday.setdefault(slot.weekday, []).append((index, slot))
    first = start if valid_from is None else max(start, valid_from)
    last = end if valid_until is None else min(end, valid_until)

    found: list[tuple[int, Occurrence]] = []
    day = first
    while day <= last:
        todays = by_weekday.get(day.weekday())
        if todays and not closed(day):
            found.extend((index, _occurrence(slot, day, tz)) for index, slot in todays)
        day += dt.timedelta(days=1)
    return _sorted(found)


def closure_checker(ranges: Iterable[tuple[dt.date, dt.date]]) -> Callable[[dt.date], bool]:
    """From (first_day, last_day) inclusive closure ranges, a fast predicate.

    Overlapping and adjacent ranges are merged; a lookup is a binary search. A range whose
    last day is before its first raises ValueError.
    """
    spans: list[tuple[int, int]] = []
    for first, last in ranges:
        if last < first:
            raise ValueError(f"Closure ends ({last}) before it starts ({first}).")
        spans.append((first.toordinal(), last.toordinal()))
    spans.sort()
    merged: list[list[int]] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    starts = [lo for lo, _ in merged]
    ends = [hi for _, hi in merged]

    def is_closed(day: dt.date) -> bool:
        ordinal = day.toordinal()
        i = bisect.bisect_right(starts, ordinal) - 1
        return i >= 0 and ordinal <= ends[i]

    return is_closed


def minutes_between(starts_at: dt.datetime, ends_at: dt.datetime) -> int:
    """Real elapsed whole minutes between two aware instants (rounded down).

    Computed in UTC: subtracting two datetimes that share a zone would give wall-clock time,
    while a session over the DST change is really 60 minutes shorter or longer.
    """
    if starts_at.utcoffset() is None or ends_at.utcoffset() is None:
        raise ValueError("minutes_between needs aware datetimes.")
    elapsed = ends_at.astimezone(dt.UTC) - starts_at.astimezone(dt.UTC)
    return elapsed // dt.timedelta(minutes=1)
