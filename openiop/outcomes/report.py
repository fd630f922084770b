"""The dashboard as tables: each figure's main table and its breakdowns by track and by
referral source, the same tables the page shows and the CSVs hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from openiop.participants.choices import ReferralSource

from . import metrics as m
from . import queries
from .definitions import BY_KEY, Definition
from .km import KaplanMeier

Cell = Any


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: list[tuple[Cell, ...]]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}".rstrip("0").rstrip(".")


def _track_is(key: int | None) -> Callable[[int | None, str], bool]:
    return lambda track, _source: track == key


def _source_is(key: str) -> Callable[[int | None, str], bool]:
    return lambda _track, source: source == key


def _of(rate: m.Rate) -> str:
    """ "66.7% (2 of 3)": a share with what it is a share of."""
    return f"{rate.pct} ({rate.num} of {rate.den})"


def _rate_cells(rate: m.Rate) -> tuple[Cell, ...]:
    return (rate.pct, rate.num, rate.den)


@dataclass
class Report:
    """Every figure for one set of filters, computed from the loaded rows."""

    filters: queries.Filters
    episodes: list[m.EpisodeRow]
    attendance_rows: list[m.CountRow]
    screen_rows: list[m.CountRow]
    score_rows: list[m.ScoreRow]
    follow_up_rows: list[m.FollowUpRow]
    track_labels: dict[int | None, str] = field(default_factory=dict)
    # The per-track and per-source reports, made once per grouping: every figure's
    # breakdown reads them, and each one's own figures are cached on it (issue 13).
    _groups: dict[str, list[tuple[str, Report]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # --- the figures ----------------------------------------------------------------------

    @cached_property
    def census(self) -> list[tuple[dt.date, int]]:
        return m.census(self.episodes, self.filters.first, self.filters.last)

    @cached_property
    def admitted(self) -> list[m.EpisodeRow]:
        return m.admitted_in(self.episodes, self.filters.first, self.filters.last)

    @cached_property
    def discharged(self) -> list[m.EpisodeRow]:
        return m.discharged_in(self.episodes, self.filters.first, self.filters.last)

    @cached_property
    def reasons(self) -> list[m.ReasonCount]:
        return m.discharges_by_reason(self.discharged)

    @cached_property
    def retention(self) -> KaplanMeier:
        return m.retention(self.episodes, self.filters.first, self.filters.end)

    @cached_property
    def retention_points(self) -> list[tuple[int, float | None, int]]:
        km = self.retention
        return [(day, km.survival_at(day), km.at_risk_at(day)) for day in m.RETENTION_DAYS]

    @cached_property
    def stays(self) -> list[int]:
        return m.lengths_of_stay(self.discharged)

    @cached_property
    def median_stay(self) -> float | None:
        return m.median(self.stays)

    @cached_property
    def completion(self) -> m.Rate:
        return m.completion(self.discharged)

    @cached_property
    def attendance(self) -> m.Rate:
        return m.attendance(self.attendance_rows)

    @cached_property
    def screens(self) -> m.Rate:
        return m.screens(self.screen_rows)

    @cached_property
    def instruments(self) -> list[m.InstrumentChange]:
        return m.instrument_changes(self.score_rows)

    @cached_property
    def follow_ups(self) -> m.FollowUpOutcomes:
        return m.follow_up_outcomes(self.follow_up_rows)

    @cached_property
    def follow_ups_by_mark(self) -> list[tuple[int, m.FollowUpOutcomes]]:
        return m.follow_ups_by_mark(self.follow_up_rows)

    # --- groups -----------------------------------------------------------------------

    def subset(self, keep: Callable[[int | None, str], bool]) -> Report:
        """The same report over the rows of one track or one referral source."""
        return replace(
            self,
            episodes=[r for r in self.episodes if keep(r.track_id, r.source)],
            attendance_rows=[r for r in self.attendance_rows if keep(r.track_id, r.source)],
            screen_rows=[r for r in self.screen_rows if keep(r.track_id, r.source)],
            score_rows=[r for r in self.score_rows if keep(r.track_id, r.source)],
            follow_up_rows=[r for r in self.follow_up_rows if keep(r.track_id, r.source)],
            _groups={},
        )

    def groups(self, by: str) -> list[tuple[str, Report]]:
        if by not in self._groups:
            self._groups[by] = self._make_groups(by)
        return self._groups[by]

    def _make_groups(self, by: str) -> list[tuple[str, Report]]:
        if by == "track":
            keys: list[Any] = list(self.track_labels)
            if self.filters.track is not None:
                keys = [self.filters.track.pk]
            return [
                (self.track_labels[k], self.subset(_track_is(k)))
                for k in keys
                if k is not None or self._has_no_track()
            ]
        labels = dict(ReferralSource.choices)
        sources = [self.filters.source] if self.filters.source else list(labels)
        return [(labels[s], self.subset(_source_is(s))) for s in sources]

    def _has_no_track(self) -> bool:
        return any(r.track_id is None for r in self.episodes)

    # --- tables (the page and the CSVs) --------------------------------------------------

    def table(self, key: str) -> Table:
        return getattr(self, f"_table_{key}")()

    def headline(self, key: str) -> Table:
        return getattr(self, f"_headline_{key}")()

    def breakdown(self, key: str, by: str) -> Table:
        head = self.headline(key)
        column = "Track" if by == "track" else "Referral source"
        rows = [(label, *sub.headline(key).rows[0]) for label, sub in self.groups(by)]
        return Table((column, *head.header), rows)

    def _table_census(self) -> Table:
        return Table(("Monday", "In care"), [(d.isoformat(), n) for d, n in self.census])

    def _headline_census(self) -> Table:
        points = self.census
        last_day, last_n = points[-1]
        average = m.mean([n for _d, n in points])
        return Table(
            (f"In care on {last_day.isoformat()}", "Mean weekly census"),
            [(last_n, _num(average))],
        )

    def _table_admissions(self) -> Table:
        rows: list[tuple[Cell, ...]] = [("Admissions", "", len(self.admitted))]
        rows += [
            (f"Discharged: {r.label}", "" if r.teds is None else r.teds, r.n) for r in self.reasons
        ]
        rows.append(("Discharges, all reasons", "", len(self.discharged)))
        return Table(("Count", "TEDS REASON code", "n"), rows)

    def _headline_admissions(self) -> Table:
        return Table(("Admissions", "Discharges"), [(len(self.admitted), len(self.discharged))])

    def _table_retention(self) -> Table:
        return Table(
            ("Day", "At risk", "Discharged (not completed)", "Censored", "Still in program"),
            [
                (s.time, s.at_risk, s.events, s.censored, f"{s.survival:.4f}")
                for s in self.retention.steps
            ],
        )

    def _headline_retention(self) -> Table:
        km = self.retention
        points = {day: value for day, value, _n in self.retention_points}
        return Table(
            ("Admitted (n)", "At 30 days", "At 60 days", "At 90 days", "Median days"),
            [
                (
                    km.n,
                    pct(points[30]),
                    pct(points[60]),
                    pct(points[90]),
                    "not reached" if km.median is None else km.median,
                )
            ],
        )

    def _table_length_of_stay(self) -> Table:
        return Table(("Days from admission to discharge",), [(d,) for d in self.stays])

    def _headline_length_of_stay(self) -> Table:
        return Table(("Median days", "Discharges (n)"), [(_num(self.median_stay), len(self.stays))])

    def _table_completion(self) -> Table:
        return self._headline_completion()

    def _headline_completion(self) -> Table:
        return Table(
            ("Completion rate", "Completed", "Discharges (n)"), [_rate_cells(self.completion)]
        )

    def _table_attendance(self) -> Table:
        return self._headline_attendance()

    def _headline_attendance(self) -> Table:
        return Table(
            ("Attendance rate", "Attended", "Attended + missed (n)"),
            [_rate_cells(self.attendance)],
        )

    def _table_screens(self) -> Table:
        return self._headline_screens()

    def _headline_screens(self) -> Table:
        return Table(
            ("Negative-screen rate", "Negative", "Resulted specimens (n)"),
            [_rate_cells(self.screens)],
        )

    def _table_instruments(self) -> Table:
        return Table(
            ("Instrument", "Episodes (n)", "Mean change", "Reliable improvement"),
            [(i.label, i.n, _num(i.mean_change, 2), _of(i.improvement)) for i in self.instruments],
        )

    def _headline_instruments(self) -> Table:
        items = self.instruments
        improved = m.Rate(sum(i.improved for i in items), sum(i.with_rci for i in items))
        return Table(
            ("Score pairs (n)", "Reliable improvement"),
            [(sum(i.n for i in items), _of(improved))],
        )

    def _table_follow_ups(self) -> Table:
        rows = [(f"{mark} days", *self._follow_up_cells(o)) for mark, o in self.follow_ups_by_mark]
        rows.append(("All marks", *self._follow_up_cells(self.follow_ups)))
        return Table(("Mark", *FOLLOW_UP_HEADER), rows)

    def _headline_follow_ups(self) -> Table:
        return Table(FOLLOW_UP_HEADER, [self._follow_up_cells(self.follow_ups)])

    @staticmethod
    def _follow_up_cells(o: m.FollowUpOutcomes) -> tuple[Cell, ...]:
        return (
            str(o.reach),
            str(o.no_use),
            str(o.working),
            str(o.housed),
            str(o.back_in_treatment),
            f"{_num(o.quality_of_life)} (n={o.quality_n})",
        )


FOLLOW_UP_HEADER = (
    "Reach rate",
    "No use since discharge",
    "Working or in school",
    "Stably housed",
    "Back in treatment",
    "Mean quality of life",
)

FIGURES: tuple[str, ...] = tuple(BY_KEY)


def definition(key: str) -> Definition:
    return BY_KEY[key]


def load(filters: queries.Filters, tracks: list[Any]) -> Report:
    """The report for `filters`; `tracks` are the program's tracks (already loaded for the
    filter form), for the labels of the breakdown by track."""
    labels: dict[int | None, str] = {t.pk: t.name for t in tracks}
    labels[None] = "No track"
    return Report(
        filters=filters,
        episodes=queries.episode_rows(filters),
        attendance_rows=queries.attendance_rows(filters),
        screen_rows=queries.screen_rows(filters),
        score_rows=queries.score_rows(filters),
        follow_up_rows=queries.follow_up_rows(filters),
        track_labels=labels,
    )
