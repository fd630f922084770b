"""Loading the dashboard's rows: a fixed number of queries, whatever the number of
episodes (acceptance 5 of issue 10). Counts are aggregated in the database (attendance,
screens); the rest comes as narrow `values_list` rows, one query per kind:

    1. episodes in care at some point of the range (with the discharge reason)
    2. attendance, grouped by track, referral source and attended/missed
    3. resulted specimens, grouped by track, referral source and negative/positive
    4. instrument scores of the episodes discharged in the range
    5. closed follow-ups due in the range
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from openiop.alumni.choices import FollowUpStatus
from openiop.alumni.models import FollowUp
from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.instruments.models import InstrumentResponse
from openiop.participants.models import Episode
from openiop.programs.models import Program, Track
from openiop.scheduling.choices import SessionStatus
from openiop.screening.choices import Interpretation, OrderStatus
from openiop.screening.models import Collection, Result
from openiop.screening.queries import decisive_unexpected

from .metrics import CountRow, EpisodeRow, FollowUpRow, ScoreRow


@dataclass(frozen=True)
class Filters:
    program: Program
    first: dt.date
    last: dt.date
    today: dt.date
    track: Track | None = None
    source: str = ""

    @property
    def end(self) -> dt.date:
        """Where people still in care are censored: the end of the range, or today."""
        return min(self.last, self.today)

    def as_query(self) -> dict[str, Any]:
        return {
            "program": self.program.pk,
            "date_from": self.first.isoformat(),
            "date_to": self.last.isoformat(),
            "track": self.track.pk if self.track else "",
            "source": self.source,
        }


def _scoped(qs: QuerySet[Any], f: Filters, episode: str) -> QuerySet[Any]:
    """Rows of the program's episodes that match the track and referral source."""
    qs = qs.filter(**{f"{episode}program": f.program, f"{episode}voided": False})
    if f.track is not None:
        qs = qs.filter(**{f"{episode}track": f.track})
    if f.source:
        qs = qs.filter(**{f"{episode}referral_source": f.source})
    return qs


def episode_rows(f: Filters) -> list[EpisodeRow]:
    qs = _scoped(Episode.objects.all(), f, "").filter(
        Q(discharge_date__isnull=True) | Q(discharge_date__gte=f.first),
        admission_date__isnull=False,
        admission_date__lte=f.last,
    )
    rows = qs.order_by().values_list(
        "pk",
        "admission_date",
        "discharge_date",
        "track_id",
        "referral_source",
        "discharge__reason",
        "discharge__voided",
    )
    return [
        EpisodeRow(pk, admitted, discharged, track, source, None if voided else reason)
        for pk, admitted, discharged, track, source, reason, voided in rows
    ]


def attendance_rows(f: Filters) -> list[CountRow]:
    qs = _scoped(Attendance.objects.all(), f, "episode__").filter(
        voided=False,
        session__voided=False,
        session__date__gte=f.first,
        session__date__lte=f.last,
        status__in=[*ATTENDED, AttendanceStatus.ABSENT_UNEXCUSED],
    )
    grouped = (
        qs.exclude(session__status=SessionStatus.CANCELLED)
        .values("episode__track_id", "episode__referral_source")
        .annotate(
            attended=Count("pk", filter=Q(status__in=list(ATTENDED))),
            missed=Count("pk", filter=Q(status=AttendanceStatus.ABSENT_UNEXCUSED)),
        )
        .order_by()
    )
    out: list[CountRow] = []
    for row in grouped:
        track, source = row["episode__track_id"], row["episode__referral_source"]
        out.append(CountRow(track, source, "attended", row["attended"]))
        out.append(CountRow(track, source, "missed", row["missed"]))
    return out


def screen_rows(f: Filters) -> list[CountRow]:
    resulted = Result.objects.filter(collection=OuterRef("pk"), voided=False).exclude(
        interpretation=Interpretation.INCONCLUSIVE
    )
    qs = _scoped(Collection.objects.all(), f, "order__episode__").filter(
        Exists(resulted),
        voided=False,
        order__voided=False,
        order__status=OrderStatus.COLLECTED,
        order__program=f.program,
        order__day__gte=f.first,
        order__day__lte=f.last,
    )
    grouped = (
        qs.annotate(unexpected=Exists(decisive_unexpected().filter(collection=OuterRef("pk"))))
        .values("order__episode__track_id", "order__episode__referral_source", "unexpected")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        CountRow(
            row["order__episode__track_id"],
            row["order__episode__referral_source"],
            "positive" if row["unexpected"] else "negative",
            row["n"],
        )
        for row in grouped
    ]


def score_rows(f: Filters) -> list[ScoreRow]:
    qs = _scoped(InstrumentResponse.objects.all(), f, "episode__").filter(
        voided=False,
        total__isnull=False,
        episode__discharge_date__gte=f.first,
        episode__discharge_date__lte=f.last,
    )
    rows = qs.order_by().values_list(
        "episode_id",
        "episode__track_id",
        "episode__referral_source",
        "instrument",
        "administered_on",
        "pk",
        "total",
    )
    return [ScoreRow(*row) for row in rows]


def follow_up_rows(f: Filters) -> list[FollowUpRow]:
    qs = _scoped(FollowUp.objects.all(), f, "episode__").filter(
        voided=False,
        program=f.program,
        due_date__gte=f.first,
        due_date__lte=f.last,
        status__in=[FollowUpStatus.REACHED, FollowUpStatus.NOT_REACHED],
    )
    rows = qs.order_by().values_list(
        "episode__track_id",
        "episode__referral_source",
        "day_mark",
        "status",
        "use_since_discharge",
        "occupation",
        "housing",
        "readmitted",
        "quality_of_life",
    )
    return [FollowUpRow(*row) for row in rows]
