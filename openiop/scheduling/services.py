"""Every write to the schedule. Atomic, audited, and refused with reasons that name the
conflict. Views, the demo, the worker and tests all come through here."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from . import recurrence
from .choices import APPOINTMENT_KINDS, BookingReason, BookingStatus, SessionKind, SessionStatus
from .conflicts import (
    Conflict,
    Refused,
    capacity_conflict,
    participant_conflicts,
    resource_conflicts,
)
from .enrolment import bookings_for_sessions, enrolments_for_tracks, expected_count
from .models import (
    Booking,
    Closure,
    CurriculumItem,
    FeedToken,
    Session,
    TemplateSlot,
    TopicAssignment,
)

# A generation request is capped so a typo in a year cannot make thousands of sessions.
MAX_GENERATE_DAYS = 366


class ScheduleError(Exception):
    """A request the schedule cannot carry out; the message says why."""


# ---------------------------------------------------------------- curriculum


def curriculum_for(track: Any, program: Any = None) -> list[Any]:
    """The track's topics in order: its own curriculum, else the program's topics.
    `program` (the track's, when the caller has it) saves a query."""
    items = list(
        CurriculumItem.objects.filter(track=track, topic__retired=False)
        .select_related("topic")
        .order_by("position")
    )
    if items:
        return [i.topic for i in items]
    program = program if program is not None else track.program
    return list(program.topics.filter(retired=False).order_by("sequence", "title"))


def set_curriculum(track: Any, topics: list[Any], *, actor: Any) -> None:
    """Replace the track's curriculum order (ordered topics of the track's program)."""
    if any(t.program_id != track.program_id for t in topics):
        raise ScheduleError("Every topic must belong to the track's program.")
    if len({t.pk for t in topics}) != len(topics):
        raise ScheduleError("A topic can appear only once in a track's curriculum.")
    with transaction.atomic():
        before = list(
            CurriculumItem.objects.filter(track=track)
            .order_by("position")
            .values_list("topic_id", flat=True)
        )
        CurriculumItem.objects.filter(track=track).delete()
        CurriculumItem.objects.bulk_create(
            CurriculumItem(track=track, topic=t, position=i) for i, t in enumerate(topics, 1)
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=track,
            changes={"curriculum": [before, [t.pk for t in topics]]},
        )


def _last_curriculum_topic(track: Any, before: dt.date) -> int | None:
    last = (
        Session.objects.filter(
            track=track, from_curriculum=True, date__lt=before, voided=False, topic__isnull=False
        )
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("-starts_at")
        .values_list("topic_id", flat=True)
        .first()
    )
    return last


# ---------------------------------------------------------------- generation


@dataclass
class Generated:
    created: list[Session] = field(default_factory=list)
    existing: int = 0
    closed_days: list[dt.date] = field(default_factory=list)


def generate(track: Any, first: dt.date, last: dt.date, *, actor: Any) -> Generated:
    """Create the track's sessions for [first, last] from its weekly template.

    Closure days are skipped; a slot-day that already has a session is left alone (never
    recreated, so attendance and notes stay attached). A facilitator or room clash refuses
    the whole request with every clash named; nothing is half-made.
    """
    if last < first:
        raise ScheduleError("The end date is before the start date.")
    if (last - first).days >= MAX_GENERATE_DAYS:
        raise ScheduleError(f"Generate at most {MAX_GENERATE_DAYS} days at a time.")
    program = track.program
    slots = list(
        TemplateSlot.objects.filter(track=track, retired=False).select_related(
            "session_type", "facilitator", "room", "topic"
        )
    )
    if not slots:
        raise ScheduleError(f"The track “{track}” has no weekly template yet: add its sessions.")
    closures = list(
        Closure.objects.filter(
            program=program, retired=False, last_day__gte=first, first_day__lte=last
        ).values_list("first_day", "last_day")
    )
    is_closed = recurrence.closure_checker(closures)
    by_key: dict[Any, TemplateSlot] = {s.pk: s for s in slots}
    specs = [recurrence.SlotSpec(s.pk, s.weekday, s.start_time, s.end_time) for s in slots]
    result = Generated()
    day = first
    while day <= last:
        if is_closed(day) and day.weekday() in {s.weekday for s in slots}:
            result.closed_days.append(day)
        day += dt.timedelta(days=1)
    with transaction.atomic():
        existing = set(
            Session.objects.filter(
                template_slot__in=slots, date__gte=first, date__lte=last
            ).values_list("template_slot_id", "date")
        )
        result.existing = len(existing)
        todo = [
            occ
            for occ in recurrence.occurrences(specs, first, last, program.tz, closed=is_closed)
            if (occ.key, occ.day) not in existing
        ]
        conflicts: list[Conflict] = []
        planned: list[tuple[TemplateSlot, recurrence.Occurrence]] = []
        for occ in todo:
            slot = by_key[occ.key]
            found = resource_conflicts(
                starts_at=occ.starts_at,
                ends_at=occ.ends_at,
                facilitator=slot.facilitator,
                room=slot.room,
            )
            for other_slot, other in planned:
                if recurrence_overlap(occ, other):
                    if (
                        slot.facilitator is not None
                        and slot.facilitator_id == other_slot.facilitator_id
                    ):
                        found.append(
                            Conflict(
                                "facilitator",
                                f"{slot.facilitator.display_name} would facilitate two "
                                f"sessions at once on {occ.day:%a %b %-d}.",
                            )
                        )
                    if slot.room is not None and slot.room_id == other_slot.room_id:
                        found.append(
                            Conflict(
                                "room",
                                f"Room {slot.room.name} would hold two sessions at once "
                                f"on {occ.day:%a %b %-d}.",
                            )
                        )
            conflicts.extend(found)
            planned.append((slot, occ))
        if conflicts:
            raise Refused(conflicts)
        curriculum = curriculum_for(track)
        positions = {t.pk: i for i, t in enumerate(curriculum)}
        last_topic = _last_curriculum_topic(track, first)
        cursor = positions.get(last_topic, -1) if last_topic else -1
        for occ in todo:
            slot = by_key[occ.key]
            topic = slot.topic
            from_curriculum = False
            if slot.uses_curriculum and curriculum:
                cursor = (cursor + 1) % len(curriculum)
                topic = curriculum[cursor]
                from_curriculum = True
            session = Session.objects.create(
                program=program,
                track=track,
                template_slot=slot,
                kind=SessionKind.GROUP,
                session_type=slot.session_type,
                title=slot.title or slot.session_type.name,
                date=occ.day,
                starts_at=occ.starts_at,
                ends_at=occ.ends_at,
                facilitator=slot.facilitator,
                room=slot.room,
                modality=slot.modality,
                join_link=slot.join_link,
                capacity=slot.capacity,
                topic=topic,
                from_curriculum=from_curriculum,
                created_by=actor,
                updated_by=actor,
            )
            result.created.append(session)
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                obj=session,
                changes={"date": occ.day.isoformat(), "slot": slot.pk},
            )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=track,
            object_type="scheduling.generate",
            changes={
                "first": first.isoformat(),
                "last": last.isoformat(),
                "created": len(result.created),
                "existing": result.existing,
            },
        )
    return result


def recurrence_overlap(a: recurrence.Occurrence, b: recurrence.Occurrence) -> bool:
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


# ---------------------------------------------------------------- one-off sessions


@dataclass(frozen=True)
class SessionInput:
    program: Any
    session_type: Any
    kind: str
    title: str
    day: dt.date
    start: dt.time
    end: dt.time
    facilitator: Any = None
    room: Any = None
    modality: str = "in_person"
    join_link: str = ""
    capacity: int | None = None
    track: Any = None
    topic: Any = None


def create_session(
    data: SessionInput,
    *,
    actor: Any,
    episodes: list[Any] | None = None,
    capacity_override: str = "",
) -> Session:
    """A one-off group session, or an individual or family appointment with its
    participant(s) booked. Refused (nothing saved) on any clash."""
    tz = data.program.tz
    starts_at = recurrence.local_to_utc(data.day, data.start, tz)
    ends_at = recurrence.local_to_utc(data.day, data.end, tz)
    if ends_at <= starts_at:
        raise ScheduleError("The end time must be after the start time.")
    episodes = episodes or []
    if data.kind in APPOINTMENT_KINDS and not episodes:
        raise ScheduleError("An appointment needs the participant it is for.")
    with transaction.atomic():
        conflicts = resource_conflicts(
            starts_at=starts_at, ends_at=ends_at, facilitator=data.facilitator, room=data.room
        )
        for episode in episodes:
            conflicts += participant_conflicts(episode, starts_at=starts_at, ends_at=ends_at)
        limit = data.capacity or (data.room.capacity if data.room else None)
        if limit is not None and len(episodes) > limit and not capacity_override.strip():
            conflicts.append(
                Conflict(
                    "capacity",
                    f"{len(episodes)} people are more than the capacity of {limit}. "
                    "Give a reason to book past capacity.",
                )
            )
        if conflicts:
            raise Refused(conflicts)
        session = Session.objects.create(
            program=data.program,
            track=data.track,
            kind=data.kind,
            session_type=data.session_type,
            title=data.title or data.session_type.name,
            date=data.day,
            starts_at=starts_at,
            ends_at=ends_at,
            facilitator=data.facilitator,
            room=data.room,
            modality=data.modality,
            join_link=data.join_link,
            capacity=data.capacity,
            topic=data.topic,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=session,
            changes={"kind": data.kind, "date": data.day.isoformat(), "title": session.title},
        )
        for episode in episodes:
            _book(session, episode, BookingReason.APPOINTMENT, actor, capacity_override)
    return session


# ---------------------------------------------------------------- rescheduling


RESCHEDULE_FIELDS = [
    "title",
    "date",
    "starts_at",
    "ends_at",
    "facilitator",
    "room",
    "modality",
    "join_link",
    "capacity",
]


def reschedule(
    session: Session,
    data: SessionInput,
    *,
    actor: Any,
    expected_version: int,
    capacity_override: str = "",
) -> Session:
    """Change one session's day, times, facilitator, room, mode, link or capacity, with
    the same clash checks as booking. A generated group session keeps its day (moving it
    would let the template make it again): cancel it and add a one-off instead."""
    from openiop.core.records import lock_for_edit, save_change

    tz = data.program.tz
    starts_at = recurrence.local_to_utc(data.day, data.start, tz)
    ends_at = recurrence.local_to_utc(data.day, data.end, tz)
    if ends_at <= starts_at:
        raise ScheduleError("The end time must be after the start time.")
    with transaction.atomic():
        current = lock_for_edit(Session, session.pk, expected_version, what="session")
        if current.status == SessionStatus.CANCELLED:
            raise ScheduleError("This session is cancelled; add a new one instead.")
        if current.attendance_taken_at is not None:
            raise ScheduleError("Attendance was taken for this session: it took place as it was.")
        if current.template_slot_id and data.day != current.date:
            raise ScheduleError(
                "A session made from the weekly template stays on its day. To move it, "
                "cancel it and add a one-off session on the new day."
            )
        conflicts = resource_conflicts(
            starts_at=starts_at,
            ends_at=ends_at,
            facilitator=data.facilitator,
            room=data.room,
            exclude=current.pk,
        )
        bookings = bookings_for_sessions([current.pk]).get(current.pk, [])
        for booking in bookings:
            conflicts += participant_conflicts(
                booking.episode, starts_at=starts_at, ends_at=ends_at, exclude=current.pk
            )
        limit = data.capacity or (data.room.capacity if data.room else None)
        expected = expected_count(
            current,
            enrolments_for_tracks([current.track_id or 0], data.day, data.day),
            {current.pk: bookings},
        )
        if limit is not None and expected > limit and not capacity_override.strip():
            conflicts.append(
                Conflict(
                    "capacity",
                    f"{expected} people are expected, more than the capacity of {limit}. "
                    "Give a reason to go past capacity.",
                )
            )
        if conflicts:
            raise Refused(conflicts)
        before = audit.snapshot(current, RESCHEDULE_FIELDS)
        current.title = data.title or current.title
        current.date = data.day
        current.starts_at, current.ends_at = starts_at, ends_at
        current.facilitator = data.facilitator
        current.room = data.room
        current.modality = data.modality
        current.join_link = data.join_link
        current.capacity = data.capacity
        delta = audit.diff(before, audit.snapshot(current, RESCHEDULE_FIELDS))
        save_change(current, actor=actor, fields=RESCHEDULE_FIELDS, changes=delta)
    return current


# ---------------------------------------------------------------- bookings


def _book(session: Session, episode: Any, reason: str, actor: Any, override: str) -> Booking:
    booking = Booking.objects.create(
        session=session,
        episode=episode,
        reason=reason,
        capacity_override=override.strip()[:300],
        created_by=actor,
        updated_by=actor,
    )
    audit.record(
        AuditAction.CREATE,
        actor=actor,
        obj=booking,
        participant_id=episode.participant_id,
        changes={"session": session.pk, "reason": reason},
        reason=override.strip(),
    )
    return booking


def book(
    session: Session,
    episode: Any,
    *,
    reason: str,
    actor: Any,
    capacity_override: str = "",
) -> Booking:
    """Add a participant to a session (make-up, walk-in, extra). Refused if they are
    already expected, elsewhere at the time, or the group is full without a reason."""
    with transaction.atomic():
        # of=("self",): the room is nullable (an outer join), which PostgreSQL cannot lock.
        locked = (
            Session.objects.select_for_update(of=("self",))
            .select_related("program", "room")
            .get(pk=session.pk)
        )
        if locked.status != SessionStatus.SCHEDULED or locked.voided:
            raise ScheduleError("This session is cancelled; nobody can be booked into it.")
        if episode.status not in ("admitted", "active"):
            raise ScheduleError("Only participants admitted to the program can be booked.")
        if episode.program_id != locked.program_id:
            raise ScheduleError("The participant is in another program.")
        enrolments = enrolments_for_tracks([locked.track_id or 0], locked.date, locked.date)
        bookings = bookings_for_sessions([locked.pk])
        from .enrolment import expected_episodes

        expected = expected_episodes(locked, enrolments, bookings)
        if any(e.pk == episode.pk for e in expected):
            raise ScheduleError(
                f"{episode.participant.display_name} is already expected at this session."
            )
        conflicts = participant_conflicts(
            episode, starts_at=locked.starts_at, ends_at=locked.ends_at, exclude=locked.pk
        )
        over = capacity_conflict(locked, len(expected))
        if over and not capacity_override.strip():
            conflicts.append(over)
        if conflicts:
            raise Refused(conflicts)
        return _book(locked, episode, reason, actor, capacity_override if over else "")


def cancel_booking(booking: Booking, *, actor: Any, reason: str) -> Booking:
    if not reason.strip():
        raise ScheduleError("Say why the booking is cancelled.")
    with transaction.atomic():
        current = Booking.objects.select_for_update().get(pk=booking.pk)
        if current.status == BookingStatus.CANCELLED:
            raise ScheduleError("This booking is already cancelled.")
        current.status = BookingStatus.CANCELLED
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(update_fields=["status", "version", "updated_by", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            participant_id=current.episode.participant_id,
            changes={"status": [BookingStatus.BOOKED, BookingStatus.CANCELLED]},
            reason=reason.strip(),
        )
    return current


# ---------------------------------------------------------------- changes to a session


def cancel_session(session: Session, *, actor: Any, reason: str) -> Session:
    reason = reason.strip()
    if not reason:
        raise ScheduleError("Say why the session is cancelled; participants will ask.")
    with transaction.atomic():
        current = Session.objects.select_for_update().get(pk=session.pk)
        if current.status == SessionStatus.CANCELLED:
            raise ScheduleError("This session is already cancelled.")
        if current.attendance_taken_at is not None:
            raise ScheduleError(
                "Attendance was taken for this session, so it took place: it cannot be "
                "cancelled."
            )
        current.status = SessionStatus.CANCELLED
        current.cancel_reason = reason[:300]
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(
            update_fields=["status", "cancel_reason", "version", "updated_by", "updated_at"]
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"status": [SessionStatus.SCHEDULED, SessionStatus.CANCELLED]},
            reason=reason,
        )
    return current


def set_topic(session: Session, topic: Any, *, actor: Any, expected_version: int) -> Session:
    """Record the topic actually covered (the facilitator may swap the planned one)."""
    from openiop.core.records import lock_for_edit, save_change

    with transaction.atomic():
        current = lock_for_edit(Session, session.pk, expected_version, what="session")
        if topic is not None and topic.program_id != current.program_id:
            raise ScheduleError("The topic belongs to another program.")
        before = current.topic_id
        current.topic = topic
        save_change(
            current,
            actor=actor,
            fields=["topic"],
            changes={"topic": [before, topic.pk if topic else None]}
            if before != (topic.pk if topic else None)
            else {},
        )
    return current


# ---------------------------------------------------------------- closures


def add_closure(
    program: Any, *, first_day: dt.date, last_day: dt.date, reason: str, actor: Any
) -> tuple[Closure, int]:
    """Close the program for days; scheduled sessions on them without attendance are
    cancelled with the closure's reason. Returns the closure and how many were cancelled."""
    reason = reason.strip()
    if not reason:
        raise ScheduleError("Name the closure (e.g. Thanksgiving).")
    if last_day < first_day:
        raise ScheduleError("The last day is before the first day.")
    if (last_day - first_day).days > 92:
        raise ScheduleError("A closure can last at most 93 days.")
    with transaction.atomic():
        closure = Closure.objects.create(
            program=program, first_day=first_day, last_day=last_day, reason=reason[:120]
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=closure,
            object_repr=str(closure)[:200],
            changes={"first_day": first_day.isoformat(), "last_day": last_day.isoformat()},
        )
        cancelled = 0
        for session in Session.objects.filter(
            program=program,
            date__gte=first_day,
            date__lte=last_day,
            status=SessionStatus.SCHEDULED,
            attendance_taken_at__isnull=True,
            voided=False,
        ):
            cancel_session(session, actor=actor, reason=f"Program closed: {reason}")
            cancelled += 1
    return closure, cancelled


def remove_closure(closure: Closure, *, actor: Any) -> Closure:
    """Reopen the days (the closure is retired, not deleted). Cancelled sessions stay
    cancelled; generate the range again to schedule the days."""
    with transaction.atomic():
        current = Closure.objects.select_for_update().get(pk=closure.pk)
        if current.retired:
            raise ScheduleError("This closure was already removed.")
        current.retired = True
        current.retired_at = timezone.now()
        current.save(update_fields=["retired", "retired_at"])
        audit.record(AuditAction.CHANGE, actor=actor, obj=current, changes={"retired": [0, 1]})
    return current


# ---------------------------------------------------------------- topic work


def assign_topic(episode: Any, topic: Any, *, actor: Any, today: dt.date) -> TopicAssignment:
    if topic.program_id != episode.program_id:
        raise ScheduleError("The topic belongs to another program.")
    with transaction.atomic():
        if TopicAssignment.objects.filter(episode=episode, topic=topic, voided=False).exists():
            raise ScheduleError("This topic is already assigned as individual work.")
        assignment = TopicAssignment.objects.create(
            episode=episode, topic=topic, assigned_on=today, created_by=actor, updated_by=actor
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=assignment,
            participant_id=episode.participant_id,
            changes={"topic": topic.pk},
        )
    return assignment


def complete_assignment(assignment: TopicAssignment, *, actor: Any, day: dt.date) -> None:
    with transaction.atomic():
        current = TopicAssignment.objects.select_for_update().get(pk=assignment.pk)
        if current.completed_on is not None:
            raise ScheduleError("This work is already marked done.")
        current.completed_on = day
        current.version += 1
        current.updated_by = actor
        current.save(update_fields=["completed_on", "version", "updated_by"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            participant_id=current.episode.participant_id,
            changes={"completed_on": [None, day.isoformat()]},
        )


# ---------------------------------------------------------------- calendar feeds


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed(*, actor: Any, user: Any = None, participant: Any = None) -> str:
    """A new secret feed link for a staff member or a participant; earlier links of the
    same owner are revoked. Returns the secret (shown once; only its hash is kept)."""
    if (user is None) == (participant is None):
        raise ValueError("A feed belongs to one staff member or one participant.")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        owner = {"user": user} if user is not None else {"participant": participant}
        for old in FeedToken.objects.select_for_update().filter(revoked_at=None, **owner):
            _revoke(old, actor)
        feed = FeedToken.objects.create(
            token_hash=_hash(token), hint=token[:6], created_by=actor, **owner
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=feed,
            object_repr=str(feed),
            participant_id=participant.pk if participant is not None else None,
        )
    return token


def _revoke(feed: FeedToken, actor: Any) -> None:
    feed.revoked_at = timezone.now()
    feed.revoked_by = actor
    feed.save(update_fields=["revoked_at", "revoked_by"])
    audit.record(
        AuditAction.CHANGE,
        actor=actor,
        obj=feed,
        object_repr=str(feed),
        participant_id=feed.participant_id,
        changes={"revoked": [False, True]},
    )


def revoke_feed(feed: FeedToken, *, actor: Any) -> None:
    with transaction.atomic():
        current = FeedToken.objects.select_for_update().get(pk=feed.pk)
        if current.revoked_at is not None:
            raise ScheduleError("This link was already revoked.")
        _revoke(current, actor)


def resolve_feed(token: str) -> FeedToken | None:
    """The active feed for a secret, or None (unknown or revoked: the caller answers 404)."""
    if not token or len(token) > 100:
        return None
    feed = (
        FeedToken.objects.filter(token_hash=_hash(token), revoked_at=None)
        .select_related("user", "participant")
        .first()
    )
    if feed is not None:
        FeedToken.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    return feed
