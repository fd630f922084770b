"""Weekly-template recurrence: counts, closures, validity windows and daylight saving."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.scheduling.recurrence import (
    MAX_RANGE_DAYS,
    Occurrence,
    SlotSpec,
    closure_checker,
    local_to_utc,
    minutes_between,
    occurrences,
    wall_time_exists,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
NINE, NOON = dt.time(9), dt.time(12)


def mwth(start: dt.time = NINE, end: dt.time = NOON) -> list[SlotSpec]:
    return [
        SlotSpec(key=k, weekday=w, start=start, end=end) for k, w in ((1, MON), (2, WED), (3, THU))
    ]


def local(occ: Occurrence, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    return occ.starts_at.astimezone(tz), occ.ends_at.astimezone(tz)


# --- SlotSpec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [(dt.time(12), dt.time(9)), (dt.time(9), dt.time(9)), (dt.time(23, 59), dt.time(0))],
)
def test_slot_end_must_be_after_start(start: dt.time, end: dt.time) -> None:
    with pytest.raises(ValueError, match="must be after the start"):
        SlotSpec(key="x", weekday=MON, start=start, end=end)


@pytest.mark.parametrize("weekday", [-1, 7, True])
def test_slot_weekday_range(weekday: int) -> None:
    with pytest.raises(ValueError, match="weekday"):
        SlotSpec(key="x", weekday=weekday, start=NINE, end=NOON)


def test_slot_refuses_aware_times() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        SlotSpec(key="x", weekday=MON, start=dt.time(9, tzinfo=UTC), end=NOON)


def test_one_minute_slot_is_fine() -> None:
    slot = SlotSpec(key="x", weekday=MON, start=dt.time(9), end=dt.time(9, 1))
    assert slot.end > slot.start


# --- counts, closures, validity -------------------------------------------------------------


def test_four_weeks_of_mon_wed_thu() -> None:
    # 2026-01-05 is a Monday; four full weeks through Sunday 2026-02-01.
    found = occurrences(mwth(), dt.date(2026, 1, 5), dt.date(2026, 2, 1), NY)
    assert len(found) == 12
    assert [o.day.weekday() for o in found] == [MON, WED, THU] * 4
    assert [o.key for o in found] == [1, 2, 3] * 4
    first = found[0]
    assert first.day == dt.date(2026, 1, 5)
    assert first.starts_at == dt.datetime(2026, 1, 5, 14, tzinfo=UTC)  # EST, UTC−5
    assert first.ends_at == dt.datetime(2026, 1, 5, 17, tzinfo=UTC)
    assert first.starts_at.tzinfo is UTC


def test_range_is_inclusive_on_both_ends() -> None:
    found = occurrences(mwth(), dt.date(2026, 1, 5), dt.date(2026, 1, 5), NY)
    assert [o.day for o in found] == [dt.date(2026, 1, 5)]
    found = occurrences(mwth(), dt.date(2026, 1, 6), dt.date(2026, 1, 8), NY)
    assert [o.day for o in found] == [dt.date(2026, 1, 7), dt.date(2026, 1, 8)]


def test_end_before_start_is_empty() -> None:
    assert occurrences(mwth(), dt.date(2026, 1, 10), dt.date(2026, 1, 9), NY) == []


def test_no_slots_is_empty() -> None:
    assert occurrences([], dt.date(2026, 1, 1), dt.date(2026, 1, 31), NY) == []


def test_366_day_guard() -> None:
    start = dt.date(2026, 1, 1)
    longest = start + dt.timedelta(days=MAX_RANGE_DAYS - 1)
    assert MAX_RANGE_DAYS == 366
    assert len(occurrences(mwth(), start, longest, NY)) > 150
    with pytest.raises(ValueError, match="367 days"):
        occurrences(mwth(), start, longest + dt.timedelta(days=1), NY)
    # end < start is checked first: an inverted huge range is simply empty.
    assert occurrences(mwth(), longest + dt.timedelta(days=10), start, NY) == []


def test_single_holiday_is_skipped() -> None:
    holiday = dt.date(2026, 1, 19)  # Martin Luther King Jr. Day, a Monday
    closed = closure_checker([(holiday, holiday)])
    found = occurrences(mwth(), dt.date(2026, 1, 5), dt.date(2026, 2, 1), NY, closed=closed)
    assert len(found) == 11
    assert holiday not in {o.day for o in found}


def test_closure_spanning_a_week_is_skipped() -> None:
    # Wednesday 2026-01-14 to Tuesday 2026-01-20: Wed, Thu, Mon inside.
    closed = closure_checker([(dt.date(2026, 1, 14), dt.date(2026, 1, 20))])
    found = occurrences(mwth(), dt.date(2026, 1, 5), dt.date(2026, 2, 1), NY, closed=closed)
    assert len(found) == 9
    days = {o.day for o in found}
    assert days.isdisjoint({dt.date(2026, 1, 14), dt.date(2026, 1, 15), dt.date(2026, 1, 19)})
    assert dt.date(2026, 1, 12) in days
    assert dt.date(2026, 1, 21) in days


def test_closure_checker_merges_and_bounds() -> None:
    closed = closure_checker(
        [
            (dt.date(2026, 12, 24), dt.date(2026, 12, 26)),
            (dt.date(2026, 7, 3), dt.date(2026, 7, 3)),
            (dt.date(2026, 12, 26), dt.date(2027, 1, 1)),  # overlaps the first
            (dt.date(2027, 1, 2), dt.date(2027, 1, 2)),  # adjacent
        ]
    )
    assert closed(dt.date(2026, 7, 3))
    assert not closed(dt.date(2026, 7, 2))
    assert not closed(dt.date(2026, 7, 4))
    assert not closed(dt.date(2026, 12, 23))
    for offset in range(10):
        assert closed(dt.date(2026, 12, 24) + dt.timedelta(days=offset))
    assert not closed(dt.date(2027, 1, 3))
    assert not closed(dt.date(2000, 1, 1))


def test_closure_checker_empty_and_inverted() -> None:
    assert not closure_checker([])(dt.date(2026, 1, 1))
    with pytest.raises(ValueError, match="before it starts"):
        closure_checker([(dt.date(2026, 1, 2), dt.date(2026, 1, 1))])


def test_valid_from_and_until() -> None:
    start, end = dt.date(2026, 1, 5), dt.date(2026, 2, 1)
    found = occurrences(mwth(), start, end, NY, valid_from=dt.date(2026, 1, 14))
    assert found[0].day == dt.date(2026, 1, 14)
    assert len(found) == 8
    found = occurrences(mwth(), start, end, NY, valid_until=dt.date(2026, 1, 14))
    assert found[-1].day == dt.date(2026, 1, 14)
    assert len(found) == 5
    found = occurrences(
        mwth(), start, end, NY, valid_from=dt.date(2026, 1, 12), valid_until=dt.date(2026, 1, 18)
    )
    assert [o.day for o in found] == [
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 14),
        dt.date(2026, 1, 15),
    ]
    # A window entirely outside the range, or an inverted window, yields nothing.
    assert occurrences(mwth(), start, end, NY, valid_from=dt.date(2026, 3, 1)) == []
    assert (
        occurrences(
            mwth(),
            start,
            end,
            NY,
            valid_from=dt.date(2026, 1, 20),
            valid_until=dt.date(2026, 1, 10),
        )
        == []
    )


def test_sorted_by_start_then_key() -> None:
    slots = [
        SlotSpec(key="b", weekday=MON, start=dt.time(13), end=dt.time(15)),
        SlotSpec(key="z", weekday=MON, start=NINE, end=NOON),
        SlotSpec(key="a", weekday=MON, start=NINE, end=dt.time(10)),
    ]
    found = occurrences(slots, dt.date(2026, 1, 5), dt.date(2026, 1, 5), NY)
    assert [o.key for o in found] == ["a", "z", "b"]


def test_incomparable_keys_fall_back_to_template_order() -> None:
    slots = [
        SlotSpec(key="x", weekday=MON, start=NINE, end=NOON),
        SlotSpec(key=7, weekday=MON, start=NINE, end=NOON),
        SlotSpec(key=None, weekday=MON, start=dt.time(8), end=NINE),
    ]
    found = occurrences(slots, dt.date(2026, 1, 5), dt.date(2026, 1, 5), NY)
    assert [o.key for o in found] == [None, "x", 7]


# --- daylight saving ------------------------------------------------------------------------


def test_us_spring_forward_week_keeps_local_nine() -> None:
    # DST starts Sunday 2026-03-08 in the US: EST (UTC−5) → EDT (UTC−4).
    found = occurrences(mwth(), dt.date(2026, 3, 2), dt.date(2026, 3, 15), NY)
    assert len(found) == 6
    for occ in found:
        start, end = local(occ, NY)
        assert (start.time(), end.time()) == (NINE, NOON)
        assert start.date() == occ.day
    before = [o for o in found if o.day < dt.date(2026, 3, 8)]
    after = [o for o in found if o.day > dt.date(2026, 3, 8)]
    assert {o.starts_at.time() for o in before} == {dt.time(14)}
    assert {o.starts_at.time() for o in after} == {dt.time(13)}
    assert all(minutes_between(o.starts_at, o.ends_at) == 180 for o in found)


def test_us_fall_back_week_keeps_local_nine() -> None:
    # DST ends Sunday 2026-11-01 in the US: EDT (UTC−4) → EST (UTC−5).
    found = occurrences(mwth(), dt.date(2026, 10, 26), dt.date(2026, 11, 8), NY)
    assert len(found) == 6
    for occ in found:
        assert tuple(t.time() for t in local(occ, NY)) == (NINE, NOON)
    assert found[0].starts_at == dt.datetime(2026, 10, 26, 13, tzinfo=UTC)
    assert found[-1].starts_at == dt.datetime(2026, 11, 5, 14, tzinfo=UTC)


def test_london_week() -> None:
    # Clocks go forward Sunday 2026-03-29: GMT (UTC+0) → BST (UTC+1).
    found = occurrences(mwth(), dt.date(2026, 3, 23), dt.date(2026, 4, 5), LONDON)
    assert len(found) == 6
    for occ in found:
        assert tuple(t.time() for t in local(occ, LONDON)) == (NINE, NOON)
    assert found[0].starts_at == dt.datetime(2026, 3, 23, 9, tzinfo=UTC)
    assert found[3].starts_at == dt.datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_evening_session() -> None:
    slots = [SlotSpec(key="pm", weekday=TUE, start=dt.time(18), end=dt.time(21))]
    found = occurrences(slots, dt.date(2026, 3, 3), dt.date(2026, 3, 10), NY)
    assert [o.day for o in found] == [dt.date(2026, 3, 3), dt.date(2026, 3, 10)]
    # 21:00 EST is 02:00Z the next UTC day; the program day stays the local Tuesday.
    assert found[0].starts_at == dt.datetime(2026, 3, 3, 23, tzinfo=UTC)
    assert found[0].ends_at == dt.datetime(2026, 3, 4, 2, tzinfo=UTC)
    assert found[1].starts_at == dt.datetime(2026, 3, 10, 22, tzinfo=UTC)
    assert found[1].ends_at == dt.datetime(2026, 3, 11, 1, tzinfo=UTC)
    for occ in found:
        assert tuple(t.time() for t in local(occ, NY)) == (dt.time(18), dt.time(21))


def test_nonexistent_time_moves_forward_by_the_gap() -> None:
    day = dt.date(2026, 3, 8)
    assert not wall_time_exists(day, dt.time(2, 30), NY)
    moved = local_to_utc(day, dt.time(2, 30), NY)
    assert moved == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert moved.astimezone(NY).time() == dt.time(3, 30)
    # The edges of the gap: 01:59 is EST, 03:00 is EDT.
    assert local_to_utc(day, dt.time(1, 59), NY) == dt.datetime(2026, 3, 8, 6, 59, tzinfo=UTC)
    assert local_to_utc(day, dt.time(3), NY) == dt.datetime(2026, 3, 8, 7, tzinfo=UTC)
    assert wall_time_exists(day, dt.time(3), NY)


def test_ambiguous_time_takes_the_first_occurrence() -> None:
    day = dt.date(2026, 11, 1)
    assert wall_time_exists(day, dt.time(1, 30), NY)
    first = local_to_utc(day, dt.time(1, 30), NY)
    assert first == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert local_to_utc(day, dt.time(1, 30, fold=1), NY) == first  # fold is ignored
    assert first.astimezone(NY).utcoffset() == dt.timedelta(hours=-4)


def test_local_to_utc_refuses_aware_time() -> None:
    with pytest.raises(ValueError, match="without a time zone"):
        local_to_utc(dt.date(2026, 1, 1), dt.time(9, tzinfo=UTC), NY)


def test_session_across_the_change_is_shorter_or_longer_in_real_time() -> None:
    slot = [SlotSpec(key="night", weekday=SUN, start=dt.time(1), end=dt.time(4))]
    spring = occurrences(slot, dt.date(2026, 3, 8), dt.date(2026, 3, 8), NY)[0]
    fall = occurrences(slot, dt.date(2026, 11, 1), dt.date(2026, 11, 1), NY)[0]
    assert minutes_between(spring.starts_at, spring.ends_at) == 120
    assert minutes_between(fall.starts_at, fall.ends_at) == 240
    # The same instants expressed in the local zone still give real elapsed time.
    assert minutes_between(spring.starts_at.astimezone(NY), spring.ends_at.astimezone(NY)) == 120
    assert minutes_between(fall.starts_at.astimezone(NY), fall.ends_at.astimezone(NY)) == 240


def test_start_pushed_past_end_by_the_gap_keeps_its_length() -> None:
    slot = [SlotSpec(key="odd", weekday=SUN, start=dt.time(2, 30), end=dt.time(3, 15))]
    occ = occurrences(slot, dt.date(2026, 3, 8), dt.date(2026, 3, 8), NY)[0]
    assert occ.starts_at == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert occ.ends_at > occ.starts_at
    assert minutes_between(occ.starts_at, occ.ends_at) == 45


def test_minutes_between() -> None:
    a = dt.datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert minutes_between(a, a) == 0
    assert minutes_between(a, a + dt.timedelta(minutes=90, seconds=59)) == 90
    with pytest.raises(ValueError, match="aware"):
        minutes_between(dt.datetime(2026, 1, 5, 9), a)


# --- properties -----------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "UTC",
    "America/Phoenix",
]


@st.composite
def slot_specs(draw: st.DrawFn, key: int) -> SlotSpec:
    start_minute = draw(st.integers(0, 24 * 60 - 2))
    end_minute = draw(st.integers(start_minute + 1, 24 * 60 - 1))
    return SlotSpec(
        key=key,
        weekday=draw(st.integers(0, 6)),
        start=dt.time(*divmod(start_minute, 60)),
        end=dt.time(*divmod(end_minute, 60)),
    )


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    start = draw(st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)))
    length = draw(st.integers(0, 120))
    end = start + dt.timedelta(days=length - 1)  # length 0 → end < start
    count = draw(st.integers(0, 6))
    slots = [draw(slot_specs(key)) for key in range(count)]
    span = [start + dt.timedelta(days=i) for i in range(max(length, 1))]
    closed_days = draw(st.sets(st.sampled_from(span), max_size=20))
    valid_from = draw(st.none() | st.sampled_from(span))
    valid_until = draw(st.none() | st.sampled_from(span))
    return {
        "slots": slots,
        "start": start,
        "end": end,
        "tz": ZoneInfo(draw(st.sampled_from(ZONES))),
        "closed_days": closed_days,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_occurrence_properties(s: dict) -> None:
    tz: ZoneInfo = s["tz"]
    slots: list[SlotSpec] = s["slots"]
    by_key = {slot.key: slot for slot in slots}
    closed_days: set[dt.date] = s["closed_days"]
    closed = closure_checker((d, d) for d in closed_days)

    def open_day(day: dt.date) -> bool:
        if day in closed_days:
            return False
        if s["valid_from"] is not None and day < s["valid_from"]:
            return False
        return not (s["valid_until"] is not None and day > s["valid_until"])

    found = occurrences(
        slots,
        s["start"],
        s["end"],
        tz,
        closed=closed,
        valid_from=s["valid_from"],
        valid_until=s["valid_until"],
    )

    expected = 0
    day = s["start"]
    while day <= s["end"]:
        if open_day(day):
            expected += sum(1 for slot in slots if slot.weekday == day.weekday())
        day += dt.timedelta(days=1)
    assert len(found) == expected

    assert found == sorted(found, key=lambda o: (o.starts_at, o.key))
    assert len({(o.key, o.day) for o in found}) == len(found)
    for occ in found:
        slot = by_key[occ.key]
        assert s["start"] <= occ.day <= s["end"]
        assert open_day(occ.day)
        assert occ.day.weekday() == slot.weekday
        assert occ.starts_at.utcoffset() == dt.timedelta(0)
        assert occ.ends_at > occ.starts_at
        start_local = occ.starts_at.astimezone(tz)
        if wall_time_exists(occ.day, slot.start, tz):
            assert start_local.time() == slot.start
            assert start_local.date() == occ.day
        else:
            assert start_local.replace(tzinfo=None) > dt.datetime.combine(occ.day, slot.start)
        if wall_time_exists(occ.day, slot.end, tz) and occ.ends_at == local_to_utc(
            occ.day, slot.end, tz
        ):
            assert occ.ends_at.astimezone(tz).time() == slot.end


@settings(max_examples=200, deadline=None)
@given(
    st.dates(dt.date(2020, 1, 1), dt.date(2035, 12, 31)),
    st.times(),
    st.sampled_from(ZONES),
)
def test_local_to_utc_round_trips_existing_times(day: dt.date, time: dt.time, zone: str) -> None:
    tz = ZoneInfo(zone)
    utc = local_to_utc(day, time, tz)
    assert utc.utcoffset() == dt.timedelta(0)
    back = utc.astimezone(tz)
    if wall_time_exists(day, time, tz):
        assert back.replace(tzinfo=None, fold=0) == dt.datetime.combine(day, time.replace(fold=0))
        assert back.fold == 0  # the first occurrence of an ambiguous time
    else:
        gap = back.replace(tzinfo=None) - dt.datetime.combine(day, time.replace(fold=0))
        assert dt.timedelta(0) < gap <= dt.timedelta(hours=2)
