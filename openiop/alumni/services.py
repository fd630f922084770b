"""Alumni follow-ups after discharge and alumni events (issue 10, point 3).

    schedule_follow_ups(discharge, actor)            # from the discharge hook
    log_attempt(follow_up, actor=..., method=..., reached=False, note="", expected_version=1)
    log_attempt(follow_up, actor=..., method=..., reached=True, outcomes={...}, ...)
    close_follow_up(follow_up, actor=..., status=NOT_REACHED, note="...", expected_version=2)
    close_overdue()                                  # the daily job

The rules are plain functions (`outcome_problems`, `close_problems`) so the forms and the
services say the same thing and each rule has a unit test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import lock_for_edit
from openiop.participants.choices import EpisodeStatus
from openiop.participants.models import Participant

from .choices import FOLLOW_UP_DAYS, FollowUpStatus, UseSinceDischarge
from .models import AlumniAttendance, AlumniEvent, FollowUp, FollowUpAttempt

# A pending follow-up with at least one attempt closes as not reached this many days
# after its due date (the job); without an attempt it stays on the worklist as overdue.
GIVE_UP_AFTER_DAYS = 30
# The worklist's default view: follow-ups due up to this many days ahead.
DUE_SOON_DAYS = 7
DAYS_IN_WINDOW = 30
QOL_MAX = 10
NOTE_LENGTH = 500
# Participants who may come to alumni events: discharged or alumni.
ALUMNI_STATUSES = (EpisodeStatus.DISCHARGED, EpisodeStatus.ALUMNI)
# The fields of the outcomes asked when the person is reached.
OUTCOME_FIELDS = [
    "use_since_discharge",
    "days_used_past_30",
    "occupation",
    "housing",
    "readmitted",
    "readmitted_where",
    "quality_of_life",
    "in_aftercare",
    "notes",
]
CLOSING_STATUSES = (
    FollowUpStatus.NOT_REACHED,
    FollowUpStatus.DECLINED,
    FollowUpStatus.CANCELLED,
)


class FollowUpError(Exception):
    """The follow-up cannot be changed as asked (the message says why)."""


class EventError(Exception):
    """The alumni event or its attendance cannot be changed as asked."""


def _name(actor: Any) -> str:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return str(getattr(actor, "display_name", "") or actor.username)[:200]


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- the rules ---------------------------------------------------------------------------


def due_dates(discharge_date: dt.date) -> list[tuple[int, dt.date]]:
    """(day mark, due date) of every follow-up of a discharge on `discharge_date`."""
    return [(mark, discharge_date + dt.timedelta(days=mark)) for mark in FOLLOW_UP_DAYS]


def wants_follow_ups(reason: str) -> bool:
    """Nobody calls the family of a person who died."""
    from openiop.discharge.choices import DischargeReason

    return reason != DischargeReason.DIED


def outcome_problems(values: dict[str, Any]) -> dict[str, str]:
    """What is wrong with the outcomes of a reached follow-up, by field (empty: fine).

    Use, work or school, housing, back in treatment and quality of life are asked of
    everyone reached; days of use (0–30) when they used; no use means 0 days; where, when
    back in treatment; quality of life is 0–10."""
    problems: dict[str, str] = {}
    use = values.get("use_since_discharge") or ""
    days = values.get("days_used_past_30")
    if use not in UseSinceDischarge.values:
        problems["use_since_discharge"] = "Ask about alcohol or drug use since discharge."
    elif use in (UseSinceDischarge.LAPSE, UseSinceDischarge.RELAPSE) and days is None:
        problems["days_used_past_30"] = "How many of the past 30 days did they use?"
    elif use == UseSinceDischarge.NONE and days not in (None, 0):
        problems["days_used_past_30"] = "No use since discharge means 0 days of use."
    if days is not None and not 0 <= days <= DAYS_IN_WINDOW:
        problems["days_used_past_30"] = "Days of use in the past 30 is a number from 0 to 30."
    if use == UseSinceDischarge.LAPSE and days == 0:
        problems["days_used_past_30"] = "A lapse means at least one day of use."
    if not values.get("occupation"):
        problems["occupation"] = "Ask about work or school."
    if not values.get("housing"):
        problems["housing"] = "Ask where they live."
    if values.get("readmitted") is None:
        problems["readmitted"] = "Ask whether they are back in treatment."
    elif values.get("readmitted") and not (values.get("readmitted_where") or "").strip():
        problems["readmitted_where"] = "Say where they are in treatment."
    qol = values.get("quality_of_life")
    if qol is None:
        problems["quality_of_life"] = "Ask them to rate their quality of life (0–10)."
    elif not 0 <= qol <= QOL_MAX:
        problems["quality_of_life"] = "Quality of life is a number from 0 to 10."
    return problems


def clean_outcomes(values: dict[str, Any]) -> dict[str, Any]:
    """The outcomes as stored: no use ⇒ 0 days; not back in treatment ⇒ no place."""
    out = {name: values.get(name) for name in OUTCOME_FIELDS}
    if out["use_since_discharge"] == UseSinceDischarge.NONE:
        out["days_used_past_30"] = 0
    if not out["readmitted"]:
        out["readmitted_where"] = ""
    for name in ("readmitted_where", "notes"):
        out[name] = (out[name] or "").strip()
    for name in ("use_since_discharge", "occupation", "housing"):
        out[name] = out[name] or ""
    return out


def close_problems(status: str, *, attempts: int, note: str) -> str:
    """Why a follow-up may not be closed this way ("" when it may).

    Not reached: after at least one attempt. Declined and not needed: say why."""
    if status not in CLOSING_STATUSES:
        return "Choose how the follow-up ends."
    if status == FollowUpStatus.NOT_REACHED and attempts < 1:
        return "Log at least one attempt before closing the follow-up as not reached."
    if status in (FollowUpStatus.CANCELLED, FollowUpStatus.DECLINED) and not note.strip():
        return "Say why the follow-up is not needed or was declined."
    return ""


def days_overdue(follow_up: FollowUp, today: dt.date) -> int:
    return max((today - follow_up.due_date).days, 0)


# --- scheduling ------------------------------------------------------------------------------


def schedule_follow_ups(discharge: Any, actor: Any) -> list[FollowUp]:
    """The follow-ups of a discharge at FOLLOW_UP_DAYS, assigned to the episode's primary
    counsellor (none for a death). Idempotent: marks already there are not made again."""
    if discharge.voided or not wants_follow_ups(discharge.reason):
        return []
    made: list[FollowUp] = []
    with transaction.atomic():
        episode = discharge.episode
        have = set(FollowUp.objects.filter(discharge=discharge).values_list("day_mark", flat=True))
        for mark, due in due_dates(discharge.discharge_date):
            if mark in have:
                continue
            follow_up = FollowUp.objects.create(
                discharge=discharge,
                episode_id=discharge.episode_id,
                participant_id=discharge.participant_id,
                program_id=discharge.program_id,
                day_mark=mark,
                due_date=due,
                assigned_to_id=episode.primary_counsellor_id,
                created_by=_user(actor),
                updated_by=_user(actor),
            )
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=follow_up,
                changes={"day_mark": mark, "due_date": due.isoformat()},
            )
            made.append(follow_up)
    return made


# --- attempts and closing --------------------------------------------------------------------


def _locked_pending(follow_up: FollowUp, expected_version: int) -> FollowUp:
    current = lock_for_edit(FollowUp, follow_up.pk, expected_version, what="follow-up")
    if current.voided or current.status != FollowUpStatus.PENDING:
        raise FollowUpError(f"This follow-up is already closed: “{current.get_status_display()}”.")
    return current


def _save(current: FollowUp, *, actor: Any, fields: list[str]) -> None:
    current.version += 1
    current.updated_by = _user(actor)
    current.updated_at = timezone.now()
    current.save(update_fields=[*fields, "version", "updated_by", "updated_at"])


def log_attempt(
    follow_up: FollowUp,
    *,
    actor: Any,
    method: str,
    reached: bool,
    note: str = "",
    outcomes: dict[str, Any] | None = None,
    expected_version: int,
    at: dt.datetime | None = None,
) -> FollowUp:
    """One try at reaching the person. Reached: the outcomes are recorded and the
    follow-up closes as REACHED (FollowUpError with the problems if they are not right).
    `at`: when the call was made (default now; the seeded demo sets it)."""
    at = at or timezone.now()
    note = note.strip()
    if len(note) > NOTE_LENGTH:
        raise FollowUpError("The note is too long (500 characters at most).")
    values = outcomes or {}
    if reached:
        problems = outcome_problems(values)
        if problems:
            raise FollowUpError(" ".join(problems.values()))
    with transaction.atomic():
        current = _locked_pending(follow_up, expected_version)
        attempt = FollowUpAttempt.objects.create(
            follow_up=current,
            at=at,
            method=method,
            reached=reached,
            note=note,
            by=_user(actor),
            by_name=_name(actor),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=attempt,
            object_repr=f"follow-up {current.pk} attempt {attempt.pk}",
            participant_id=current.participant_id,
            changes={"method": method, "reached": reached},
        )
        fields: list[str] = []
        changes: dict[str, Any] = {}
        if reached:
            before = audit.snapshot(current, ["status", *OUTCOME_FIELDS])
            for name, value in clean_outcomes(values).items():
                setattr(current, name, value)
            current.status = FollowUpStatus.REACHED
            current.completed_at = at
            current.completed_by = _user(actor)
            current.completed_by_name = _name(actor)
            fields = [
                *OUTCOME_FIELDS,
                "status",
                "completed_at",
                "completed_by",
                "completed_by_name",
            ]
            changes = audit.diff(before, audit.snapshot(current, ["status", *OUTCOME_FIELDS]))
        _save(current, actor=actor, fields=fields)
        if changes:
            audit.record(AuditAction.CHANGE, actor=actor, obj=current, changes=changes)
    return current


def close_follow_up(
    follow_up: FollowUp,
    *,
    actor: Any,
    status: str,
    note: str,
    expected_version: int,
    at: dt.datetime | None = None,
) -> FollowUp:
    """Close without reaching: not reached (after an attempt), declined, or not needed."""
    note = note.strip()
    at = at or timezone.now()
    with transaction.atomic():
        current = _locked_pending(follow_up, expected_version)
        attempts = FollowUpAttempt.objects.filter(follow_up=current).count()
        problem = close_problems(status, attempts=attempts, note=note)
        if problem:
            raise FollowUpError(problem)
        current.status = status
        if note:
            current.notes = f"{current.notes}\n{note}".strip()[:4000]
        current.completed_at = at
        current.completed_by = _user(actor)
        current.completed_by_name = _name(actor)
        _save(
            current,
            actor=actor,
            fields=["status", "notes", "completed_at", "completed_by", "completed_by_name"],
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"status": [FollowUpStatus.PENDING, status]},
            reason=note[:500],
        )
    return current


def close_overdue(today: dt.date | None = None) -> int:
    """Close as not reached the pending follow-ups GIVE_UP_AFTER_DAYS past due that had an
    attempt; those without an attempt stay on the worklist, overdue. Idempotent."""
    today = today or timezone.localdate()
    cutoff = today - dt.timedelta(days=GIVE_UP_AFTER_DAYS)
    tried = FollowUpAttempt.objects.filter(follow_up=OuterRef("pk"))
    closed = 0
    for follow_up in FollowUp.objects.filter(
        status=FollowUpStatus.PENDING, voided=False, due_date__lte=cutoff
    ).filter(Exists(tried)):
        with transaction.atomic():
            current = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
            if current.status != FollowUpStatus.PENDING:
                continue
            current.status = FollowUpStatus.NOT_REACHED
            current.completed_at = timezone.now()
            current.completed_by_name = "Closed automatically"
            _save(current, actor=None, fields=["status", "completed_at", "completed_by_name"])
            audit.record(
                AuditAction.CHANGE,
                actor=None,
                obj=current,
                changes={"status": [FollowUpStatus.PENDING, FollowUpStatus.NOT_REACHED]},
                reason=f"Not reached {GIVE_UP_AFTER_DAYS} days after it was due",
            )
            closed += 1
    return closed


# --- alumni events ---------------------------------------------------------------------------

EVENT_FIELDS = ["title", "starts_at", "ends_at", "location", "description", "facilitator"]


def event_problems(values: dict[str, Any]) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not (values.get("title") or "").strip():
        problems["title"] = "Give the event a title."
    starts, ends = values.get("starts_at"), values.get("ends_at")
    if starts and ends and ends <= starts:
        problems["ends_at"] = "The event must end after it starts."
    return problems


def create_event(program: Any, *, actor: Any, values: dict[str, Any]) -> AlumniEvent:
    problems = event_problems(values)
    if problems:
        raise EventError(" ".join(problems.values()))
    with transaction.atomic():
        event = AlumniEvent.objects.create(
            program=program,
            title=values["title"].strip(),
            starts_at=values["starts_at"],
            ends_at=values["ends_at"],
            location=(values.get("location") or "").strip(),
            description=(values.get("description") or "").strip(),
            facilitator=values.get("facilitator"),
            created_by=_user(actor),
            updated_by=_user(actor),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=event,
            changes=audit.snapshot(event, EVENT_FIELDS),
        )
    return event


def cancel_event(event: AlumniEvent, *, actor: Any, reason: str) -> AlumniEvent:
    reason = reason.strip()
    if not reason:
        raise EventError("Say why the event is cancelled.")
    with transaction.atomic():
        current = AlumniEvent.objects.select_for_update().get(pk=event.pk)
        if current.cancelled:
            raise EventError("This event is already cancelled.")
        if AlumniAttendance.objects.filter(event=current, attended=True).exists():
            raise EventError("People came to this event: it cannot be cancelled.")
        current.cancelled = True
        current.version += 1
        current.updated_by = _user(actor)
        current.updated_at = timezone.now()
        current.save(update_fields=["cancelled", "version", "updated_by", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"cancelled": [False, True]},
            reason=reason[:500],
        )
    return current


def eligible_alumni(event: AlumniEvent, visible: Any = None) -> Any:
    """Participants of the event's program who are discharged or alumni (a queryset)."""
    qs = visible if visible is not None else Participant.objects.filter(voided=False)
    return (
        qs.filter(program_id=event.program_id, current_episode__status__in=ALUMNI_STATUSES)
        .select_related("current_episode")
        .order_by("legal_last_name", "legal_first_name", "pk")
    )


def record_attendance(
    event: AlumniEvent, attended: Iterable[Participant], *, actor: Any, eligible: Any
) -> tuple[int, int]:
    """Who came: `attended` (a subset of `eligible`) are marked present, the others of
    `eligible` already listed are marked absent. A participant is listed once per event.
    Returns (marked present, marked absent)."""
    if event.cancelled:
        raise EventError("This event was cancelled.")
    event_day = timezone.localtime(event.starts_at).date()
    if event_day > timezone.localdate():
        raise EventError("Attendance is recorded on the day of the event or after.")
    came = {p.pk for p in attended}
    allowed = {p.pk for p in eligible}
    if not came <= allowed:
        raise EventError("Only the program's discharged participants and alumni can attend.")
    present = absent = 0
    with transaction.atomic():
        AlumniEvent.objects.select_for_update().filter(pk=event.pk).first()
        rows = {a.participant_id: a for a in AlumniAttendance.objects.filter(event=event)}
        for pk in sorted(allowed):
            row = rows.get(pk)
            wanted = pk in came
            if row is None and wanted:
                row = AlumniAttendance.objects.create(
                    event=event,
                    participant_id=pk,
                    attended=True,
                    created_by=_user(actor),
                    updated_by=_user(actor),
                )
                audit.record(AuditAction.CREATE, actor=actor, obj=row, changes={"attended": True})
                present += 1
            elif row is not None and row.attended != wanted:
                row.attended = wanted
                row.version += 1
                row.updated_by = _user(actor)
                row.updated_at = timezone.now()
                row.save(update_fields=["attended", "version", "updated_by", "updated_at"])
                audit.record(
                    AuditAction.CHANGE,
                    actor=actor,
                    obj=row,
                    changes={"attended": [not wanted, wanted]},
                )
                if wanted:
                    present += 1
                else:
                    absent += 1
    return present, absent
