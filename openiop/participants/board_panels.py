"""Today-board panels owned by this app: my caseload and alerts about episodes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm

from .access import on_care_team, visible_participants
from .choices import OPEN_STATUSES, EpisodeStatus
from .models import Episode

# A referral untouched this long is at risk of being lost (people seeking help drop off
# quickly); an admitted participant who has not started within a week needs a call.
REFERRAL_STALE_DAYS = 3
ADMITTED_NOT_STARTED_DAYS = 7
CASELOAD_LIMIT = 100


@dataclass(frozen=True)
class CaseloadColumn:
    """A column other areas add to the caseload (e.g. hours this week). `values` takes the
    caseload's episodes and returns {episode pk: cell}; it must run a fixed number of
    queries whatever the caseload's size."""

    key: str
    label: str
    perm: str
    values: Callable[[list[Episode]], dict[int, Any]]
    numeric: bool = False


CASELOAD_COLUMNS: dict[str, CaseloadColumn] = {}


def register_caseload_column(column: CaseloadColumn) -> CaseloadColumn:
    CASELOAD_COLUMNS[column.key] = column
    return column


def caseload_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_clinical:
        return None
    episodes = list(
        Episode.objects.filter(
            on_care_team(user),
            status__in=OPEN_STATUSES,
            voided=False,
            participant__in=visible_participants(user),
        )
        .select_related("participant", "track", "program")
        .order_by("participant__legal_last_name", "participant__legal_first_name")[:CASELOAD_LIMIT]
    )
    columns = [c for c in CASELOAD_COLUMNS.values() if user.has_perm_code(c.perm)]
    values = [c.values(episodes) for c in columns]
    rows = []
    for ep in episodes:
        today = ep.program.today()
        rows.append(
            {
                "episode": ep,
                "participant": ep.participant,
                "days": ep.days_in_program(today),
                "primary": ep.primary_counsellor_id == user.pk,
                "extra": [v.get(ep.pk) for v in values],
            }
        )
    return {"rows": rows, "limit": CASELOAD_LIMIT, "columns": columns}


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
