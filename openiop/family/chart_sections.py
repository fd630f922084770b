"""The chart's Family section: who in the participant's family has family access under a
consent in force, their portal accounts, and the next family session (a fixed number of
queries: the contacts, the consents, the discharges, the accounts, the next session)."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Contact, Participant

from . import access
from .choices import InvitationStatus
from .models import FamilyInvitation


def family_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    from django.utils import timezone

    from openiop.portal.models import PortalAccount

    contacts = list(Contact.objects.filter(participant=participant, voided=False))
    if not contacts:
        return None
    today = participant.program.today()
    decisions = access.decisions_for(contacts, on=today)
    with_access = [c for c in contacts if decisions[c.pk].allowed]
    accounts = set(
        PortalAccount.objects.filter(
            participant=participant, kind="family", ended_at__isnull=True
        ).values_list("contact_id", flat=True)
    )
    upcoming = (
        FamilyInvitation.objects.filter(
            participant=participant,
            status=InvitationStatus.INVITED,
            voided=False,
            session__voided=False,
            session__ends_at__gte=timezone.now(),
        )
        .select_related("session", "session__program", "contact")
        .order_by("session__starts_at")
        .first()
    )
    return {
        "family_rows": [
            {"contact": c, "portal": c.pk in accounts, "access": decisions[c.pk]}
            for c in with_access
        ],
        "family_without": len(contacts) - len(with_access),
        "family_next": upcoming,
    }


register_section(
    Section(
        "family",
        "Family",
        Perm.FAMILY_MANAGE,
        "family/staff/chart_section.html",
        family_context,
        order=26,
    )
)
