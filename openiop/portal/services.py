"""Every write of the portal: invitations, accepting one, the account's language, ending
access (issue 9). Each function is atomic and writes its audit event in the same
transaction.

    invitation, raw = invite(participant, kind="participant", channel="sms",
                             sent_to="(207) 555-0101", language="es", actor=request.user)
    link = reverse("portal:accept", args=[raw])      # shown once to staff, never again

Invitation links are secrets: only their SHA-256 is stored (like calendar-feed tokens),
with the first characters as a hint to tell them apart. A link is single use, expires
after `INVITATION_DAYS` and can be withdrawn. A family member's invitation and its
acceptance both need a consent in force that covers family portal access (42 CFR Part 2,
DOMAIN.md §2.3; `openiop.family.access.family_decision`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from openiop.accounts.models import PortalKind, User
from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.participants.choices import IN_CARE

from .models import Invitation, Language, PortalAccount

log = logging.getLogger(__name__)

INVITATION_DAYS = 7
CHANNELS = ("email", "sms", "printed")
REASON_MAX = 300
# What people write for Spanish in the participant's "preferred language" (free text).
_SPANISH = {"spanish", "español", "espanol", "castellano", "es", "spa"}


class PortalError(Exception):
    """A request the rules refuse; the message says why (views answer 409, or 400 for
    input that is simply wrong)."""

    def __init__(self, message: str, *, status: int = 409):
        super().__init__(message)
        self.status = status


class InvitationUnusable(Exception):
    """An invitation link that cannot make an account (unknown, used, expired, withdrawn,
    or a family member whose consent no longer covers it). `reason` is a code for tests;
    the message is for the person holding the link."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def language_for_participant(participant: Any) -> str:
    """The portal language to preset from the participant's preferred language
    ("Spanish", "Español" → es; anything else → en)."""
    text = (participant.preferred_language or "").strip().lower()
    return Language.SPANISH if text in _SPANISH else Language.ENGLISH


def in_care_episode(participant: Any) -> Any:
    """The participant's current episode when it is in care (admitted or active)."""
    episode = participant.current_episode
    if episode is None or episode.voided or episode.status not in IN_CARE:
        return None
    return episode


def active_account(participant: Any, *, kind: str, contact: Any = None) -> PortalAccount | None:
    qs = PortalAccount.objects.filter(
        participant=participant, kind=kind, ended_at__isnull=True, user__is_active=True
    )
    if kind == PortalKind.FAMILY:
        qs = qs.filter(contact=contact)
    return qs.first()


def _family_refusal(contact: Any) -> str:
    """Why the family member may not have portal access now ('' when they may)."""
    from openiop.family.access import family_decision  # the family app decides (issue 9)

    decision = family_decision(contact)
    if decision.allowed:
        return ""
    return " ".join(decision.reasons) or "No consent in force covers family portal access."


def _check_address(channel: str, sent_to: str) -> str:
    sent_to = sent_to.strip()
    if channel == "email":
        if not sent_to:
            raise PortalError("Give the email address the invitation goes to.", status=400)
        try:
            validate_email(sent_to)
        except ValidationError:
            raise PortalError(f"“{sent_to[:80]}” is not an email address.", status=400) from None
    elif channel == "sms":
        digits = [c for c in sent_to if c.isdigit()]
        if not 7 <= len(digits) <= 15:
            raise PortalError("Give the mobile number the text goes to.", status=400)
    else:
        sent_to = ""
    if len(sent_to) > 200:
        raise PortalError("The address is too long.", status=400)
    return sent_to


def invite(
    participant: Any,
    *,
    kind: str,
    contact: Any = None,
    channel: str,
    sent_to: str = "",
    language: str = "en",
    actor: Any,
) -> tuple[Invitation, str]:
    """A new invitation link for the participant (kind "participant") or one of their
    contacts (kind "family"). Earlier unused links for the same person are withdrawn.
    Returns the invitation and the raw token (the link is `portal:accept` with it).
    Sent by email or text through `openiop.notify` once saved; printed ones staff hand
    over. Raises PortalError with the reason."""
    if kind not in PortalKind.values:
        raise PortalError("Unknown kind of portal account.", status=400)
    if channel not in CHANNELS:
        raise PortalError("Choose email, text message or printed.", status=400)
    if language not in Language.values:
        raise PortalError("Choose English or Spanish.", status=400)
    if participant.voided:
        raise PortalError("This participant's record was voided.")
    if in_care_episode(participant) is None:
        raise PortalError("Portal accounts are for participants in care (admitted or active).")
    if kind == PortalKind.PARTICIPANT and contact is not None:
        raise PortalError("A participant's own invitation names no contact.", status=400)
    if kind == PortalKind.FAMILY:
        if contact is None:
            raise PortalError("A family invitation names the contact it is for.", status=400)
        if contact.participant_id != participant.pk or contact.voided:
            raise PortalError("That contact is not one of this participant's.", status=400)
    sent_to = _check_address(channel, sent_to)
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        if active_account(participant, kind=kind, contact=contact) is not None:
            raise PortalError(
                "This person already has a portal account. End it first to invite again."
            )
        if kind == PortalKind.FAMILY:
            refusal = _family_refusal(contact)
            if refusal:
                raise PortalError(f"No family portal access without consent: {refusal}")
        for old in Invitation.objects.select_for_update().filter(
            participant=participant,
            kind=kind,
            contact=contact,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ):
            _revoke(old, actor=actor, reason="Replaced by a new invitation.", now=now)
        invitation = Invitation.objects.create(
            kind=kind,
            participant=participant,
            contact=contact,
            token_hash=token_hash(raw),
            hint=raw[:6],
            sent_to=sent_to,
            channel=channel,
            language=language,
            created_at=now,
            created_by=actor if getattr(actor, "pk", None) else None,
            expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=invitation,
            participant_id=participant.pk,
            changes={"kind": kind, "channel": channel, "language": language},
        )
    if channel in ("email", "sms"):
        _send(invitation, raw, actor)
    return invitation, raw


def _send(invitation: Invitation, raw: str, actor: Any) -> None:
    """Hand the invitation to the outbox. A failure to send leaves the invitation valid:
    staff still see the link once and can hand it over."""
    from openiop.notify.services import send_invitation  # the notifications app sends

    try:
        send_invitation(invitation, raw, actor=actor)
    except Exception:  # the invitation stands; the outbox shows what failed
        log.exception("portal invitation %s could not be handed to the outbox", invitation.pk)


def _revoke(invitation: Invitation, *, actor: Any, reason: str, now: dt.datetime) -> None:
    invitation.revoked_at = now
    invitation.revoked_by = actor if getattr(actor, "pk", None) else None
    invitation.revoked_reason = reason[:REASON_MAX]
    invitation.save(update_fields=["revoked_at", "revoked_by", "revoked_reason"])
    audit.record(
        AuditAction.REVOKE,
        actor=actor,
        obj=invitation,
        participant_id=invitation.participant_id,
        reason=reason[:REASON_MAX],
    )


def revoke_invitation(invitation: Invitation, *, actor: Any, reason: str) -> Invitation:
    """Withdraw an unused invitation: its link stops working at once."""
    reason = (reason or "").strip()
    if not reason:
        raise PortalError("Say why the invitation is withdrawn.", status=400)
    with transaction.atomic():
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if current.accepted_at is not None:
            raise PortalError(
                "This invitation was already used to make an account; end the account instead."
            )
        if current.revoked_at is not None:
            raise PortalError("This invitation was already withdrawn.")
        _revoke(current, actor=actor, reason=reason, now=timezone.now())
    return current


# --- accepting an invitation (the person holding the link, not signed in) ----------------


def _unusable(invitation: Invitation | None, now: dt.datetime) -> InvitationUnusable | None:
    ask = _("Ask the program for a new link.")
    if invitation is None:
        return InvitationUnusable("unknown", _("This invitation link is not valid.") + " " + ask)
    if invitation.accepted_at is not None:
        return InvitationUnusable(
            "used",
            _("This invitation link was already used. Sign in with the username you chose.")
            + " "
            + _("If you cannot, ask the program for a new link."),
        )
    if invitation.revoked_at is not None:
        return InvitationUnusable("revoked", _("This invitation link was withdrawn.") + " " + ask)
    if now >= invitation.expires_at:
        return InvitationUnusable("expired", _("This invitation link has expired.") + " " + ask)
    return None


def find_invitation(raw: str) -> Invitation:
    """The usable invitation of a link, or InvitationUnusable saying why not."""
    invitation = (
        Invitation.objects.select_related("participant", "participant__program", "contact")
        .filter(token_hash=token_hash(raw))
        .first()
        if 20 <= len(raw) <= 100
        else None
    )
    problem = _unusable(invitation, timezone.now())
    if problem is not None:
        raise problem
    assert invitation is not None  # noqa: S101  (for the type checker: _unusable said so)
    return invitation


def _check_username(username: str) -> str:
    username = username.strip()
    if not username:
        raise ValidationError({"username": _("Choose a username.")})
    if len(username) > 150:
        raise ValidationError({"username": _("Use at most 150 characters.")})
    try:
        User.username_validator(username)
    except ValidationError:
        raise ValidationError(
            {"username": _("Use only letters, numbers and the characters @ . + - _")}
        ) from None
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("That username is taken. Please choose another.")})
    return username


def accept(raw_token: str, *, username: str, password: str, language: str) -> User:
    """Make the portal account an invitation offers: a `User` of that portal kind and its
    `PortalAccount`. Raises InvitationUnusable (the link cannot be used) or
    ValidationError (a username or password to change; nothing is written)."""
    if language not in Language.values:
        raise ValidationError({"language": _("Choose English or Spanish.")})
    with transaction.atomic():
        invitation = find_invitation(raw_token)
        # Lock it: two clicks on "Create my account" make one account.
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        problem = _unusable(invitation, timezone.now())
        if problem is not None:
            raise problem
        participant = invitation.participant
        contact = invitation.contact
        if in_care_episode(participant) is None:
            raise InvitationUnusable(
                "not_in_care",
                _("This invitation can no longer be used.")
                + " "
                + _("Ask the program for a new link."),
            )
        if invitation.kind == PortalKind.FAMILY and (
            contact is None or contact.voided or _family_refusal(contact)
        ):
            raise InvitationUnusable(
                "no_consent",
                _(
                    "Family access needs the participant's written consent, and none covers "
                    "it now. Please ask the program."
                ),
            )
        if active_account(participant, kind=invitation.kind, contact=contact) is not None:
            raise InvitationUnusable(
                "has_account",
                _("There is already a portal account for you. Please sign in."),
            )
        username = _check_username(username)
        first_name = (contact.name if contact is not None else participant.legal_first_name)[:150]
        user = User(username=username, first_name=first_name, portal_kind=invitation.kind)
        try:
            password_validation.validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        user.save()
        now = timezone.now()
        account = PortalAccount.objects.create(
            user=user,
            kind=invitation.kind,
            participant=participant,
            contact=contact,
            language=language,
            created_at=now,
            invitation=invitation,
        )
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        audit.record(
            AuditAction.CREATE,
            actor=user,
            obj=account,
            participant_id=participant.pk,
            changes={"kind": invitation.kind, "invitation": invitation.pk, "language": language},
        )
    return user


# --- the account ------------------------------------------------------------------------


def set_language(account: PortalAccount, language: str, *, actor: Any) -> PortalAccount:
    if language not in Language.values:
        raise PortalError("Choose English or Spanish.", status=400)
    with transaction.atomic():
        current = PortalAccount.objects.select_for_update().get(pk=account.pk)
        if current.language != language:
            before = current.language
            current.language = language
            current.save(update_fields=["language"])
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                obj=current,
                participant_id=current.participant_id,
                changes={"language": [before, language]},
            )
    account.language = language
    return current


def end_account(account: PortalAccount, *, actor: Any, reason: str) -> PortalAccount:
    """End portal access: the account can no longer sign in (a session open now is
    signed out on its next page), and unused invitations for the same person are
    withdrawn. The account and its history are kept."""
    reason = (reason or "").strip()
    if not reason:
        raise PortalError("Say why portal access ends.", status=400)
    if len(reason) > REASON_MAX:
        raise PortalError(f"Keep the reason under {REASON_MAX} characters.", status=400)
    with transaction.atomic():
        current = (
            PortalAccount.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=account.pk)
        )
        if current.ended_at is not None:
            raise PortalError("This portal account has already ended.")
        now = timezone.now()
        current.ended_at = now
        current.ended_by = actor if getattr(actor, "pk", None) else None
        current.ended_reason = reason
        current.save(update_fields=["ended_at", "ended_by", "ended_reason"])
        current.user.is_active = False
        current.user.save(update_fields=["is_active"])
        audit.record(
            AuditAction.REVOKE,
            actor=actor,
            obj=current,
            participant_id=current.participant_id,
            changes={"ended": [False, True]},
            reason=reason,
        )
        for old in Invitation.objects.select_for_update().filter(
            participant_id=current.participant_id,
            kind=current.kind,
            contact=current.contact,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
        ):
            _revoke(old, actor=actor, reason="Portal access ended.", now=now)
    return current
