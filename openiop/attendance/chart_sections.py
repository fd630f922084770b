"""The chart's Attendance section (hours against the minimum, rate, absences, recent
marks, check-in trends) and Curriculum section (topics attended, remaining, missed with
their make-up)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.html import format_html

from openiop.core.access import StaffRequest
from openiop.core.charts import line_chart_svg
from openiop.core.roles import Perm
from openiop.participants.board_panels import CaseloadColumn, register_caseload_column
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Episode, Participant
from openiop.scheduling.choices import SessionStatus
from openiop.scheduling.models import Session, TopicAssignment
from openiop.scheduling.services import curriculum_for

from . import rules
from .choices import ATTENDED, AlertKind
from .hours import engagement_for
from .models import Attendance, CheckIn, EngagementAlert

RECENT_MARKS = 12
CHECK_IN_POINTS = 60


def attendance_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or episode.admission_date is None:
        return None
    today = episode.program.today()
    info = engagement_for([episode], today)[episode.pk]
    recent = list(
        Attendance.objects.filter(episode=episode, voided=False)
        .select_related("session", "session__program", "session__topic")
        .order_by("-session__starts_at")[:RECENT_MARKS]
    )
    minimum = float(episode.program.min_weekly_hours)
    # Weeks before admission are not zero hours: they are not drawn.
    first_week = rules.week_start(episode.admission_date)
    weeks = [w for w in info.weeks if w.week >= first_week]
    hours_chart = line_chart_svg(
        [(w.week, float(rules.hours(w.minutes))) for w in weeks],
        y_min=0,
        y_max=max(minimum * 1.5, *(float(rules.hours(w.minutes)) for w in weeks), 1.0),
        title="Hours attended per week",
        y_label="hours",
        thresholds=[(minimum, f"minimum {episode.program.min_weekly_hours} h")],
        height=180,
    )
    # Check-ins (use, craving, mood) are clinical: billing sees hours, not how someone is.
    clinical = request.user.has_perm_code(Perm.CLINICAL_VIEW)
    check_ins = (
        list(
            CheckIn.objects.filter(episode=episode, voided=False).order_by("-day", "-at")[
                :CHECK_IN_POINTS
            ]
        )
        if clinical
        else []
    )
    check_ins.reverse()
    craving_chart = mood_chart = None
    if check_ins:
        threshold = episode.program.craving_alert_at
        craving_chart = line_chart_svg(
            [(c.day, float(c.craving)) for c in check_ins],
            y_min=0,
            y_max=10,
            title="Craving at check-in (0–10)",
            thresholds=[(float(threshold), f"alert at {threshold}")],
            height=170,
        )
        mood_chart = line_chart_svg(
            [(c.day, float(c.mood)) for c in check_ins],
            y_min=1,
            y_max=10,
            title="Mood at check-in (1–10)",
            height=170,
        )
    alerts_qs = EngagementAlert.objects.filter(episode=episode, resolved_at__isnull=True)
    if not clinical:
        alerts_qs = alerts_qs.filter(kind__in=[AlertKind.ABSENCES, AlertKind.BELOW_MINIMUM])
    alerts = list(alerts_qs.order_by("-raised_at"))
    return {
        "info": info,
        "recent": recent,
        "hours_chart": hours_chart,
        "craving_chart": craving_chart,
        "mood_chart": mood_chart,
        "latest_check_ins": list(reversed(check_ins[-5:])),
        "engagement_alerts": alerts,
        "episode": episode,
        "can_take": request.user.has_perm_code(Perm.ATTENDANCE_TAKE),
        "rate_pct": None if info.rate is None else round(float(info.rate) * 100),
        "clinical": clinical,
    }


def curriculum_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    episode = participant.current_episode
    if episode is None or episode.track_id is None or episode.admission_date is None:
        return None
    track = episode.track
    if track is None:
        return None
    topics = curriculum_for(track, episode.program)
    if not topics:
        return None
    today = episode.program.today()
    marks = list(
        Attendance.objects.filter(
            episode=episode, voided=False, session__topic__isnull=False
        ).values_list("session__topic_id", "session__date", "status")
    )
    attended: dict[int, Any] = {}
    missed: dict[int, Any] = {}
    for topic_id, day, status in sorted(marks, key=lambda m: m[1]):
        if status in ATTENDED:
            attended.setdefault(topic_id, day)
        else:
            missed[topic_id] = day
    assignments = {
        a.topic_id: a for a in TopicAssignment.objects.filter(episode=episode, voided=False)
    }
    missing_ids = [tid for tid in missed if tid not in attended]
    next_runs: dict[int, Session] = {}
    for s in (
        Session.objects.filter(
            program_id=episode.program_id,
            topic_id__in=missing_ids,
            date__gte=today,
            status=SessionStatus.SCHEDULED,
            voided=False,
        )
        .select_related("track", "program")
        .order_by("starts_at")
    ):
        next_runs.setdefault(s.topic_id or 0, s)
    rows = []
    for topic in topics:
        assignment = assignments.get(topic.pk)
        if topic.pk in attended:
            state = "done"
        elif assignment and assignment.completed_on:
            state = "done_individually"
        elif topic.pk in missed:
            state = "missed"
        else:
            state = "remaining"
        rows.append(
            {
                "topic": topic,
                "state": state,
                "attended_on": attended.get(topic.pk),
                "missed_on": missed.get(topic.pk),
                "assignment": assignment,
                "next_run": next_runs.get(topic.pk),
                "same_track": (
                    next_runs[topic.pk].track_id == track.pk if topic.pk in next_runs else False
                ),
            }
        )
    done = sum(1 for r in rows if r["state"] in ("done", "done_individually"))
    return {
        "rows": rows,
        "done": done,
        "total": len(rows),
        "track": track,
        "can_take": request.user.has_perm_code(Perm.ATTENDANCE_TAKE),
        "can_manage": request.user.has_perm_code(Perm.SCHEDULE_MANAGE),
    }


register_section(
    Section(
        "attendance",
        "Attendance and check-ins",
        Perm.ATTENDANCE_VIEW,
        "attendance/sections/attendance.html",
        attendance_context,
        order=22,
    )
)
register_section(
    Section(
        "curriculum",
        "Curriculum",
        Perm.CLINICAL_VIEW,
        "attendance/sections/curriculum.html",
        curriculum_context,
        order=27,
    )
)


def hours_column(episodes: list[Episode]) -> dict[int, Any]:
    """Hours so far this week against the minimum (neutral: the week is not over), and
    last week's hours in red when that finished week fell below its minimum."""
    in_care = [e for e in episodes if e.admission_date is not None]
    if not in_care:
        return {}
    today = in_care[0].program.today()
    stats = engagement_for(in_care, today, weeks=2, whole_history=False)
    out = {}
    for episode in in_care:
        info = stats[episode.pk]
        last = info.weeks[0]
        warning = ""
        admitted = episode.admission_date
        if last.below and admitted is not None and admitted <= last.week + dt.timedelta(days=6):
            warning = format_html(
                '<br><span class="hours-below" title="Last week, below its minimum">'
                "last week {} / {} h</span>",
                rules.hours(last.minutes),
                rules.hours(last.required_minutes),
            )
        out[episode.pk] = {
            "numeric": True,
            "html": format_html(
                '<span title="Hours so far this week / minimum">{} / {} h</span>{}',
                info.this_week_hours,
                info.required_hours,
                warning,
            ),
        }
    return out


register_caseload_column(
    CaseloadColumn("hours", "Hours this week", Perm.ATTENDANCE_VIEW, hours_column, numeric=True)
)
