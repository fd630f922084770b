"""What a released document says: attendance by day, enrolment, screens, diagnoses.

Each reader takes only what the disclosure's information categories allow, so a letter
cannot carry more than the consent covers (the gate checked the categories).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openiop.attendance.models import Attendance
from openiop.attendance.rules import hours
from openiop.participants.models import Episode

from .choices import InfoCategory


@dataclass
class LetterContent:
    period_start: dt.date | None
    period_end: dt.date
    episodes: list[Episode] = field(default_factory=list)
    days: list[tuple[dt.date, Decimal]] = field(default_factory=list)  # date, hours attended
    total_hours: Decimal = Decimal("0")
    screens: list[tuple[dt.date, str]] = field(default_factory=list)
    diagnoses: list[Any] = field(default_factory=list)


def gather(
    participant: Any,
    information: tuple[str, ...],
    *,
    period_start: dt.date | None,
    period_end: dt.date,
    tz: Any,
) -> LetterContent:
    content = LetterContent(period_start=period_start, period_end=period_end)
    info = set(information)
    if InfoCategory.ENROLMENT in info:
        content.episodes = list(
            Episode.objects.filter(
                participant=participant, voided=False, admission_date__isnull=False
            ).order_by("admission_date")
        )
    if InfoCategory.ATTENDANCE in info:
        marks = Attendance.objects.filter(
            participant=participant,
            voided=False,
            session__voided=False,
            minutes_attended__gt=0,
            session__date__lte=period_end,
        )
        if period_start:
            marks = marks.filter(session__date__gte=period_start)
        minutes: dict[dt.date, int] = defaultdict(int)
        for day, attended in marks.values_list("session__date", "minutes_attended"):
            minutes[day] += attended
        content.days = [(day, hours(m)) for day, m in sorted(minutes.items())]
        content.total_hours = hours(sum(minutes.values()))
    if InfoCategory.SCREENING in info:
        from openiop.screening.choices import Interpretation
        from openiop.screening.models import Result

        by_day: dict[dt.date, set[str]] = defaultdict(set)
        results = Result.objects.filter(participant=participant, voided=False).select_related(
            "collection"
        )
        for result in results:
            day = result.collection.collected_at.astimezone(tz).date()
            if (period_start and day < period_start) or day > period_end:
                continue
            by_day[day].add(result.interpretation)
        for day, kinds in sorted(by_day.items()):
            if Interpretation.UNEXPECTED in kinds:
                summary = "Positive (not explained by a prescribed medication)"
            elif Interpretation.INCONCLUSIVE in kinds:
                summary = "Inconclusive"
            else:
                summary = "Negative or as expected"
            content.screens.append((day, summary))
    if InfoCategory.DIAGNOSIS in info:
        from openiop.intake.models import Diagnosis

        content.diagnoses = list(
            Diagnosis.objects.filter(participant=participant, voided=False).order_by(
                "-primary", "noted_on"
            )
        )
    return content
