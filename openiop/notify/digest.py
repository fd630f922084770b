"""The staff alert digest: each morning, counts of what waits for a staff member —
open alerts, notes not yet signed, reviews waiting — and never a name (issue 9,
point 4). Nothing to report: no email."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from openiop.accounts.models import User
from openiop.core.roles import Perm, Role

from .models import Message
from .services import notify_staff


@dataclass(frozen=True)
class Counts:
    open_alerts: int
    unsigned_notes: int
    reviews_waiting: int

    @property
    def total(self) -> int:
        return self.open_alerts + self.unsigned_notes + self.reviews_waiting


def counts_for(user: Any) -> Counts:
    """The same counts the today board shows this user (its panels' rules)."""
    from openiop.attendance.models import EngagementAlert
    from openiop.instruments.safety import open_alerts_for
    from openiop.notes.choices import NoteStatus
    from openiop.notes.models import Note
    from openiop.participants.access import on_care_team, visible_participants
    from openiop.screening import queries

    alerts = open_alerts_for(user).count()
    if user.is_clinical:
        engagement = EngagementAlert.objects.filter(
            resolved_at__isnull=True, participant__in=visible_participants(user)
        )
        if not (user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR}):
            engagement = engagement.filter(on_care_team(user, via="episode__"))
        alerts += engagement.count()
    notes = 0
    if user.has_perm_code(Perm.NOTE_WRITE):
        notes = Note.objects.filter(author=user, status=NoteStatus.DRAFT, voided=False).count()
    reviews = 0
    if user.has_perm_code(Perm.SCREENING_REVIEW):
        reviews = queries.review_panel(user, 1)[1]
    return Counts(alerts, notes, reviews)


def send_digests(day: dt.date) -> int:
    """Queue one digest per active staff member with an email and something waiting."""
    made = 0
    staff = User.objects.filter(is_active=True, portal_kind="").exclude(email="").order_by("pk")
    done = set(
        Message.objects.filter(template="staff_digest", key__endswith=f":{day}").values_list(
            "key", flat=True
        )
    )
    for user in staff:
        key = f"staff_digest:{user.pk}:{day}"
        if key in done:
            continue
        counts = counts_for(user)
        if not counts.total:
            continue
        context = {
            "open_alerts": counts.open_alerts,
            "unsigned_notes": counts.unsigned_notes,
            "reviews_waiting": counts.reviews_waiting,
            "total": counts.total,
        }
        if notify_staff(user, "staff_digest", context, key=key):
            made += 1
    return made
