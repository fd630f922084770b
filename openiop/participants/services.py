"""Every write to participants and episodes. Each function is atomic, takes the acting
user as `actor`, saves with `update_fields`, and writes its audit event in the same
transaction. Views, commands, the demo and tests all come through here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import Sequence
from openiop.core.records import lock_for_edit, save_change

from . import hooks, lifecycle
from .choices import OPEN_STATUSES, EpisodeStatus
from .models import Episode, EpisodeTransition, Participant, format_record_number

PARTICIPANT_FIELDS = [
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "pronouns",
    "date_of_birth",
    "phone",
    "email",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "preferred_language",
    "emergency_contact_name",
    "emergency_contact_relationship",
    "emergency_contact_phone",
]
EPISODE_FIELDS = ["level_of_care", "track", "primary_counsellor"]


class EpisodeAlreadyOpen(Exception):
    pass


class EpisodeClosed(Exception):
    """A closed episode's level of care, track and care team are history: not edited."""


def register_participant(
    *,
    actor: Any,
    program: Any,
    identity: dict[str, Any],
    referral_source: str,
    referral_date: dt.date,
    at: dt.datetime | None = None,
) -> Participant:
    """Create a participant with a generated record number and open a referral episode."""
    at = at or timezone.now()
    with transaction.atomic():
        participant = Participant(
            program=program,
            record_number=format_record_number(Sequence.next_value("participant")),
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
            **{k: identity[k] for k in PARTICIPANT_FIELDS if k in identity},
        )
        participant.save()
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=participant,
            changes=audit.diff({}, audit.snapshot(participant, PARTICIPANT_FIELDS)),
        )
        open_episode(
            participant,
            actor=actor,
            program=program,
            referral_source=referral_source,
            referral_date=referral_date,
            at=at,
        )
    return participant


def update_participant(
    participant: Participant, *, actor: Any, changes: dict[str, Any], expected_version: int
) -> Participant:
    with transaction.atomic():
        current = lock_for_edit(Participant, participant.pk, expected_version, what="participant")
        before = audit.snapshot(current, PARTICIPANT_FIELDS)
        fields = [k for k in PARTICIPANT_FIELDS if k in changes]
        for key in fields:
            setattr(current, key, changes[key])
        delta = audit.diff(before, audit.snapshot(current, PARTICIPANT_FIELDS))
        save_change(current, actor=actor, fields=fields, changes=delta)
    return current


class AlreadyVoided(Exception):
    pass


def void_participant(participant: Participant, *, actor: Any, reason: str) -> Participant:
    """Void a record created in error (a duplicate, the wrong person): hidden from every
    list and chart, kept in the database and the audit log, never deleted."""
    reason = reason.strip()
    if not reason:
        raise ValueError("A reason is required to void a record.")
    with transaction.atomic():
        current = Participant.objects.select_for_update().get(pk=participant.pk)
        if current.voided:
            raise AlreadyVoided("This record is already voided.")
        current.voided = True
        current.voided_at = timezone.now()
        current.voided_by = actor
        current.void_reason = reason[:500]
        current.version += 1
        current.save(update_fields=["voided", "voided_at", "voided_by", "void_reason", "version"])
        audit.record(AuditAction.VOID, actor=actor, obj=current, reason=reason)
    return current


def open_episode(
    participant: Participant,
    *,
    actor: Any,
    program: Any,
    referral_source: str,
    referral_date: dt.date,
    at: dt.datetime | None = None,
) -> Episode:
    """Start a new episode (a new referral) for a participant with no open episode."""
    at = at or timezone.now()
    with transaction.atomic():
        locked = Participant.objects.select_for_update().get(pk=participant.pk)
        if Episode.objects.filter(participant=locked, status__in=OPEN_STATUSES).exists():
            raise EpisodeAlreadyOpen(
                "This participant already has an open episode; close it before starting another."
            )
        episode = Episode.objects.create(
            participant=locked,
            program=program,
            status=EpisodeStatus.REFERRED,
            status_changed_at=at,
            status_date=referral_date,
            referral_source=referral_source,
            referral_date=referral_date,
            created_by=actor,
            updated_by=actor,
            created_at=at,
            updated_at=at,
        )
        EpisodeTransition.objects.create(
            episode=episode,
            from_status="",
            to_status=EpisodeStatus.REFERRED,
            effective_date=referral_date,
            at=at,
            by=actor,
            by_name=_name(actor),
        )
        locked.current_episode = episode
        locked.program = program
        locked.save(update_fields=["current_episode", "program"])
        participant.current_episode = episode
        participant.program = program
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=episode,
            participant_id=locked.pk,
            changes={
                "status": [None, EpisodeStatus.REFERRED],
                "referral_source": [None, referral_source],
            },
        )
    return episode


def update_episode(
    episode: Episode,
    *,
    actor: Any,
    changes: dict[str, Any],
    care_team: list[Any] | None,
    expected_version: int,
    effective_date: dt.date | None = None,
) -> Episode:
    """Change level of care, track, primary counsellor and care team.

    A track change takes effect on `effective_date` (default: the program's today); the
    scheduling area keeps the earlier track's enrolment as history.
    """
    with transaction.atomic():
        current = lock_for_edit(Episode, episode.pk, expected_version, what="episode")
        if not current.is_open:
            raise EpisodeClosed(
                f"This episode is closed ({current.get_status_display()}); its level of care, "
                "track and care team are kept as they were."
            )
        before = audit.snapshot(current, EPISODE_FIELDS)
        before["care_team"] = sorted(current.care_team.values_list("pk", flat=True))
        fields = [k for k in EPISODE_FIELDS if k in changes]
        for key in fields:
            setattr(current, key, changes[key])
        after = audit.snapshot(current, EPISODE_FIELDS)
        if care_team is not None:
            current.care_team.set(care_team)
            after["care_team"] = sorted(u.pk for u in care_team)
        else:
            after["care_team"] = before["care_team"]
        save_change(current, actor=actor, fields=fields, changes=audit.diff(before, after))
        if "track" in fields:
            hooks.episode_changed(
                current,
                actor=actor,
                effective_date=effective_date or current.program.today(),
            )
    return current


def transition_episode(
    episode: Episode,
    to_status: str,
    *,
    actor: Any,
    effective_date: dt.date,
    reason: str = "",
    changes: dict[str, Any] | None = None,
    today: dt.date | None = None,
    at: dt.datetime | None = None,
) -> Episode:
    """Move an episode to `to_status`, or raise lifecycle.TransitionRefused (nothing saved).

    `changes` may set level of care, track and primary counsellor in the same step
    (the admission form does).
    """
    at = at or timezone.now()
    with transaction.atomic():
        current = (
            Episode.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=episode.pk)
        )
        today = today or current.program.today(at)
        before = audit.snapshot(
            current, ["status", *EPISODE_FIELDS, "admission_date", "discharge_date"]
        )
        fields = [k for k in EPISODE_FIELDS if changes and k in changes]
        for key in fields:
            setattr(current, key, changes[key])  # type: ignore[index]
        req = lifecycle.Request(to_status=to_status, effective_date=effective_date, reason=reason)
        lifecycle.check(current, req, today=today)
        fields += lifecycle.apply_dates(current, req)
        from_status = current.status
        current.status = to_status
        current.status_changed_at = at
        current.status_date = effective_date
        current.version += 1
        current.updated_by = actor
        current.updated_at = at
        current.save(
            update_fields=[
                *fields,
                "status",
                "status_changed_at",
                "status_date",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        EpisodeTransition.objects.create(
            episode=current,
            from_status=from_status,
            to_status=to_status,
            effective_date=effective_date,
            at=at,
            by=actor,
            by_name=_name(actor),
            reason=reason.strip(),
        )
        after = audit.snapshot(
            current, ["status", *EPISODE_FIELDS, "admission_date", "discharge_date"]
        )
        audit.record(
            AuditAction.TRANSITION,
            actor=actor,
            obj=current,
            participant_id=current.participant_id,
            changes=audit.diff(before, after),
            reason=reason.strip(),
        )
        hooks.episode_changed(current, actor=actor, effective_date=effective_date)
    return current


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", "") or getattr(actor, "username", "") or "system")
