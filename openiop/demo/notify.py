"""The demo's notifications (issue 9, point 4): a few participants' message choices
(texts off, the daily check-in link, later quiet hours, the program's name shown) and an
outbox to read — yesterday afternoon's reminders for today's sessions and this
morning's staff digests, sent; today's front-desk notices for the random selection,
waiting for their time; skipped messages with their reasons; and one text the provider
refused, given up after five tries.

Made by the same jobs the worker runs (`notify.makers`, `notify.digest`), at the demo's
times. Nothing is really sent: the demo marks what "went out" as sent.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db.models import Q

from openiop.notify import digest, makers
from openiop.notify.models import Message, Preference
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Participant


def _choices(rng: random.Random, program: Any) -> list[Participant]:
    active = list(
        Participant.objects.filter(
            program=program, current_episode__status=S.ACTIVE, voided=False
        ).order_by("pk")
    )
    chosen = rng.sample(active, k=min(5, len(active)))
    values: list[dict[str, Any]] = [
        {"sms_on": False},  # a shared phone: email only
        {"check_in_links_on": True},
        {"check_in_links_on": True, "quiet_start": dt.time(22), "quiet_end": dt.time(9, 30)},
        {"show_program_name": True},
        {"sms_on": False, "email_on": False},  # no messages at all
    ]
    for participant, fields in zip(chosen, values, strict=False):
        Preference.objects.create(participant=participant, **fields)
    return chosen


def _mark_sent(messages: Any, at: dt.datetime) -> int:
    return messages.filter(status="queued").update(
        status="sent", sent_at=at, attempts=1, last_attempt_at=at, created_at=at
    )


def build(rng: random.Random, program: Any, staff: dict[str, Any], today: dt.date) -> int:
    """Returns the number of messages in the outbox."""
    tz = program.tz
    _choices(rng, program)
    yesterday_afternoon = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(15), tzinfo=tz)
    makers.session_reminders(yesterday_afternoon)
    reminders = Message.objects.filter(template="session_reminder")
    _mark_sent(reminders, yesterday_afternoon + dt.timedelta(minutes=2))
    reminders.exclude(status="sent").update(created_at=yesterday_afternoon)

    morning = dt.datetime.combine(today, dt.time(6, 30), tzinfo=tz)
    makers.screen_call_ins(morning)
    Message.objects.filter(template="screen_call_in").update(created_at=morning)

    seven = dt.datetime.combine(today, dt.time(7), tzinfo=tz)
    digest.send_digests(today)
    _mark_sent(Message.objects.filter(template="staff_digest"), seven + dt.timedelta(minutes=1))

    # A number the provider refused: tried five times, then given up.
    refused = (
        Message.objects.filter(template="session_reminder", status="sent", channel="sms")
        .order_by("pk")
        .first()
    )
    if refused is not None:
        refused.status = "failed"
        refused.sent_at = None
        refused.attempts = 5
        refused.error = (
            "SmsError: Twilio refused the message (HTTP 400, error 21211: "
            "The 'To' number is not a valid phone number.)"
        )
        refused.save()
    return Message.objects.filter(
        Q(participant__program=program) | Q(staff_user__isnull=False)
    ).count()
