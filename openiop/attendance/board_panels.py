"""Today-board panels: my sessions today (with the roster a click away) and engagement
alerts for my caseload."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm, Role
from openiop.participants.access import on_care_team, visible_participants
from openiop.scheduling.enrolment import (
    bookings_for_sessions,
    enrolments_for_tracks,
    expected_count,
)
from openiop.scheduling.models import Session

from .models import EngagementAlert

ALERT_LIMIT = 50


def sessions_today_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    from openiop.programs.models import Program

    programs = list(Program.objects.filter(pk__in=user.program_ids, retired=False))
    if not programs:
        return None
    days = {p.pk: p.today() for p in programs}
    cond = Q()
    for program_id, day in days.items():
        cond |= Q(program_id=program_id, date=day)
    qs = (
        Session.objects.filter(cond, voided=False)
        .select_related("program", "track", "room", "facilitator", "topic")
        .annotate(marked=Count("attendance", filter=Q(attendance__voided=False)))
        .order_by("starts_at", "pk")
    )
    oversees = user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR}
    mine_only = not oversees
    if mine_only:
        qs = qs.filter(facilitator=user)
    sessions = list(qs[:60])
    enrolments = enrolments_for_tracks(
        {s.track_id for s in sessions if s.track_id}, min(days.values()), max(days.values())
    )
    bookings = bookings_for_sessions(s.pk for s in sessions)
    rows = [{"session": s, "expected": expected_count(s, enrolments, bookings)} for s in sessions]
    return {"rows": rows, "mine_only": mine_only}


def engagement_alerts_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_clinical:
        return None
    qs = EngagementAlert.objects.filter(
        resolved_at__isnull=True, participant__in=visible_participants(user)
    ).select_related("participant", "episode")
    if not (user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR}):
        qs = qs.filter(on_care_team(user, via="episode__"))
    alerts = list(qs.order_by("-raised_at")[:ALERT_LIMIT])
    if not alerts:
        return None
    return {"alerts": alerts, "limit": ALERT_LIMIT}


RATE_WEEKS = 4


def track_rates_context(request: StaffRequest) -> dict[str, Any] | None:
    """Directors and supervisors: attendance rate per track over the last four weeks."""
    import datetime as dt

    from django.utils import timezone

    from .hours import rates_by_track

    user = request.user
    if not (user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR}):
        return None
    today = timezone.localdate()
    first = today - dt.timedelta(weeks=RATE_WEEKS)
    rows = rates_by_track(user.program_ids, first, today)
    if not rows:
        return None
    return {"rows": rows, "first": first, "last": today}


register_panel(
    Panel(
        "track_rates",
        "Attendance by track (last 4 weeks)",
        Perm.ATTENDANCE_VIEW,
        "attendance/panels/track_rates.html",
        track_rates_context,
        order=40,
    )
)
register_panel(
    Panel(
        "sessions_today",
        "Sessions today",
        Perm.SCHEDULE_VIEW,
        "attendance/panels/sessions_today.html",
        sessions_today_context,
        order=10,
        wide=True,
    )
)
register_panel(
    Panel(
        "engagement_alerts",
        "Attendance and check-in alerts",
        Perm.ATTENDANCE_TAKE,
        "attendance/panels/engagement_alerts.html",
        engagement_alerts_context,
        order=6,
    )
)
