"""iCalendar (RFC 5545) feeds for a staff member's or a participant's sessions.

A feed is read by calendar apps outside the clinic's control, so events carry no clinical
detail: no participant names, no topics, no session types that name a diagnosis, no
program name — only a neutral title, the time, the place and a join link.
"""

from __future__ import annotations

import datetime as dt

import icalendar
from django.db.models import Q
from django.utils import timezone

from .choices import SessionKind, SessionStatus
from .enrolment import sessions_expected_for
from .models import FeedToken, Session

PAST_DAYS = 28
FUTURE_DAYS = 90

# Neutral titles: what the event is, not what it treats.
TITLES: dict[str, str] = {
    SessionKind.GROUP: "Group session",
    SessionKind.INDIVIDUAL: "Appointment",
    SessionKind.FAMILY: "Family appointment",
    SessionKind.FAMILY_WORKSHOP: "Family workshop",
}


def _event(session: Session, host: str) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", f"session-{session.uuid}@{host}")
    event.add("dtstamp", session.updated_at)
    event.add("dtstart", session.starts_at)
    event.add("dtend", session.ends_at)
    event.add("summary", TITLES.get(session.kind, "Appointment"))
    if session.status == SessionStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    place = []
    if session.room_id and session.room:
        # The site's address, never its name: a clinic's name ("Harbor Light Recovery
        # Center", or the program's own) tells whoever sees the calendar what the visit is.
        address = session.program.site.address.strip()
        room = f"room {session.room.name}"
        place.append(f"{address}, {room}" if address else room[0].upper() + room[1:])
    if session.join_link:
        place.append(session.join_link)
        event.add("url", session.join_link)
    if place:
        event.add("location", " / ".join(place))
    event.add("sequence", session.version)
    return event


def _window(feed: FeedToken) -> tuple[dt.datetime, dt.datetime]:
    now = timezone.now()
    return now - dt.timedelta(days=PAST_DAYS), now + dt.timedelta(days=FUTURE_DAYS)


def sessions_for_feed(feed: FeedToken) -> list[Session]:
    start, end = _window(feed)
    if feed.user_id:
        return list(
            Session.objects.filter(
                Q(facilitator_id=feed.user_id),
                voided=False,
                starts_at__gte=start,
                starts_at__lte=end,
            ).select_related("program__site", "room")
        )
    participant = feed.participant
    episode_id = participant.current_episode_id if participant else None
    if episode_id is None:
        return []
    first, last = start.date(), end.date()
    return sessions_expected_for([episode_id], first, last).get(episode_id, [])


def feed_for(feed: FeedToken, host: str = "openiop") -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//OpenIOP//Schedule//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "My schedule")
    for session in sessions_for_feed(feed):
        cal.add_component(_event(session, host))
    return cal.to_ical()
