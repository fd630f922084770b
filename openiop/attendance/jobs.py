"""The engagement-alert job: consecutive absences and weeks below the hour minimum."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from openiop.core.worker import Every, register_job
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.programs.models import Program

from . import rules
from .choices import AlertKind
from .hours import engagement_for
from .services import raise_alert


def raise_engagement_alerts(now: dt.datetime | None = None) -> int:
    """Raise the alerts due now for every program; returns how many were raised.

    * absences: the program's threshold of absences in a row (default 2) raises one alert
      per run of absences (keyed by the run's first absence);
    * below minimum: a finished week (Monday to Sunday) under the prorated hour minimum
      raises one alert per week.
    """
    now = now or timezone.now()
    raised = 0
    for program in Program.objects.filter(retired=False):
        today = program.today(now)
        episodes = list(
            Episode.objects.filter(program=program, status__in=IN_CARE, voided=False)
            .filter(participant__voided=False)
            .select_related("program", "participant")
        )
        stats = engagement_for(episodes, today, weeks=2)
        last_week = rules.week_start(today) - dt.timedelta(weeks=1)
        for episode in episodes:
            info = stats[episode.pk]
            run = info.absences_in_a_row
            if run >= program.absence_alert_after:
                first_absent = info.marks[-run]
                key = f"run-{first_absent.starts_at:%Y%m%dT%H%M}"
                message = f"{run} absences in a row (alert after {program.absence_alert_after})."
                if raise_alert(episode, AlertKind.ABSENCES, key, message, today):
                    raised += 1
            if program.below_minimum_alerts:
                week = next((w for w in info.weeks if w.week == last_week), None)
                if week is not None and week.below and episode.admission_date:
                    message = (
                        f"Week of {week.week:%b %-d}: {rules.hours(week.minutes)} h attended, "
                        f"minimum {rules.hours(week.required_minutes)} h."
                    )
                    if raise_alert(
                        episode, AlertKind.BELOW_MINIMUM, f"week-{week.week}", message, today
                    ):
                        raised += 1
    return raised


@register_job("attendance.engagement_alerts", Every(minutes=30))
def engagement_alerts_job(period: str) -> str:
    """Raise absence and below-minimum alerts for counsellors."""
    return f"{raise_engagement_alerts()} alerts raised"
