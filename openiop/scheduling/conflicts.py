"""Double bookings: a facilitator, a room or a participant in two places at once, and
groups past their capacity. Each conflict names what clashes, so staff can fix it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .choices import SessionStatus
from .models import Session


@dataclass(frozen=True)
class Conflict:
    kind: str  # facilitator, room, participant, capacity
    message: str


class Refused(Exception):
    """A booking or session refused; `conflicts` say why."""

    def __init__(self, conflicts: list[Conflict]):
        self.conflicts = conflicts
        super().__init__(" ".join(c.message for c in conflicts))


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime):
    """Half-open intervals: a session ending at 12:00 does not clash with one at 12:00."""
    return a_start < b_end and b_start < a_end


def _when(session: Session) -> str:
    start, end = session.local_start(), session.local_end()
    return f"{start:%a %b %-d} {start:%H:%M}–{end:%H:%M}"


def _clashing(starts_at: dt.datetime, ends_at: dt.datetime, exclude: int | None):
    qs = Session.objects.filter(
        status=SessionStatus.SCHEDULED, voided=False, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).select_related("program", "facilitator", "room")
    if exclude:
        qs = qs.exclude(pk=exclude)
    return qs


def resource_conflicts(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    facilitator: Any = None,
    room: Any = None,
    exclude: int | None = None,
) -> list[Conflict]:
    """The facilitator or the room already booked at an overlapping time."""
    if facilitator is None and room is None:
        return []
    cond = Q()
    if facilitator is not None:
        cond |= Q(facilitator=facilitator)
    if room is not None:
        cond |= Q(room=room)
    out = []
    for other in _clashing(starts_at, ends_at, exclude).filter(cond):
        if facilitator is not None and other.facilitator_id == facilitator.pk:
            out.append(
                Conflict(
                    "facilitator",
                    f"{facilitator.display_name} already facilitates “{other.title}” "
                    f"on {_when(other)}.",
                )
            )
        if room is not None and other.room_id == room.pk:
            out.append(
                Conflict(
                    "room",
                    f"Room {room.name} is already booked for “{other.title}” "
                    f"on {_when(other)}.",
                )
            )
    return out


def participant_conflicts(
    episode: Any, *, starts_at: dt.datetime, ends_at: dt.datetime, exclude: int | None = None
) -> list[Conflict]:
    """The participant already expected elsewhere at an overlapping time."""
    from .enrolment import sessions_expected_for

    local_day = starts_at.astimezone(episode.program.tz).date()
    expected = sessions_expected_for([episode.pk], local_day, local_day).get(episode.pk, [])
    name = episode.participant.display_name
    return [
        Conflict("participant", f"{name} is already expected at “{s.title}” on {_when(s)}.")
        for s in expected
        if s.pk != exclude
        and s.status == SessionStatus.SCHEDULED
        and overlaps(starts_at, ends_at, s.starts_at, s.ends_at)
    ]


def capacity_conflict(session: Session, expected: int, adding: int = 1) -> Conflict | None:
    limit = session.effective_capacity
    if limit is None or expected + adding <= limit:
        return None
    return Conflict(
        "capacity",
        f"“{session.title}” on {_when(session)} is full: {expected} expected, "
        f"capacity {limit}. Give a reason to book past capacity.",
    )
