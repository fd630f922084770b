"""Worker jobs of notifications: send what is due, and make the day's messages.

The message-making jobs run every half hour and act for each program once its local
time has reached the hour below (programs may sit in different time zones). Each
message has a key (kind, person, day), so running again — or on two workers — makes
nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from openiop.core.worker import Daily, Every, register_job

from . import delivery, digest, makers


@register_job("notify.deliver", Every(minutes=5))
def deliver_job(period: str) -> str:
    """Send due messages (held in quiet hours; retried after a provider error)."""
    counts = delivery.deliver_due()
    return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing due"


def _summary(made: dict[str, Any]) -> str:
    return f"{made['messages']} messages for {made['programs']} programs"


@register_job("notify.session_reminders", Every(minutes=30))
def session_reminders_job(period: str) -> str:
    """The afternoon before: remind participants of the next day's sessions."""
    return _summary(makers.session_reminders(timezone.now()))


@register_job("notify.screen_call_ins", Every(minutes=30))
def screen_call_ins_job(period: str) -> str:
    """The day of a random selection: ask the person to stop at the front desk."""
    return _summary(makers.screen_call_ins(timezone.now()))


@register_job("notify.check_in_links", Every(minutes=30))
def check_in_links_job(period: str) -> str:
    """Morning one-tap check-in links, for participants who chose them."""
    return _summary(makers.check_in_links(timezone.now()))


@register_job("notify.instruments_due", Every(minutes=30))
def instruments_due_job(period: str) -> str:
    """One-tap links to routine questionnaires that fall due today."""
    return _summary(makers.instruments_due(timezone.now()))


@register_job("notify.staff_digest", Daily(hour=7))
def staff_digest_job(period: str) -> str:
    """Each staff member's morning counts: open alerts, unsigned notes, reviews."""
    day = dt.date.fromisoformat(period)
    return f"{digest.send_digests(day)} digests"
