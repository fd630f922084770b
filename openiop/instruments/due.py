"""Which routine instruments are due for whom (measurement-based care, issue 4 point 6).

For every episode in care (admitted or active) and every instrument the program gives
routinely: never given in this episode → due on the admission date (occasion: admission);
otherwise due `interval_days` after the last time it was given. Overdue once more than
`GRACE_DAYS` past due. Three queries whatever the number of episodes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Max

from . import catalogue
from .definitions import Instrument
from .models import InstrumentResponse, Occasion

# A measure given a few days late is still useful; after that it is overdue.
GRACE_DAYS = 3
# "Due soon" on the due list: the next few days, so a counsellor can plan a session.
SOON_DAYS = 3


@dataclass(frozen=True)
class Due:
    episode: Any
    instrument: Instrument
    last_on: dt.date | None
    due_on: dt.date
    today: dt.date

    @property
    def occasion(self) -> str:
        return Occasion.ADMISSION if self.last_on is None else Occasion.SCHEDULED

    @property
    def days_overdue(self) -> int:
        return max((self.today - self.due_on).days, 0)

    @property
    def state(self) -> str:
        if self.due_on > self.today:
            return "soon"
        return "overdue" if self.days_overdue > GRACE_DAYS else "due"


def due_for(episodes: Iterable[Any], *, soon_days: int = SOON_DAYS) -> list[Due]:
    """Due and soon-due routine instruments of `episodes` (with `program` selected)."""
    episodes = list(episodes)
    if not episodes:
        return []
    settings = catalogue.program_settings(sorted({e.program_id for e in episodes}))
    latest: dict[tuple[int, str], dt.date] = {
        (row["episode_id"], row["instrument"]): row["last"]
        for row in InstrumentResponse.objects.filter(
            episode_id__in=[e.pk for e in episodes], voided=False
        )
        .values("episode_id", "instrument")
        .annotate(last=Max("administered_on"))
    }
    today_of: dict[int, dt.date] = {}
    out: list[Due] = []
    for ep in episodes:
        if ep.admission_date is None:
            continue
        if ep.program_id not in today_of:
            today_of[ep.program_id] = ep.program.today()
        today = today_of[ep.program_id]
        for code, values in settings[ep.program_id].items():
            if not (values["enabled"] and values["routine"]):
                continue
            last = latest.get((ep.pk, code))
            if last is None:
                due_on = ep.admission_date
            else:
                due_on = last + dt.timedelta(days=values["interval_days"])
            if due_on <= today + dt.timedelta(days=soon_days):
                out.append(Due(ep, catalogue.get(code), last, due_on, today))
    out.sort(key=lambda d: (d.due_on, d.episode.participant.legal_last_name, d.instrument.code))
    return out


def discharge_measures_missing(episode: Any) -> list[Instrument]:
    """Routine instruments not yet given at discharge in this episode."""
    settings = catalogue.program_settings([episode.program_id])[episode.program_id]
    given = set(
        InstrumentResponse.objects.filter(
            episode=episode, occasion=Occasion.DISCHARGE, voided=False
        ).values_list("instrument", flat=True)
    )
    return [
        catalogue.get(code)
        for code, v in settings.items()
        if v["enabled"] and v["routine"] and code not in given
    ]
