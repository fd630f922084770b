"""Today-board panels owned by this app: my caseload and alerts about episodes."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Q
from django.utils import timezone

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm
from openiop.programs.models import Track

from .access import visible_participants
from .choices import OPEN_STATUSES, EpisodeStatus
from .models import Episode

# A referral untouched this long is at risk of being lost (people seeking help drop off
# quickly); an admitted participant who has not started within a week needs a call.
REFERRAL_STALE_DAYS = 3
ADMITTED_NOT_STARTED_DAYS = 7
CASELOAD_LIMIT = 100


def caseload_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_clinical:
        return None
    episodes = list(
        Episode.objects.filter(
            Q(primary_counsellor=user) | Q(care_team=user),
            status__in=OPEN_STATUSES,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant", "track", "program")
        .distinct()
        .order_by("participant__legal_last_name", "participant__legal_first_name")[:CASELOAD_LIMIT]
    )
    rows = []
    for ep in episodes:
        today = ep.program.today()
        rows.append(
            {
                "episode": ep,
                "participant": ep.participant,
                "days": ep.days_in_program(today),
                "primary": ep.primary_counsellor_id == user.pk,
            }
        )
    return {"rows": rows, "limit": CASELOAD_LIMIT}


def alerts_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    # Across the user's programs, a day either way of a time-zone boundary does not matter here.
    today = timezone.localdate()
    visible = visible_participants(user)
    stale = (
        Episode.objects.filter(
            status=EpisodeStatus.REFERRED,
            voided=False,
            participant__in=visible,
            status_date__lt=today - dt.timedelta(days=REFERRAL_STALE_DAYS),
        )
        .select_related("participant")
        .order_by("status_date")[:20]
    )
    not_started = (
        Episode.objects.filter(
            status=EpisodeStatus.ADMITTED,
            voided=False,
            participant__in=visible,
            status_date__lt=today - dt.timedelta(days=ADMITTED_NOT_STARTED_DAYS),
        )
        .select_related("participant")
        .order_by("status_date")[:20]
    )
    alerts = [
        {
            "episode": ep,
            "participant": ep.participant,
            "kind": "warning",
            "text": f"Referral waiting {(today - ep.status_date).days} days for screening",
        }
        for ep in stale
    ] + [
        {
            "episode": ep,
            "participant": ep.participant,
            "kind": "warning",
            "text": f"Admitted {(today - ep.status_date).days} days ago, not yet attending",
        }
        for ep in not_started
    ]
    return {"alerts": alerts}


register_panel(
    Panel(
        "caseload",
        "My caseload",
        Perm.PARTICIPANT_VIEW,
        "participants/panels/caseload.html",
        caseload_context,
        order=20,
        wide=True,
    )
)
register_panel(
    Panel(
        "alerts",
        "Alerts",
        Perm.CLINICAL_VIEW,
        "participants/panels/alerts.html",
        alerts_context,
        order=5,
    )
)


def groups_today_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    tracks = list(
        Track.objects.filter(program_id__in=user.program_ids, retired=False)
        .select_related("program")
        .order_by("start_time")
    )
    if not tracks:
        return None
    todays = [t for t in tracks if t.meets_on(t.program.today())]
    counts = Counter(
        Episode.objects.filter(track__in=todays, status="active", voided=False).values_list(
            "track_id", flat=True
        )
    )
    rows = [{"track": t, "expected": counts.get(t.pk, 0)} for t in todays]
    return {"rows": rows}


register_panel(
    Panel(
        "groups_today",
        "Groups meeting today",
        Perm.PARTICIPANT_VIEW,
        "participants/panels/groups_today.html",
        groups_today_context,
        order=10,
    )
)
