"""Emergency access (break-the-glass), ONC 170.315(d)(6).

A counsellor whose program limits them to their care teams may open another
participant's chart only by stating a reason; the grant lasts a chosen time (at most
four hours), every page seen under it is audited with its number, and compliance
reviews each grant (`privacy:emergency_list`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .choices import EmergencyReason
from .models import EmergencyAccess

# Minutes a grant may last; the shortest that covers the need is the default.
DURATIONS = [(30, "30 minutes"), (60, "1 hour"), (240, "4 hours")]
DEFAULT_MINUTES = 60
MIN_REASON_LENGTH = 15


class EmergencyAccessError(Exception):
    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def grant(
    participant: Any, *, user: Any, reason_kind: str, reason: str, minutes: int
) -> EmergencyAccess:
    problems: dict[str, str] = {}
    if reason_kind not in EmergencyReason.values:
        problems["reason_kind"] = "Choose why you need access."
    text = (reason or "").strip()
    if len(text) < MIN_REASON_LENGTH:
        problems["reason"] = (
            f"State the reason in a sentence (at least {MIN_REASON_LENGTH} characters); "
            "compliance reviews every emergency access."
        )
    if minutes not in dict(DURATIONS):
        problems["minutes"] = "Choose how long you need access."
    if problems:
        raise EmergencyAccessError(problems)
    now = timezone.now()
    with transaction.atomic():
        access = EmergencyAccess.objects.create(
            user=user,
            participant=participant,
            reason_kind=reason_kind,
            reason=text[:500],
            started_at=now,
            expires_at=now + dt.timedelta(minutes=minutes),
        )
        audit.record(
            AuditAction.EMERGENCY_ACCESS,
            actor=user,
            obj=access,
            participant_id=participant.pk,
            changes={"minutes": minutes, "reason_kind": reason_kind},
            reason=text[:500],
        )
    return access


def end(access: EmergencyAccess, *, user: Any) -> EmergencyAccess:
    """The user closes the glass before the time runs out."""
    if access.user_id != user.pk:
        raise EmergencyAccessError({"access": "Only the person who opened it can end it."})
    if not access.is_active():
        raise EmergencyAccessError({"access": "This emergency access has already ended."})
    with transaction.atomic():
        access.ended_at = timezone.now()
        access.save(update_fields=["ended_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=user,
            obj=access,
            participant_id=access.participant_id,
            changes={"ended_at": [None, access.ended_at.isoformat()]},
        )
    return access


def review(access: EmergencyAccess, *, reviewer: Any, note: str) -> EmergencyAccess:
    """Compliance records that it looked at the access and what it found."""
    problems = {}
    if access.reviewed_at is not None:
        problems["access"] = "This emergency access was already reviewed."
    if not (note or "").strip():
        problems["note"] = "Write what you found (e.g. “confirmed with the supervisor”)."
    if access.user_id == reviewer.pk:
        problems["access"] = "You cannot review your own emergency access."
    if problems:
        raise EmergencyAccessError(problems)
    with transaction.atomic():
        access.reviewed_at = timezone.now()
        access.reviewed_by = reviewer
        access.review_note = note.strip()[:500]
        access.save(update_fields=["reviewed_at", "reviewed_by", "review_note"])
        audit.record(
            AuditAction.CHANGE,
            actor=reviewer,
            obj=access,
            participant_id=access.participant_id,
            changes={"reviewed": [False, True]},
            reason=access.review_note,
        )
    return access
