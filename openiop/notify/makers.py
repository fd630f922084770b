"""The jobs' messages: who hears what, when (issue 9, point 4).

Each function takes the moment it runs and, for every program whose local time has
reached the hour it acts from, queues the day's messages. Keys name the kind, the
participant (or episode) and the day, so a second run adds nothing. What a message may
say is in its template (`templates/notify/messages/`); the context given here is what
the template may use, nothing more: no session titles, no instrument names, nothing
about a test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.programs.models import Program

from .choices import Link
from .models import Message, Preference
from .render import program_tz
from .services import notify_participant

# Program-local hours the jobs act from.
REMINDER_HOUR = dt.time(15, 0)  # the afternoon before
CALL_IN_FROM = dt.time(6, 0)  # after the 05:00 draw (screening.daily_draw)
CALL_IN_DEFAULT = dt.time(8, 0)  # when the person has no session that day
CALL_IN_LEAD = dt.timedelta(minutes=60)  # before their first session that day
CHECK_IN_HOUR = dt.time(9, 0)
INSTRUMENTS_HOUR = dt.time(10, 0)


def _programs_at(now: dt.datetime, hour: dt.time) -> list[tuple[Program, dt.date, Any]]:
    """(program, local day, tz) of each program whose local time is past `hour`."""
    out = []
    for program in Program.objects.filter(retired=False).order_by("pk"):
        tz = program_tz(program)
        local = now.astimezone(tz)
        if local.time() >= hour:
            out.append((program, local.date(), tz))
    return out


def _end_of_day(day: dt.date, tz: Any) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


def _in_care(program: Program) -> list[Episode]:
    return list(
        Episode.objects.filter(
            program=program,
            status__in=IN_CARE,
            voided=False,
            participant__voided=False,
        ).select_related("participant", "participant__program")
    )


def _known(keys: list[str]) -> set[str]:
    return set(Message.objects.filter(key__in=keys).values_list("key", flat=True))


def session_reminders(now: dt.datetime) -> dict[str, int]:
    """From 15:00 program time: tomorrow's sessions, one message per participant. A
    telehealth session's join link is included (a link says nothing clinical)."""
    from openiop.scheduling.choices import SessionStatus
    from openiop.scheduling.enrolment import sessions_expected_for

    made = programs = 0
    for program, today, _tz in _programs_at(now, REMINDER_HOUR):
        programs += 1
        tomorrow = today + dt.timedelta(days=1)
        episodes = _in_care(program)
        keys = {ep.pk: f"session_reminder:{ep.participant_id}:{tomorrow}" for ep in episodes}
        known = _known(list(keys.values()))
        todo = [ep for ep in episodes if keys[ep.pk] not in known]
        expected = sessions_expected_for([ep.pk for ep in todo], tomorrow, tomorrow)
        for ep in todo:
            sessions = [
                s
                for s in expected.get(ep.pk, [])
                if s.status != SessionStatus.CANCELLED and s.starts_at > now
            ]
            if not sessions:
                continue
            context = {
                "day": tomorrow,
                "sessions": [
                    {
                        "start": s.starts_at,
                        "join_link": s.join_link if s.modality != "in_person" else "",
                    }
                    for s in sessions
                ],
            }
            message = notify_participant(
                ep.participant,
                "session_reminder",
                context,
                key=keys[ep.pk],
                send_after=now,  # the job's time, not the wall clock (tests run jobs at set hours)
                stale_after=sessions[0].starts_at,
            )
            made += message is not None
    return {"programs": programs, "messages": made}


def screen_call_ins(now: dt.datetime) -> dict[str, int]:
    """The morning of a random selection (after the draw): "please stop at the front
    desk when you arrive today", nothing about a test. DOMAIN.md §5.6: notify only at
    collection time, so the notice goes an hour before the person's first session that
    day (08:00 when they have none), not earlier; it lapses at the day's end."""
    from openiop.scheduling.choices import SessionStatus
    from openiop.scheduling.enrolment import sessions_expected_for
    from openiop.screening.choices import OrderReason, OrderStatus
    from openiop.screening.models import Order

    made = programs = 0
    for program, today, tz in _programs_at(now, CALL_IN_FROM):
        programs += 1
        orders = list(
            Order.objects.filter(
                program=program,
                day=today,
                reason=OrderReason.RANDOM,
                status=OrderStatus.OPEN,
                voided=False,
                participant__voided=False,
            ).select_related("participant", "participant__program")
        )
        keys = {o.pk: f"screen_call_in:{o.participant_id}:{today}" for o in orders}
        known = _known(list(keys.values()))
        todo = [o for o in orders if keys[o.pk] not in known]
        expected = sessions_expected_for([o.episode_id for o in todo], today, today)
        for order in todo:
            starts = [
                s.starts_at
                for s in expected.get(order.episode_id, [])
                if s.status != SessionStatus.CANCELLED
            ]
            at = (
                min(starts) - CALL_IN_LEAD
                if starts
                else dt.datetime.combine(today, CALL_IN_DEFAULT, tzinfo=tz)
            )
            message = notify_participant(
                order.participant,
                "screen_call_in",
                key=keys[order.pk],
                send_after=max(at, now),
                stale_after=_end_of_day(today, tz),
            )
            made += message is not None
    return {"programs": programs, "messages": made}


def check_in_links(now: dt.datetime) -> dict[str, int]:
    """From 09:00 program time: a one-tap check-in link for each participant in care who
    turned "daily check-in link" on."""
    made = programs = 0
    chose = set(
        Preference.objects.filter(check_in_links_on=True).values_list("participant_id", flat=True)
    )
    for program, today, tz in _programs_at(now, CHECK_IN_HOUR):
        programs += 1
        episodes = [ep for ep in _in_care(program) if ep.participant_id in chose]
        keys = {ep.pk: f"check_in_link:{ep.participant_id}:{today}" for ep in episodes}
        known = _known(list(keys.values()))
        for ep in episodes:
            if keys[ep.pk] in known:
                continue
            message = notify_participant(
                ep.participant,
                "check_in_link",
                {"one_tap": Link.CHECK_IN, "day": today},
                key=keys[ep.pk],
                send_after=now,  # the job's time, not the wall clock (tests run jobs at set hours)
                stale_after=_end_of_day(today, tz),
            )
            made += message is not None
    return {"programs": programs, "messages": made}


def instruments_due(now: dt.datetime) -> dict[str, int]:
    """From 10:00 program time: a one-tap link for each routine questionnaire that falls
    due today (one message per instrument and due date; never its name)."""
    from openiop.instruments.due import due_for

    made = programs = 0
    for program, today, tz in _programs_at(now, INSTRUMENTS_HOUR):
        programs += 1
        due = [d for d in due_for(_in_care(program), soon_days=0) if d.due_on == today]
        by_key: dict[str, Any] = {}
        for d in due:
            by_key[f"instrument_due:{d.episode.pk}:{d.instrument.code}:{d.due_on}"] = d
        known = _known(list(by_key))
        for key, d in by_key.items():
            if key in known:
                continue
            message = notify_participant(
                d.episode.participant,
                "instrument_due",
                {"one_tap": Link.INSTRUMENT, "instrument_code": d.instrument.code, "day": today},
                key=key,
                send_after=now,  # the job's time, not the wall clock (tests run jobs at set hours)
                stale_after=_end_of_day(today, tz),
            )
            made += message is not None
    return {"programs": programs, "messages": made}
