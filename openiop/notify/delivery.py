"""Sending queued messages: the delivery job's work.

A due message is checked again at the moment it goes out, because things change while
it waits: the participant may have turned a channel off (another allowed channel is
used, or it is skipped with the reason), quiet hours may have begun (it waits for their
end), a family member's consent may have been revoked (skipped), or the moment may have
passed (a reminder for a session that has started: skipped). A provider error is kept
with the message and retried later, up to OPENIOP_NOTIFY_MAX_ATTEMPTS, then the message
is marked failed.
"""

from __future__ import annotations

import datetime as dt
import logging
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from . import render, sms
from .choices import Channel, Link, RecipientKind, Status
from .models import Message
from .services import (
    contact_channel,
    contact_consent_reason,
    participant_channel,
    preference_for,
    quiet_hours_for,
    quiet_until,
)

log = logging.getLogger(__name__)

BATCH = 200
RETRY_BASE = dt.timedelta(minutes=5)


def retry_delay(attempts: int) -> dt.timedelta:
    """5, 10, 20, 40 … minutes after the attempt that failed (at most 6 hours)."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), dt.timedelta(hours=6))


def due_messages(now: dt.datetime) -> list[Message]:
    qs = Message.objects.filter(status=Status.QUEUED, send_after__lte=now).select_related(
        "participant", "participant__program", "contact", "contact__participant", "staff_user"
    )
    if connection.features.has_select_for_update_skip_locked:
        # Two workers never send the same message: the second skips rows the first holds.
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return list(qs.order_by("send_after", "pk")[:BATCH])


def deliver_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Send every due message (a batch at a time); counts by outcome."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    with transaction.atomic():
        for message in due_messages(now):
            try:
                with transaction.atomic():
                    outcome = deliver(message, now=now)
            except Exception as exc:  # one broken message must not stop the others
                log.exception("message %s could not be delivered", message.pk)
                outcome = _postpone(message, now, f"{type(exc).__name__}: {exc}")
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _postpone(message: Message, now: dt.datetime, error: str) -> str:
    """Count an attempt that broke before reaching the provider, like a provider error."""
    fresh = Message.objects.get(pk=message.pk)
    fresh.attempts += 1
    fresh.last_attempt_at = now
    fresh.error = error[:500]
    if fresh.attempts >= settings.OPENIOP_NOTIFY_MAX_ATTEMPTS:
        fresh.status = Status.FAILED
        outcome = "failed"
    else:
        fresh.send_after = now + retry_delay(fresh.attempts)
        outcome = "retry"
    fresh.save(update_fields=["attempts", "last_attempt_at", "error", "status", "send_after"])
    return outcome


def _skip(message: Message, reason: str) -> str:
    message.status = Status.SKIPPED
    message.reason = reason[:300]
    message.save(update_fields=["status", "reason"])
    return "skipped"


def _recheck_recipient(message: Message) -> str:
    """Re-resolve the channel from today's preferences (or consent); a reason to skip,
    or ""."""
    if message.recipient_kind == RecipientKind.PARTICIPANT and message.participant is not None:
        participant = message.participant
        if participant.voided:
            return "The participant's record was voided."
        pref = preference_for(participant)
        if render.TEMPLATES[message.template].reminder and not pref.reminders_on:
            return "The participant turned reminders off."
        if message.link == Link.INVITATION:
            return ""  # an invitation goes where staff were told to send it
        channel, to, reason = participant_channel(participant, pref)
    elif message.recipient_kind == RecipientKind.CONTACT and message.contact is not None:
        if message.contact.voided:
            return "The contact was removed."
        consent = contact_consent_reason(message.contact)
        if consent:
            return consent
        if message.link == Link.INVITATION:
            return ""
        channel, to, reason = contact_channel(message.contact)
    else:
        user = message.staff_user
        if user is None or not user.is_active:
            return "The staff account is inactive."
        channel, to, reason = (Channel.EMAIL, user.email, "") if user.email else ("", "", "x")
        if reason:
            return "The staff member has no email address."
    if reason:
        return reason
    message.channel, message.to = channel, to
    return ""


def _one_tap(message: Message) -> str:
    from openiop.portal import onetap  # the portal helper's contract

    path = onetap.issue(
        message.participant,
        purpose=message.link,
        instrument_code=message.link_code,
        day=message.link_day,
    )
    return render.site_url(path)


def deliver(
    message: Message,
    *,
    now: dt.datetime | None = None,
    link: str | None = None,
    held: bool = True,
) -> str:
    """Try to send one queued message now. Returns sent, held, skipped, retry or failed.
    `held=False` sends even in quiet hours (staff handing over an invitation)."""
    now = now or timezone.now()
    if message.status != Status.QUEUED:
        return message.status
    if message.stale_after is not None and now >= message.stale_after:
        return _skip(message, "Too late to be useful: its moment passed while it waited.")
    reason = _recheck_recipient(message)
    if reason:
        return _skip(message, reason)
    if held:
        hours = quiet_hours_for(message)
        tz = render.program_tz(message.participant.program) if message.participant else None
        until = quiet_until(now, tz, *hours) if hours and tz else None
        if until is not None:
            message.send_after = until
            message.save(update_fields=["send_after", "channel", "to"])
            return "held"
    body = message.body
    try:
        if message.link == Link.INVITATION:
            if link is None:
                message.status = Status.FAILED
                message.error = (
                    "The invitation link is not kept after the first try: send a new invitation."
                )
                message.save(update_fields=["status", "error"])
                return "failed"
            body = body.replace(render.LINK_PLACEHOLDER, link)
        elif message.link in (Link.CHECK_IN, Link.INSTRUMENT):
            body = body.replace(render.LINK_PLACEHOLDER, _one_tap(message))
    except (ValueError, LookupError) as exc:
        # The one-tap link cannot be made any more (episode closed, instrument not due).
        return _skip(message, f"The link could not be made: {exc}")
    message.attempts += 1
    message.last_attempt_at = now
    try:
        with transaction.atomic():
            message.provider_id = _send(message, body)
    except Exception as exc:  # any provider or SMTP failure: keep it, retry later
        log.warning("message %s (%s) failed: %s", message.pk, message.template, type(exc).__name__)
        message.error = f"{type(exc).__name__}: {exc}"[:500]
        if (
            message.link == Link.INVITATION
            or message.attempts >= settings.OPENIOP_NOTIFY_MAX_ATTEMPTS
        ):
            message.status = Status.FAILED
            outcome = "failed"
        else:
            message.send_after = now + retry_delay(message.attempts)
            outcome = "retry"
        message.save()
        return outcome
    message.status = Status.SENT
    message.sent_at = timezone.now()
    message.error = ""
    message.save()
    return "sent"


def _send(message: Message, body: str) -> str:
    if message.channel == Channel.SMS:
        return sms.send(message.to, body)
    from_email = settings.DEFAULT_FROM_EMAIL
    if message.sender:
        from_email = formataddr((message.sender, from_email))
    email = EmailMessage(message.subject, body, from_email=from_email, to=[message.to])
    email.extra_headers["Auto-Submitted"] = "auto-generated"
    email.send(fail_silently=False)
    return email.extra_headers.get("Message-ID", "")
