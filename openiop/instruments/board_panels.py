"""Today-board panels of measurement-based care: open safety alerts (first, unmissable)
and the routine instruments due on my caseload. Plus a banner on every other page while
a safety alert is open."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.context_processors import register_banner
from openiop.core.roles import Perm
from openiop.participants.access import on_care_team, visible_participants
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode

from .due import due_for
from .safety import open_alerts_for

ALERT_LIMIT = 50


def safety_context(request: StaffRequest) -> dict[str, Any] | None:
    alerts = list(
        open_alerts_for(request.user)
        .select_related("participant")
        .order_by("raised_at")[:ALERT_LIMIT]
    )
    if not alerts:
        return None
    return {"alerts": alerts, "can_respond": request.user.has_perm_code(Perm.SAFETY_RESPOND)}


def due_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.is_clinical:
        return None
    episodes = Episode.objects.filter(
        on_care_team(user),
        status__in=IN_CARE,
        voided=False,
        participant__in=visible_participants(user),
    ).select_related("participant", "program")
    items = due_for(episodes, soon_days=0)
    if not items:
        return None
    return {
        "items": items[:8],
        "count": len(items),
        "overdue": sum(1 for d in items if d.state == "overdue"),
    }


def safety_banner(request: HttpRequest) -> dict[str, Any] | None:
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in ("core:today", "instruments:alert"):
        return None  # the board shows the alerts in full; the alert page is the answer
    count = open_alerts_for(request.user).count()
    if not count:
        return None
    return {
        "tone": "danger",
        "text": f"{count} open safety alert{'s' if count != 1 else ''}: a positive "
        "suicide-risk answer needs a documented response today.",
        "url": reverse("core:today"),
        "link_text": "See the alerts",
    }


register_panel(
    Panel(
        "safety",
        "Safety alerts",
        Perm.CLINICAL_VIEW,
        "instruments/panels/safety.html",
        safety_context,
        order=0,
        wide=True,
    )
)
register_panel(
    Panel(
        "instruments_due",
        "Instruments due",
        Perm.CLINICAL_VIEW,
        "instruments/panels/due.html",
        due_context,
        order=40,
    )
)
register_banner(safety_banner)
