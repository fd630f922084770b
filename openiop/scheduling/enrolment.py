"""Rolling enrolment: who is expected at a track's sessions on a day.

Groups are open: people join and leave every week. The roster of a session is never
stored on the session; it is everyone whose enrolment on the track covers the session's
day, plus anyone booked into it. So no session is recreated when the roster changes, and
a track change ends one enrolment and starts another, keeping the history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.choices import IN_CARE

from .choices import BookingStatus
from .models import Booking, Enrolment, Session


def sync_enrolment(episode: Any, actor: Any, effective_date: dt.date) -> None:
    """Make the episode's open enrolment match its status and track (an episode hook).

    In care (admitted or active) with a track: enrolled on that track from the effective
    day, never before admission. Otherwise (discharged, no track): the open enrolment ends.
    """
    current = Enrolment.objects.select_for_update().filter(episode=episode, end_date=None).first()
    wanted = episode.track_id if episode.status in IN_CARE and not episode.voided else None
    if current is not None and current.track_id == wanted:
        return
    if current is not None:
        # A discharge ends on its own day (the participant may attend it); a track change
        # ends the old track the day before the new one starts.
        last = effective_date if wanted is None else effective_date - dt.timedelta(days=1)
        if episode.discharge_date and wanted is None:
            last = episode.discharge_date
        current.end_date = max(last, current.start_date - dt.timedelta(days=1))
        current.ended_at = timezone.now()
        current.ended_by = actor if getattr(actor, "pk", None) else None
        current.save(update_fields=["end_date", "ended_at", "ended_by"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            object_type="scheduling.enrolment",
            participant_id=episode.participant_id,
            changes={"end_date": [None, current.end_date.isoformat()]},
        )
    if wanted is not None:
        start = effective_date
        if episode.admission_date and start < episode.admission_date:
            start = episode.admission_date
        enrolment = Enrolment.objects.create(episode=episode, track_id=wanted, start_date=start)
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=enrolment,
            object_type="scheduling.enrolment",
            participant_id=episode.participant_id,
            changes={"track": [None, wanted], "start_date": [None, start.isoformat()]},
        )


def enrolments_for_tracks(
    track_ids: Iterable[int], first: dt.date, last: dt.date
) -> dict[int, list[Enrolment]]:
    """Enrolments on these tracks overlapping [first, last], by track, with their episode
    and participant (one query)."""
    ids = list(set(track_ids))
    if not ids:
        return {}
    rows = (
        Enrolment.objects.filter(track_id__in=ids, start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .filter(episode__voided=False, episode__participant__voided=False)
        .select_related("episode__participant", "episode__primary_counsellor")
        .order_by("episode__participant__legal_last_name", "episode__participant__legal_first_name")
    )
    out: dict[int, list[Enrolment]] = defaultdict(list)
    for row in rows:
        if row.end_date is None or row.end_date >= row.start_date:
            out[row.track_id].append(row)
    return out


def bookings_for_sessions(session_ids: Iterable[int]) -> dict[int, list[Booking]]:
    rows = (
        Booking.objects.filter(
            session_id__in=list(session_ids), status=BookingStatus.BOOKED, voided=False
        )
        .filter(episode__voided=False, episode__participant__voided=False)
        .select_related("episode__participant", "episode__primary_counsellor")
    )
    out: dict[int, list[Booking]] = defaultdict(list)
    for row in rows:
        out[row.session_id].append(row)
    return out


def expected_episodes(
    session: Session,
    enrolments: dict[int, list[Enrolment]],
    bookings: dict[int, list[Booking]],
) -> list[Any]:
    """Episodes expected at a session: the track's enrolled on that day, then bookings."""
    seen: dict[int, Any] = {}
    if session.track_id and session.kind == "group":
        for enrolment in enrolments.get(session.track_id, []):
            if enrolment.covers(session.date):
                seen.setdefault(enrolment.episode_id, enrolment.episode)
    for booking in bookings.get(session.pk, []):
        seen.setdefault(booking.episode_id, booking.episode)
    return list(seen.values())


def expected_count(
    session: Session,
    enrolments: dict[int, list[Enrolment]],
    bookings: dict[int, list[Booking]],
) -> int:
    return len(expected_episodes(session, enrolments, bookings))


def sessions_expected_for(
    episode_ids: Iterable[int], first: dt.date, last: dt.date
) -> dict[int, list[Session]]:
    """For each episode, the scheduled sessions it is expected at in [first, last]
    (through its enrolments and its bookings). Two queries plus one for the sessions."""
    ids = list(set(episode_ids))
    enrolments = list(
        Enrolment.objects.filter(episode_id__in=ids, start_date__lte=last).filter(
            Q(end_date__isnull=True) | Q(end_date__gte=first)
        )
    )
    booked = list(
        Booking.objects.filter(
            episode_id__in=ids, status=BookingStatus.BOOKED, voided=False
        ).filter(session__date__gte=first, session__date__lte=last)
    )
    track_ids = {e.track_id for e in enrolments}
    session_ids = {b.session_id for b in booked}
    sessions = list(
        Session.objects.filter(voided=False)
        .filter(
            Q(track_id__in=track_ids, kind="group", date__gte=first, date__lte=last)
            | Q(pk__in=session_ids)
        )
        .select_related("program__site", "room", "facilitator", "topic", "track", "session_type")
        .order_by("starts_at", "pk")
    )
    by_track: dict[int, list[Enrolment]] = defaultdict(list)
    for e in enrolments:
        by_track[e.track_id].append(e)
    booked_by_session: dict[int, set[int]] = defaultdict(set)
    for b in booked:
        booked_by_session[b.session_id].add(b.episode_id)
    out: dict[int, list[Session]] = {i: [] for i in ids}
    for s in sessions:
        for episode_id in ids:
            on_track = s.kind == "group" and any(
                e.episode_id == episode_id and e.covers(s.date)
                for e in by_track.get(s.track_id or 0, [])
            )
            if on_track or episode_id in booked_by_session.get(s.pk, set()):
                out[episode_id].append(s)
    return out
