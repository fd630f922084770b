"""Making messages: the functions other areas call (issue 9, point 4).

    notify_participant(participant, "letter_ready", key=f"letter-ready:{letter.pk}")
    notify_contact(contact, "family_session_invite", {"when": start}, key=...)
    notify_staff(user, "staff_digest", {...}, key=...)
    send_invitation(invitation, raw_token, actor=request.user)

Each puts one `Message` in the outbox, rendered in the recipient's language, on the
channel the recipient allows, held past their quiet hours; the delivery job sends it.
`key` makes a call idempotent: a second call with the same key returns the first
message and makes nothing. A message that cannot go out (no channel allowed, no address,
no consent for a family member) is kept as *skipped* with the reason, so staff can see
why someone heard nothing. Returns None only when the recipient must never be written
to (a voided record, an inactive staff account).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from openiop.core import audit
from openiop.core.choices import AuditAction

from . import render
from .choices import Channel, Link, RecipientKind, Status
from .models import DEFAULT_QUIET_END, DEFAULT_QUIET_START, Message, Preference
from .sms import normalise_phone

# --- Preferences ----------------------------------------------------------------------------


def preference_for(participant: Any) -> Preference:
    """The participant's preferences, or the defaults (unsaved) when they never chose."""
    pref = Preference.objects.filter(participant=participant).first()
    return pref or Preference(participant=participant)


# --- Quiet hours --------------------------------------------------------------------------


def in_quiet_hours(local: dt.time, start: dt.time, end: dt.time) -> bool:
    """Is the wall-clock time `local` inside [start, end)? A start after the end spans
    midnight (21:00–08:00); start == end means no quiet hours."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    now: dt.datetime, tz: dt.tzinfo, start: dt.time, end: dt.time
) -> dt.datetime | None:
    """When the quiet hours `now` falls in end (an aware datetime), or None if not quiet."""
    local = now.astimezone(tz)
    if not in_quiet_hours(local.time(), start, end):
        return None
    day = local.date()
    if start > end and local.time() >= start:
        day += dt.timedelta(days=1)  # evening side of a span over midnight
    # fold=0 and a round trip through UTC: a quiet end inside a DST gap lands just after.
    until = dt.datetime.combine(day, end, tzinfo=tz)
    return until.astimezone(dt.UTC).astimezone(tz)


def quiet_hours_for(message: Message) -> tuple[dt.time, dt.time] | None:
    """(start, end) for a participant's or contact's message; staff messages are not held."""
    if message.recipient_kind == RecipientKind.STAFF:
        return None
    if message.recipient_kind == RecipientKind.PARTICIPANT and message.participant is not None:
        pref = preference_for(message.participant)
        return pref.quiet_start, pref.quiet_end
    return DEFAULT_QUIET_START, DEFAULT_QUIET_END


# --- Channels ---------------------------------------------------------------------------


def participant_channel(participant: Any, pref: Preference) -> tuple[str, str, str]:
    """(channel, address, reason): a text message when allowed and there is a mobile
    number, else email when allowed and there is an address; otherwise no channel and
    the reason."""
    phone = normalise_phone(participant.phone)
    if pref.sms_on and phone:
        return Channel.SMS, phone, ""
    if pref.email_on and participant.email:
        return Channel.EMAIL, participant.email, ""
    if not pref.sms_on and not pref.email_on:
        return "", "", "The participant turned off text messages and email."
    missing = []
    if pref.sms_on:
        missing.append("no usable mobile number")
    if pref.email_on:
        missing.append("no email address")
    return "", "", "Nothing to send to: " + " and ".join(missing) + "."


def contact_channel(contact: Any) -> tuple[str, str, str]:
    phone = normalise_phone(contact.phone)
    if phone:
        return Channel.SMS, phone, ""
    if contact.email:
        return Channel.EMAIL, contact.email, ""
    return "", "", "Nothing to send to: no usable mobile number and no email address."


def contact_consent_reason(contact: Any) -> str:
    """Why a family member may not be written to ("" when a consent in force allows it).
    Read at the moment of use: a revoked consent stops messages at once (§2.31(a)(6))."""
    from openiop.family.access import family_decision  # the family helper's contract

    decision = family_decision(contact)
    if decision.allowed:
        return ""
    return ("No consent in force lets us write to this person: " + "; ".join(decision.reasons))[
        :300
    ]


# --- Making messages ----------------------------------------------------------------------


def _existing(key: str) -> Message | None:
    return Message.objects.filter(key=key).first()


def _create(**fields: Any) -> Message:
    """Insert, or return the message another caller made with the same key first."""
    try:
        with transaction.atomic():
            return Message.objects.create(**fields)
    except IntegrityError:
        existing = _existing(fields["key"])
        if existing is None:
            raise
        return existing


def _link_fields(context: dict[str, Any]) -> dict[str, Any]:
    link = context.pop("one_tap", "")
    if link not in (Link.CHECK_IN, Link.INSTRUMENT):
        return {"link": ""}
    return {
        "link": link,
        "link_code": str(context.get("instrument_code", ""))[:20],
        "link_day": context.get("day"),
    }


def notify_participant(
    participant: Any,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    key: str,
    send_after: dt.datetime | None = None,
    stale_after: dt.datetime | None = None,
) -> Message | None:
    """Queue `template` for `participant`. Context values the template may show:
    see its file; `one_tap="check_in"|"instrument"` (+ `instrument_code`, `day`) asks
    for a one-tap link made when the message goes out."""
    spec = render.spec(template)
    existing = _existing(key)
    if existing is not None:
        return existing
    if participant.voided:
        return None
    pref = preference_for(participant)
    program = participant.program
    language = render.participant_language(participant)
    ctx = dict(context or {})
    link_fields = _link_fields(ctx)
    with_sender = {
        "first_name": render.first_name(participant),
        "portal_url": render.site_url(reverse("portal:home")),
        **ctx,
    }
    with_sender["sender"] = sender = _sender(program, pref.show_program_name, language)
    subject, body = render.render(
        template, with_sender, language=language, tz=render.program_tz(program)
    )
    channel, to, reason = participant_channel(participant, pref)
    if not reason and spec.reminder and not pref.reminders_on:
        reason = "The participant turned reminders off."
    return _create(
        recipient_kind=RecipientKind.PARTICIPANT,
        participant=participant,
        channel=channel,
        to=to,
        template=template,
        language=language,
        sender=sender,
        subject=subject,
        body=body,
        key=key[:200],
        send_after=send_after or timezone.now(),
        stale_after=stale_after,
        status=Status.SKIPPED if reason else Status.QUEUED,
        reason=reason,
        **link_fields,
    )


def notify_contact(
    contact: Any,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    key: str,
    send_after: dt.datetime | None = None,
    stale_after: dt.datetime | None = None,
) -> Message | None:
    """Queue `template` for a participant's contact (a family member). Sent only while a
    consent in force names the contact (checked now and again when it goes out)."""
    existing = _existing(key)
    if existing is not None:
        return existing
    if contact.voided:
        return None
    participant = contact.participant
    language = render.contact_language(contact)
    ctx = {
        "first_name": render.contact_first_name(contact),
        "participant_first_name": render.first_name(participant),
        "portal_url": render.site_url(reverse("portal:login")),
        **(context or {}),
    }
    pref = preference_for(participant)
    ctx["sender"] = sender = _sender(
        participant.program, pref.show_program_name, language, for_contact=participant
    )
    subject, body = render.render(
        template, ctx, language=language, tz=render.program_tz(participant.program)
    )
    reason = contact_consent_reason(contact)
    channel, to, no_channel = contact_channel(contact)
    reason = reason or no_channel
    return _create(
        recipient_kind=RecipientKind.CONTACT,
        participant=participant,
        contact=contact,
        channel=channel,
        to=to,
        template=template,
        language=language,
        sender=sender,
        subject=subject,
        body=body,
        key=key[:200],
        send_after=send_after or timezone.now(),
        stale_after=stale_after,
        status=Status.SKIPPED if reason else Status.QUEUED,
        reason=reason,
    )


def notify_staff(
    user: Any, template: str, context: dict[str, Any] | None = None, *, key: str
) -> Message | None:
    """Queue an email to a staff member (English; never held for quiet hours)."""
    existing = _existing(key)
    if existing is not None:
        return existing
    if not user.is_active or user.portal_kind:
        return None
    ctx = {
        "first_name": user.first_name or user.username,
        "site_url": render.site_url("/"),
        **(context or {}),
    }
    subject, body = render.render(template, ctx, language="en")
    reason = "" if user.email else "The staff member has no email address."
    return _create(
        recipient_kind=RecipientKind.STAFF,
        staff_user=user,
        channel=Channel.EMAIL if user.email else "",
        to=user.email,
        template=template,
        language="en",
        subject=subject,
        body=body,
        key=key[:200],
        status=Status.SKIPPED if reason else Status.QUEUED,
        reason=reason,
    )


def _sender(
    program: Any, show_program_name: bool, language: str, *, for_contact: Any = None
) -> str:
    with translation.override(language):
        if for_contact is not None:
            return render.contact_sender_name(
                program, show_program_name, render.first_name(for_contact)
            )
        return str(render.sender_name(program, show_program_name))


def send_invitation(invitation: Any, raw_token: str, *, actor: Any) -> Message:
    """Send a portal invitation now, by the channel and to the address on it.

    The invitation's link is a secret (only its hash is kept), so the outbox keeps the
    message with the link left out and the link exists only in the message that went
    out. For the same reason a failed send is not retried: send a new invitation. A
    printed invitation is recorded as skipped (staff hand it over).
    """
    key = f"invitation:{invitation.pk}"
    existing = _existing(key)
    if existing is not None:
        return existing
    participant = invitation.participant
    contact = invitation.contact
    family = invitation.kind == "family"
    template = "family_invitation" if family else "portal_invitation"
    language = invitation.language or "en"
    pref = preference_for(participant)
    ctx = {
        "first_name": render.contact_first_name(contact)
        if family and contact is not None
        else render.first_name(participant),
        "participant_first_name": render.first_name(participant),
        "expires_at": invitation.expires_at,
    }
    ctx["sender"] = sender = _sender(
        participant.program,
        pref.show_program_name,
        language,
        for_contact=participant if family else None,
    )
    subject, body = render.render(
        template, ctx, language=language, tz=render.program_tz(participant.program)
    )
    channel = invitation.channel if invitation.channel in Channel.values else ""
    to = invitation.sent_to.strip()
    reason = ""
    if not channel:
        reason = "Printed or read out by staff: nothing was sent."
    elif channel == Channel.SMS:
        to = normalise_phone(to)
        reason = "" if to else "The number given is not a usable mobile number."
    elif not to:
        reason = "No email address was given."
    if family and contact is not None and not reason:
        reason = contact_consent_reason(contact)
    message = _create(
        recipient_kind=RecipientKind.CONTACT if family and contact else RecipientKind.PARTICIPANT,
        participant=participant,
        contact=contact if family else None,
        channel=channel,
        to=to[:200],
        template=template,
        language=language,
        sender=sender,
        subject=subject,
        body=body,
        key=key,
        link=Link.INVITATION,
        status=Status.SKIPPED if reason else Status.QUEUED,
        reason=reason,
        stale_after=invitation.expires_at,
    )
    audit.record(
        AuditAction.CREATE,
        actor=actor,
        obj=message,
        changes={"template": template, "channel": channel, "status": message.status},
    )
    if message.status == Status.QUEUED:
        from .delivery import deliver

        link = render.site_url(reverse("portal:accept", args=[raw_token]))
        deliver(message, link=link, held=False)
    return message
