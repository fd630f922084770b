"""Hours and engagement from the database, for many episodes at once in a fixed number
of queries (the chart, the caseload and the worker's alert job all use it). The rules
themselves are plain functions in `rules`."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q

from openiop.scheduling.models import Closure, Enrolment

from . import rules
from .models import Attendance

HISTORY_WEEKS = 8


@dataclass
class Engagement:
    this_week: int = 0  # minutes
    required_this_week: int = 0
    weeks: list[rules.WeekCheck] = field(default_factory=list)  # oldest first, this week last
    rate: Decimal | None = None
    absences_in_a_row: int = 0
    marks: list[rules.Mark] = field(default_factory=list)

    @property
    def this_week_hours(self) -> Decimal:
        return rules.hours(self.this_week)

    @property
    def required_hours(self) -> Decimal:
        return rules.hours(self.required_this_week)

    @property
    def below(self) -> bool:
        return rules.below_minimum(self.this_week, self.required_this_week)


def marks_for(
    episode_ids: Iterable[int], since: dt.date | None = None
) -> dict[int, list[rules.Mark]]:
    qs = Attendance.objects.filter(episode_id__in=list(episode_ids), voided=False).filter(
        session__voided=False
    )
    if since is not None:
        qs = qs.filter(session__date__gte=since)
    out: dict[int, list[rules.Mark]] = defaultdict(list)
    for episode_id, day, starts_at, status, minutes in qs.values_list(
        "episode_id", "session__date", "session__starts_at", "status", "minutes_attended"
    ).order_by("session__starts_at", "pk"):
        out[episode_id].append(rules.Mark(day, starts_at, status, minutes))
    return out


def _open_days(days: list[int], week: dt.date, closed: set[dt.date]) -> list[dt.date]:
    return [
        week + dt.timedelta(days=d)
        for d in sorted(days)
        if week + dt.timedelta(days=d) not in closed
    ]


def required_by_week(
    enrolments: list[Enrolment],
    weeks: list[dt.date],
    min_weekly_hours: Decimal,
    closed: set[dt.date],
) -> dict[dt.date, int]:
    """The week's minimum for one episode, prorated by the share of the track's weekdays
    it was enrolled for and the program was open (a closure day lowers the week's
    minimum; so does joining on a Thursday)."""
    out: dict[dt.date, int] = {}
    for week in weeks:
        total = 0
        for enrolment in enrolments:
            open_days = _open_days(enrolment.track.days, week, closed)
            if not open_days:
                continue
            enrolled = [d for d in open_days if enrolment.covers(d)]
            if not enrolled:
                continue
            total += rules.required_minutes(
                min_weekly_hours,
                week,
                enrolment.start_date,
                enrolment.end_date,
                len(enrolment.track.days),
                len(enrolled),
            )
        out[week] = total
    return out


def engagement_for(
    episodes: list[Any], today: dt.date, weeks: int = HISTORY_WEEKS, *, whole_history: bool = True
) -> dict[int, Engagement]:
    """Hours this week against the minimum, recent weeks, attendance rate and absences in
    a row for each episode. Three queries whatever the number of episodes or sessions.

    With `whole_history=False` only the weeks shown are read (the caseload's hours): the
    rate and absences in a row then cover those weeks only."""
    if not episodes:
        return {}
    ids = [e.pk for e in episodes]
    this_monday = rules.week_start(today)
    first_week = this_monday - dt.timedelta(weeks=weeks - 1)
    week_list = [first_week + dt.timedelta(weeks=i) for i in range(weeks)]
    marks = marks_for(ids, None if whole_history else first_week)
    enrolments: dict[int, list[Enrolment]] = defaultdict(list)
    for e in (
        Enrolment.objects.filter(episode_id__in=ids, start_date__lte=today)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first_week))
        .select_related("track")
    ):
        enrolments[e.episode_id].append(e)
    program_ids = {e.program_id for e in episodes}
    closed: dict[int, set[dt.date]] = defaultdict(set)
    for program_id, first, last in Closure.objects.filter(
        program_id__in=program_ids, retired=False, last_day__gte=first_week, first_day__lte=today
    ).values_list("program_id", "first_day", "last_day"):
        day = first
        while day <= last:
            closed[program_id].add(day)
            day += dt.timedelta(days=1)
    out: dict[int, Engagement] = {}
    for episode in episodes:
        own = marks.get(episode.pk, [])
        by_week = rules.minutes_by_week(own)
        required = required_by_week(
            enrolments.get(episode.pk, []),
            week_list,
            episode.program.min_weekly_hours,
            closed[episode.program_id],
        )
        checks = [
            rules.WeekCheck(
                week=w,
                minutes=by_week.get(w, 0),
                required_minutes=required[w],
                below=rules.below_minimum(by_week.get(w, 0), required[w]),
            )
            for w in week_list
        ]
        out[episode.pk] = Engagement(
            this_week=by_week.get(this_monday, 0),
            required_this_week=required[this_monday],
            weeks=checks,
            rate=rules.attendance_rate(own),
            absences_in_a_row=rules.consecutive_absences(own),
            marks=own,
        )
    return out


@dataclass(frozen=True)
class TrackRate:
    track_id: int
    track_name: str
    program_name: str
    marked: int
    attended: int
    minutes: int

    @property
    def rate(self) -> Decimal | None:
        if not self.marked:
            return None
        return (Decimal(self.attended) / Decimal(self.marked)).quantize(Decimal("0.001"))

    @property
    def rate_pct(self) -> int | None:
        rate = self.rate
        return None if rate is None else round(float(rate) * 100)


def rates_by_track(program_ids: Iterable[int], first: dt.date, last: dt.date) -> list[TrackRate]:
    """Attendance rate per track over [first, last] (group sessions; marks of every
    participant; excused absences count as not attended). One query."""
    from django.db.models import Count, Sum

    from .choices import ATTENDED

    rows = (
        Attendance.objects.filter(
            voided=False,
            session__voided=False,
            session__program_id__in=list(program_ids),
            session__track__isnull=False,
            session__date__gte=first,
            session__date__lte=last,
        )
        .values("session__track_id", "session__track__name", "session__program__name")
        .annotate(
            marked=Count("pk"),
            came=Count("pk", filter=Q(status__in=sorted(ATTENDED))),
            minutes=Sum("minutes_attended"),
        )
        .order_by("session__program__name", "session__track__name")
    )
    return [
        TrackRate(
            r["session__track_id"],
            r["session__track__name"],
            r["session__program__name"],
            r["marked"],
            r["came"],
            r["minutes"] or 0,
        )
        for r in rows
    ]
