"""The chart's Portal section: the participant's portal accounts (their own and family
members'), invitations and the actions (invite, withdraw, end). Two queries."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from openiop.accounts.models import PortalKind
from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Participant

from .models import Invitation, PortalAccount

INVITATIONS_SHOWN = 10


def portal_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    accounts = list(
        PortalAccount.objects.filter(participant=participant)
        .select_related("user", "contact", "ended_by")
        .order_by(F("ended_at").desc(nulls_first=True), "kind", "-created_at")
    )
    invitations = list(
        Invitation.objects.filter(participant=participant)
        .select_related("contact", "created_by")
        .order_by("-created_at", "-pk")[:INVITATIONS_SHOWN]
    )
    now = timezone.now()
    rows = []
    for inv in invitations:
        if inv.accepted_at:
            state = "accepted"
        elif inv.revoked_at:
            state = "withdrawn"
        elif now >= inv.expires_at:
            state = "expired"
        else:
            state = "pending"
        rows.append({"invitation": inv, "state": state})
    own_active = any(a.kind == PortalKind.PARTICIPANT and a.ended_at is None for a in accounts)
    episode = participant.current_episode
    in_care = episode is not None and not episode.voided and episode.status in IN_CARE
    return {
        "portal_accounts": accounts,
        "portal_invitations": rows,
        "portal_can_invite": in_care and not own_active,
        "portal_in_care": in_care,
    }


register_section(
    Section(
        "portal",
        "Portal",
        Perm.PORTAL_INVITE,
        "portal/staff/chart_section.html",
        portal_context,
        order=24,
    )
)
