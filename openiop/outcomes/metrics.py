"""The dashboard's figures as pure functions over plain rows (see `queries` for loading
them and `definitions` for what each counts). No database access here."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

from openiop.alumni.choices import (
    EMPLOYED_OR_SCHOOL,
    FOLLOW_UP_DAYS,
    STABLE_HOUSING,
    FollowUpStatus,
    UseSinceDischarge,
)
from openiop.discharge.choices import TEDS_REASON, DischargeReason

from .km import KaplanMeier, kaplan_meier

NOT_RECORDED = "not_recorded"
RETENTION_DAYS = (30, 60, 90)

R = TypeVar("R")


# --- rows ---------------------------------------------------------------------------------


class EpisodeRow(NamedTuple):
    id: int
    admission: dt.date
    discharge: dt.date | None
    track_id: int | None
    source: str
    # The discharge reason; None for an episode discharged without a recorded reason.
    reason: str | None


class CountRow(NamedTuple):
    """A count from a GROUP BY: `kind` is "attended"/"missed" or "negative"/"positive"."""

    track_id: int | None
    source: str
    kind: str
    n: int


class ScoreRow(NamedTuple):
    episode_id: int
    track_id: int | None
    source: str
    instrument: str
    day: dt.date
    pk: int
    total: int


class FollowUpRow(NamedTuple):
    track_id: int | None
    source: str
    day_mark: int
    status: str
    use: str
    occupation: str
    housing: str
    readmitted: bool | None
    quality_of_life: int | None


# --- small numbers ------------------------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    num: int
    den: int

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None

    @property
    def pct(self) -> str:
        """ "42.9%" or "—" with no denominator."""
        value = self.value
        return "—" if value is None else f"{value * 100:.1f}%"

    def __str__(self) -> str:
        return f"{self.pct} (n={self.den})"


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    """The Mondays from `first` to `last` (both included); `first` alone if none."""
    day = first + dt.timedelta(days=(7 - first.weekday()) % 7)
    days = []
    while day <= last:
        days.append(day)
        day += dt.timedelta(days=7)
    return days or [first]


# --- figures ------------------------------------------------------------------------------


def in_care_on(episodes: Iterable[EpisodeRow], day: dt.date) -> int:
    """Admitted on or before `day` and not discharged before it."""
    return sum(
        1 for e in episodes if e.admission <= day and (e.discharge is None or e.discharge >= day)
    )


def census(
    episodes: Sequence[EpisodeRow], first: dt.date, last: dt.date
) -> list[tuple[dt.date, int]]:
    return [(day, in_care_on(episodes, day)) for day in mondays(first, last)]


def admitted_in(episodes: Iterable[EpisodeRow], first: dt.date, last: dt.date) -> list[EpisodeRow]:
    return [e for e in episodes if first <= e.admission <= last]


def discharged_in(
    episodes: Iterable[EpisodeRow], first: dt.date, last: dt.date
) -> list[EpisodeRow]:
    return [e for e in episodes if e.discharge is not None and first <= e.discharge <= last]


def reason_of(episode: EpisodeRow) -> str:
    return episode.reason or NOT_RECORDED


REASON_LABELS: dict[str, str] = {**dict(DischargeReason.choices), NOT_RECORDED: "Not recorded"}
REASON_ORDER: tuple[str, ...] = (*DischargeReason.values, NOT_RECORDED)


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    label: str
    teds: int | None
    n: int


def discharges_by_reason(discharged: Iterable[EpisodeRow]) -> list[ReasonCount]:
    """Every reason, in the order of the choices, with its TEDS REASON code (none for
    "not recorded") and how many; reasons with none are listed with 0."""
    counts: dict[str, int] = defaultdict(int)
    for e in discharged:
        counts[reason_of(e)] += 1
    return [
        ReasonCount(reason, REASON_LABELS[reason], TEDS_REASON.get(reason), counts[reason])
        for reason in REASON_ORDER
    ]


def retention(episodes: Iterable[EpisodeRow], first: dt.date, end: dt.date) -> KaplanMeier:
    """Kaplan–Meier over days in program for the episodes admitted from `first` to
    `end` (the end of the range, or today if earlier). Event: a discharge by `end` for
    any reason but completion (not recorded included); a completed discharge is censored
    at its date, people still in care at `end`."""
    durations: list[int] = []
    events: list[bool] = []
    for e in episodes:
        if not first <= e.admission <= end:
            continue
        if e.discharge is not None and e.discharge <= end:
            durations.append(max((e.discharge - e.admission).days, 0))
            events.append(e.reason != DischargeReason.COMPLETED)
        else:
            durations.append(max((end - e.admission).days, 0))
            events.append(False)
    return kaplan_meier(durations, events)


def lengths_of_stay(discharged: Iterable[EpisodeRow]) -> list[int]:
    return sorted(
        max((e.discharge - e.admission).days, 0) for e in discharged if e.discharge is not None
    )


def completion(discharged: Sequence[EpisodeRow]) -> Rate:
    done = sum(1 for e in discharged if e.reason == DischargeReason.COMPLETED)
    return Rate(done, len(discharged))


def count_rate(rows: Iterable[CountRow], yes: str, no: str) -> Rate:
    """yes ÷ (yes + no) over grouped counts: attended ÷ (attended + missed), negative ÷
    (negative + positive)."""
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.kind] += row.n
    return Rate(totals[yes], totals[yes] + totals[no])


def attendance(rows: Iterable[CountRow]) -> Rate:
    return count_rate(rows, "attended", "missed")


def screens(rows: Iterable[CountRow]) -> Rate:
    return count_rate(rows, "negative", "positive")


@dataclass
class InstrumentChange:
    code: str
    label: str
    higher_is_worse: bool
    changes: list[int] = field(default_factory=list)
    improved: int = 0
    with_rci: int = 0

    @property
    def n(self) -> int:
        return len(self.changes)

    @property
    def mean_change(self) -> float | None:
        return mean(self.changes)

    @property
    def improvement(self) -> Rate:
        return Rate(self.improved, self.with_rci)


def instrument_changes(scores: Iterable[ScoreRow]) -> list[InstrumentChange]:
    """First and last score (by day, then entry) of each episode and instrument with two
    scores or more: the change, and whether it is a reliable improvement."""
    from openiop.instruments import definitions as instruments
    from openiop.instruments.rci import reliable_change

    series: dict[tuple[str, int], list[ScoreRow]] = defaultdict(list)
    for row in scores:
        series[(row.instrument, row.episode_id)].append(row)
    by_code: dict[str, InstrumentChange] = {}
    for (code, _episode), rows in sorted(series.items()):
        if len(rows) < 2:
            continue
        rows.sort(key=lambda r: (r.day, r.pk))
        first, last = rows[0].total, rows[-1].total
        item = by_code.get(code)
        if item is None:
            try:
                known = instruments.get(code)
                item = InstrumentChange(code, known.short_name, known.higher_is_worse)
            except instruments.UnknownInstrument:
                item = InstrumentChange(code, code, True)
            by_code[code] = item
        item.changes.append(last - first)
        try:
            change = reliable_change(code, first, last)
        except ValueError:  # an unknown instrument or a score outside its range
            change = None
        if change is not None:
            item.with_rci += 1
            item.improved += change.category == "improved"
    return sorted(by_code.values(), key=lambda i: i.label)


@dataclass(frozen=True)
class FollowUpOutcomes:
    reach: Rate
    no_use: Rate
    working: Rate
    housed: Rate
    back_in_treatment: Rate
    quality_of_life: float | None
    quality_n: int


def follow_up_outcomes(rows: Sequence[FollowUpRow]) -> FollowUpOutcomes:
    reached = [r for r in rows if r.status == FollowUpStatus.REACHED]
    not_reached = sum(1 for r in rows if r.status == FollowUpStatus.NOT_REACHED)
    use = [r.use for r in reached if r.use and r.use != UseSinceDischarge.DECLINED]
    work = [r.occupation for r in reached if r.occupation and r.occupation != "declined"]
    home = [r.housing for r in reached if r.housing and r.housing != "declined"]
    back = [r.readmitted for r in reached if r.readmitted is not None]
    quality = [r.quality_of_life for r in reached if r.quality_of_life is not None]
    return FollowUpOutcomes(
        reach=Rate(len(reached), len(reached) + not_reached),
        no_use=Rate(sum(1 for u in use if u == UseSinceDischarge.NONE), len(use)),
        working=Rate(sum(1 for o in work if o in EMPLOYED_OR_SCHOOL), len(work)),
        housed=Rate(sum(1 for h in home if h in STABLE_HOUSING), len(home)),
        back_in_treatment=Rate(sum(1 for b in back if b), len(back)),
        quality_of_life=mean(quality),
        quality_n=len(quality),
    )


def follow_ups_by_mark(rows: Sequence[FollowUpRow]) -> list[tuple[int, FollowUpOutcomes]]:
    marks = sorted({*FOLLOW_UP_DAYS, *(r.day_mark for r in rows)})
    return [(mark, follow_up_outcomes([r for r in rows if r.day_mark == mark])) for mark in marks]


# --- breakdowns ---------------------------------------------------------------------------


class Grouped(NamedTuple):
    key: Any
    label: str
    rows: list[Any]


def group_by(
    rows: Iterable[R], key: Callable[[R], Any], labels: dict[Any, str], order: Sequence[Any]
) -> list[Grouped]:
    """Rows grouped by `key`, one group per entry of `order` (empty ones too) and then any
    other key met, labelled by `labels`."""
    groups: dict[Any, list[Any]] = {k: [] for k in order}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return [Grouped(k, labels.get(k, str(k)), v) for k, v in groups.items()]
