"""Every write to attendance, check-ins and engagement alerts: atomic and audited."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.choices import IN_CARE
from openiop.scheduling import services as scheduling
from openiop.scheduling.choices import BookingReason, SessionStatus
from openiop.scheduling.enrolment import (
    bookings_for_sessions,
    enrolments_for_tracks,
    expected_episodes,
)
from openiop.scheduling.models import Session

from . import rules
from .choices import ATTENDED, NEEDS_MINUTES, AlertKind, AttendanceStatus, CheckInSource
from .models import Attendance, CheckIn, EngagementAlert


class AttendanceError(Exception):
    """A request refused; the message says why."""


class AttendanceConflict(AttendanceError):
    """A mark the form changed was changed by someone else since the form was loaded
    (issue 13, point 5: never silently overwrite a concurrent save)."""


@dataclass
class RosterRow:
    episode: Any
    attendance: Attendance | None
    walk_in: bool = False
    booked: str = ""  # booking reason label when booked rather than enrolled

    @property
    def participant(self) -> Any:
        return self.episode.participant


def roster(session: Session) -> list[RosterRow]:
    """Everyone expected (enrolled that day or booked) plus anyone with a mark, by name.
    A fixed number of queries whatever the group's size."""
    enrolments = enrolments_for_tracks([session.track_id or 0], session.date, session.date)
    bookings = bookings_for_sessions([session.pk])
    booked = {b.episode_id: b.get_reason_display() for b in bookings.get(session.pk, [])}
    marks = {
        a.episode_id: a
        for a in Attendance.objects.filter(session=session, voided=False).select_related(
            "episode__participant", "episode__primary_counsellor"
        )
    }
    rows: dict[int, RosterRow] = {}
    for episode in expected_episodes(session, enrolments, bookings):
        mark = marks.get(episode.pk)
        rows[episode.pk] = RosterRow(
            episode,
            mark,
            walk_in=bool(mark and mark.walk_in),
            booked=booked.get(episode.pk, ""),
        )
    for episode_id, mark in marks.items():
        if episode_id not in rows:
            rows[episode_id] = RosterRow(mark.episode, mark, walk_in=mark.walk_in)
    return sorted(
        rows.values(),
        key=lambda r: (
            r.participant.legal_last_name.lower(),
            r.participant.legal_first_name.lower(),
        ),
    )


def _check_takeable(session: Session, now: dt.datetime | None = None) -> None:
    if session.voided or session.status == SessionStatus.CANCELLED:
        raise AttendanceError("This session was cancelled; there is no attendance to take.")
    today = session.program.today(now)
    if session.date > today:
        raise AttendanceError(
            f"This session is on {session.date:%a %b %-d}; attendance can be taken from that day."
        )


def _minutes(session: Session, status: str, missed: int) -> tuple[int, int]:
    """(minutes missed, minutes attended) for a status, or AttendanceError."""
    length = session.minutes
    if status in NEEDS_MINUTES:
        if missed <= 0:
            label = AttendanceStatus(status).label.lower()
            raise AttendanceError(f"Say how many minutes for “{label}”.")
        if missed >= length:
            raise AttendanceError(
                f"{missed} minutes is the whole session ({length} min) or more: mark absent."
            )
        return missed, length - missed
    if status in ATTENDED:
        return 0, length
    return 0, 0


def _mark_taken(session: Session, actor: Any) -> None:
    Session.objects.filter(pk=session.pk).update(
        attendance_taken_at=timezone.now(), attendance_taken_by=actor
    )


def mark_all_present(session: Session, *, actor: Any) -> int:
    """Everyone on the roster without a mark is marked present for the whole session.
    Marks already made are kept. Returns how many were marked."""
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=session.pk)
        )
        _check_takeable(locked)
        rows = [r for r in roster(locked) if r.attendance is None]
        for row in rows:
            mark = Attendance.objects.create(
                session=locked,
                episode=row.episode,
                participant=row.participant,
                status=AttendanceStatus.PRESENT,
                minutes_attended=locked.minutes,
                created_by=actor,
                updated_by=actor,
            )
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=mark,
                changes={"status": AttendanceStatus.PRESENT, "minutes": locked.minutes},
            )
        _mark_taken(locked, actor)
    return len(rows)


@dataclass(frozen=True)
class Entry:
    status: str
    minutes_missed: int = 0
    note: str = ""
    # The mark's version the form showed (0: no mark yet), or None when the caller does
    # not know it (then the entry wins whatever happened since).
    seen_version: int | None = None


def record_attendance(session: Session, entries: dict[int, Entry], *, actor: Any) -> int:
    """Set the marks of roster members (episode id → entry). All or nothing: one wrong
    entry refuses the lot, naming the participant. Returns how many marks changed.

    Saves of one session's roster are serialised by the session's row lock (SELECT … FOR
    UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction takes the write lock), so
    the marks read below are current. An entry whose `seen_version` is no longer the
    mark's, and that would change it, is a conflict (AttendanceConflict): someone saved
    that participant's mark since the form was loaded (issue 13, point 5)."""
    changed = 0
    conflicts: list[str] = []
    with transaction.atomic():
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program")
            .get(pk=session.pk)
        )
        _check_takeable(locked)
        by_episode = {r.episode.pk: r for r in roster(locked)}
        for episode_id, entry in entries.items():
            row = by_episode.get(episode_id)
            if row is None:
                raise AttendanceError(
                    "Someone in the form is not on this session's roster; reload the page."
                )
            if entry.status not in AttendanceStatus.values:
                raise AttendanceError(f"“{entry.status}” is not an attendance mark.")
            try:
                missed, attended = _minutes(locked, entry.status, entry.minutes_missed)
            except AttendanceError as exc:
                raise AttendanceError(f"{row.participant.display_name}: {exc}") from None
            note = entry.note.strip()[:300]
            mark = row.attendance
            current_version = mark.version if mark is not None else 0
            if entry.seen_version is not None and entry.seen_version != current_version:
                unchanged = mark is not None and (
                    mark.status,
                    mark.minutes_missed,
                    mark.note,
                ) == (entry.status, missed, note)
                if not unchanged:  # the same mark as the other save is no conflict
                    now_label = mark.get_status_display() if mark is not None else "not marked"
                    conflicts.append(f"{row.participant.display_name} (now: {now_label})")
                continue
            if mark is None:
                mark = Attendance.objects.create(
                    session=locked,
                    episode=row.episode,
                    participant=row.participant,
                    status=entry.status,
                    minutes_missed=missed,
                    minutes_attended=attended,
                    note=note,
                    created_by=actor,
                    updated_by=actor,
                )
                audit.record(
                    AuditAction.CREATE,
                    actor=actor,
                    obj=mark,
                    changes={"status": entry.status, "minutes": attended},
                )
                changed += 1
                continue
            before = audit.snapshot(mark, ["status", "minutes_missed", "minutes_attended", "note"])
            mark.status, mark.minutes_missed, mark.minutes_attended, mark.note = (
                entry.status,
                missed,
                attended,
                note,
            )
            after = audit.snapshot(mark, ["status", "minutes_missed", "minutes_attended", "note"])
            delta = audit.diff(before, after)
            if delta:
                mark.version += 1
                mark.updated_by = actor
                mark.updated_at = timezone.now()
                mark.save(
                    update_fields=[
                        "status",
                        "minutes_missed",
                        "minutes_attended",
                        "note",
                        "version",
                        "updated_by",
                        "updated_at",
                    ]
                )
                audit.record(AuditAction.CHANGE, actor=actor, obj=mark, changes=delta)
                changed += 1
        if conflicts:
            # All or nothing, like a wrong entry: the rest of the form is not saved either.
            raise AttendanceConflict(
                "Someone else saved these marks while you had the page open: "
                + "; ".join(conflicts)
                + ". Nothing was saved. The page now shows their marks with your changes; "
                "check them and save again."
            )
        _mark_taken(locked, actor)
    return changed


def add_walk_in(
    session: Session, episode: Any, *, actor: Any, capacity_override: str = ""
) -> Attendance:
    """Someone who came without being expected: booked as a walk-in and marked present."""
    with transaction.atomic():
        locked = Session.objects.select_related("program", "room").get(pk=session.pk)
        _check_takeable(locked)
        scheduling.book(
            locked,
            episode,
            reason=BookingReason.WALK_IN,
            actor=actor,
            capacity_override=capacity_override,
        )
        mark = Attendance.objects.create(
            session=locked,
            episode=episode,
            participant=episode.participant,
            status=AttendanceStatus.PRESENT,
            minutes_attended=locked.minutes,
            walk_in=True,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=mark,
            changes={"status": AttendanceStatus.PRESENT, "walk_in": True},
        )
        _mark_taken(locked, actor)
    return mark


# ---------------------------------------------------------------- check-ins


def record_check_in(
    episode: Any,
    values: rules.CheckInValues,
    *,
    actor: Any,
    note: str = "",
    source: str = CheckInSource.STAFF,
    session: Session | None = None,
    day: dt.date | None = None,
    at: dt.datetime | None = None,
) -> CheckIn:
    """Save a check-in; reported use or a craving at the program's threshold alerts the
    counsellor at once."""
    errors = rules.validate_check_in(values)
    if errors:
        raise AttendanceError(" ".join(errors.values()))
    if episode.status not in IN_CARE:
        raise AttendanceError("Check-ins are for participants in care (admitted or active).")
    at = at or timezone.now()
    day = day or episode.program.today(at)
    # validate_check_in leaves "unanswered" to the form; the record needs every answer.
    if None in (values.mood, values.craving, values.stress, values.sleep_hours):
        raise AttendanceError("Answer mood, craving, stress and hours slept.")
    with transaction.atomic():
        check_in = CheckIn.objects.create(
            participant=episode.participant,
            episode=episode,
            day=day,
            at=at,
            session=session,
            mood=values.mood or 0,
            craving=values.craving or 0,
            used=values.used,
            substances=values.substances.strip() if values.used else "",
            stress=values.stress or 0,
            sleep_hours=values.sleep_hours or 0,
            note=note.strip()[:2000],
            source=source,
            created_by=actor if getattr(actor, "pk", None) else None,
            updated_by=actor if getattr(actor, "pk", None) else None,
        )
        audit.record(
            AuditAction.CREATE, actor=actor, obj=check_in, changes={"day": day.isoformat()}
        )
        for flag in rules.check_in_flags(values, episode.program.craving_alert_at):
            raise_alert(
                episode, flag.code, f"checkin-{check_in.pk}", flag.message, day, actor=actor
            )
    return check_in


# ---------------------------------------------------------------- alerts


def raise_alert(
    episode: Any, kind: str, key: str, message: str, day: dt.date, *, actor: Any = None
) -> EngagementAlert | None:
    """Raise an alert once per (episode, kind, key); None when it was raised before."""
    if EngagementAlert.objects.filter(episode=episode, kind=kind, key=key).exists():
        return None
    try:
        with transaction.atomic():
            alert = EngagementAlert.objects.create(
                participant_id=episode.participant_id,
                episode=episode,
                kind=kind,
                key=key[:60],
                message=message[:300],
                raised_on=day,
            )
    except IntegrityError:  # a concurrent worker raised it first
        return None
    audit.record(
        AuditAction.CREATE,
        actor=actor,  # the worker raises most alerts; a check-in's come from who saved it
        obj=alert,
        object_repr=f"{AlertKind(kind).label} alert",
        participant_id=episode.participant_id,
        changes={"kind": kind},
    )
    return alert


def resolve_alert(alert: EngagementAlert, *, actor: Any, note: str) -> EngagementAlert:
    note = note.strip()
    if not note:
        raise AttendanceError("Say what was done (e.g. called, left a message, plan reviewed).")
    with transaction.atomic():
        current = EngagementAlert.objects.select_for_update().get(pk=alert.pk)
        if current.resolved_at is not None:
            raise AttendanceError("This alert was already answered.")
        current.resolved_at = timezone.now()
        current.resolved_by = actor
        current.resolution = note[:500]
        current.save(update_fields=["resolved_at", "resolved_by", "resolution"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            object_repr=f"{current.get_kind_display()} alert",
            changes={"resolved": [False, True]},
            reason=note[:500],
        )
    return current


def sleep_value(raw: Any) -> Decimal | None:
    if raw in (None, ""):
        return None
    return Decimal(str(raw))
