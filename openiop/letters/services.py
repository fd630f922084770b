"""Attendance letters: asking for one, producing it through the consent gate, declining
and withdrawing a request (issue 9, point 5).

    letter_request = request_letter(participant, actor=user, recipient_kind="employer", ...)
    disclosure = produce(participant, recipient_kind=..., ..., actor=staff,
                         letter_request=letter_request)

`produce` asks the disclosure gate (`privacy.gate`, 42 CFR §2.31, DOMAIN.md §2.3) for the
enrolment dates and the dates and hours attended, on the letter channel. Without a consent
in force that covers the recipient, the purpose and both kinds of information it raises
`gate.DisclosureRefused` with the reasons (the gate audits the refusal). With one, the PDF
carries the days and hours attended, the §2.32 notice and the consent's scope (DOMAIN.md
§2.4), and a verification code with the address of the public verification page and a QR
code of it; the gate keeps the PDF with its SHA-256 in the accounting of disclosures
(§2.25), and a `LetterVerification` keeps what the letter states.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import Sequence
from openiop.core.pdf import render_pdf_bytes
from openiop.privacy import gate
from openiop.privacy import letters as privacy_letters
from openiop.privacy.choices import Channel, InfoCategory

from . import verify
from .choices import GATE_TERMS, LetterRecipient, LetterStatus, RequestedVia, letter_kind_of
from .models import LetterRequest, LetterVerification

# What an attendance letter discloses (the categories the consent must cover).
INFORMATION = (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE)
DESCRIPTION = "Attendance letter"
# A letter covers at most three years of attendance (as the release form of issue 8).
MAX_PERIOD_DAYS = 3 * 366
# Requests one participant may have waiting at once (the portal form cannot flood the
# worklist).
MAX_PENDING = 5
NAME_LENGTH = 200
ADDRESS_LENGTH = 300
NOTE_LENGTH = 500


class LetterError(Exception):
    """The request cannot be acted on as asked (the message says why; shown with 409)."""


# --- checks shared by the forms and the services ----------------------------------------------


def period_problems(start: dt.date, end: dt.date, today: dt.date) -> list[str]:
    """What is wrong with a letter's period (translated: the portal shows them)."""
    problems = []
    if end < start:
        problems.append(_("The period ends before it starts."))
    if end > today:
        problems.append(_("The period cannot end after today."))
    if (end - start).days > MAX_PERIOD_DAYS:
        problems.append(_("Choose a period of at most three years."))
    return problems


def _check_request(
    recipient_kind: str,
    recipient_name: str,
    recipient_address: str,
    period_start: dt.date,
    period_end: dt.date,
    today: dt.date,
) -> None:
    problems = []
    if recipient_kind not in LetterRecipient.values:
        problems.append(_("Choose who the letter is for."))
    if not recipient_name.strip():
        problems.append(_("Name the person or organisation the letter is for."))
    if len(recipient_name) > NAME_LENGTH or len(recipient_address) > ADDRESS_LENGTH:
        problems.append(_("The name or the address is too long."))
    problems += period_problems(period_start, period_end, today)
    if problems:
        raise LetterError(" ".join(problems))


def gate_request(
    participant: Any,
    *,
    recipient_kind: str,
    recipient_name: str,
    recipient_address: str = "",
    reference: str = "",
) -> gate.DisclosureRequest:
    """What the gate is asked for an attendance letter to this recipient."""
    kind, purpose = GATE_TERMS[LetterRecipient(recipient_kind)]
    return gate.DisclosureRequest(
        participant=participant,
        recipient_kind=kind,
        recipient_name=recipient_name.strip(),
        recipient_address=recipient_address.strip(),
        purpose=purpose,
        information=INFORMATION,
        channel=Channel.LETTER,
        description=DESCRIPTION,
        reference=reference,
    )


def check(
    participant: Any, *, recipient_kind: str, recipient_name: str, on: dt.date | None = None
) -> gate.Decision:
    """Would the gate let this letter go out? (reads only)"""
    return gate.check(
        gate_request(participant, recipient_kind=recipient_kind, recipient_name=recipient_name),
        on=on,
    )


# --- the request workflow ---------------------------------------------------------------------


def request_letter(
    participant: Any,
    *,
    actor: Any,
    recipient_kind: str,
    recipient_name: str,
    recipient_address: str = "",
    period_start: dt.date,
    period_end: dt.date,
    note: str = "",
    via: str = RequestedVia.PORTAL,
    on: dt.date | None = None,
) -> LetterRequest:
    """A participant's request for a letter (from the portal, or taken down by staff).
    `on`: the program day it is asked on (default today; the seeded demo sets it)."""
    today = on or participant.program.today()
    _check_request(
        recipient_kind, recipient_name, recipient_address, period_start, period_end, today
    )
    if len(note) > NOTE_LENGTH:
        raise LetterError(_("The note is too long."))
    with transaction.atomic():
        # Lock the participant's row: two requests posted at once count each other.
        type(participant).objects.select_for_update().filter(pk=participant.pk).first()
        waiting = LetterRequest.objects.filter(
            participant=participant, status=LetterStatus.PENDING, voided=False
        ).count()
        if waiting >= MAX_PENDING:
            raise LetterError(
                ngettext(
                    "You already have %(count)d request waiting. Wait for it, or withdraw it.",
                    "You already have %(count)d requests waiting. Wait for one, or withdraw "
                    "one.",
                    waiting,
                )
                % {"count": waiting}
            )
        letter_request = LetterRequest.objects.create(
            participant=participant,
            episode_id=participant.current_episode_id,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            requested_via=via,
            recipient_kind=recipient_kind,
            recipient_name=recipient_name.strip(),
            recipient_address=recipient_address.strip(),
            period_start=period_start,
            period_end=period_end,
            note=note.strip(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            updated_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=letter_request,
            changes={
                "recipient_kind": recipient_kind,
                "period": [period_start.isoformat(), period_end.isoformat()],
                "via": via,
            },
        )
    return letter_request


def _locked_pending(letter_request: LetterRequest) -> LetterRequest:
    """The request's row, locked; LetterError unless it is still waiting."""
    locked = LetterRequest.objects.select_for_update().get(pk=letter_request.pk)
    if locked.voided or locked.status != LetterStatus.PENDING:
        raise LetterError(
            _("This request is no longer waiting: it is “%(status)s”.")
            % {"status": locked.get_status_display()}
        )
    return locked


def _close(
    letter_request: LetterRequest, *, actor: Any, status: str, reason: str = ""
) -> LetterRequest:
    with transaction.atomic():
        locked = _locked_pending(letter_request)
        locked.status = status
        locked.decided_at = timezone.now()
        locked.decided_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.decline_reason = reason
        locked.updated_at = locked.decided_at
        locked.updated_by = locked.decided_by
        locked.version += 1
        locked.save(
            update_fields=[
                "status",
                "decided_at",
                "decided_by",
                "decline_reason",
                "updated_at",
                "updated_by",
                "version",
            ]
        )
        audit.record(
            AuditAction.TRANSITION,
            actor=actor,
            obj=locked,
            changes={"status": [LetterStatus.PENDING, status]},
            reason=reason,
        )
    return locked


def decline(letter_request: LetterRequest, *, actor: Any, reason: str) -> LetterRequest:
    """Staff decline a waiting request, saying why (the participant sees the reason)."""
    reason = reason.strip()
    if not reason:
        raise LetterError("Say why the request is declined.")
    if len(reason) > NOTE_LENGTH:
        raise LetterError("The reason is too long.")
    return _close(letter_request, actor=actor, status=LetterStatus.DECLINED, reason=reason)


def withdraw(letter_request: LetterRequest, *, actor: Any) -> LetterRequest:
    """The participant no longer needs the letter."""
    return _close(letter_request, actor=actor, status=LetterStatus.WITHDRAWN)


# --- producing the letter ----------------------------------------------------------------------


def _qr_data_uri(url: str) -> str:
    import segno

    return segno.make(url, error="m").png_data_uri(scale=4, border=2)


def produce(
    participant: Any,
    *,
    recipient_kind: str,
    recipient_name: str,
    recipient_address: str = "",
    period_start: dt.date,
    period_end: dt.date,
    actor: Any,
    letter_request: LetterRequest | None = None,
    code: str | None = None,
    on: dt.date | None = None,
) -> Any:
    """Produce an attendance letter through the consent gate; returns the `Disclosure`.

    Raises `gate.DisclosureRefused` (with the gate's reasons) when no consent in force
    covers it, `LetterError` when the request is not valid or no longer waiting, and
    `core.pdf.PdfUnavailable` when this server cannot make PDFs. `code` is for the seeded
    demo only; letters otherwise get a fresh random code.
    """
    today = on or participant.program.today()
    _check_request(
        recipient_kind, recipient_name, recipient_address, period_start, period_end, today
    )
    if letter_request is not None:
        if letter_request.participant_id != participant.pk:
            raise LetterError("This request is another participant's.")
        if letter_request.voided or letter_request.status != LetterStatus.PENDING:
            raise LetterError(
                _("This request is no longer waiting: it is “%(status)s”.")
                % {"status": letter_request.get_status_display()}
            )
    req = gate_request(
        participant,
        recipient_kind=recipient_kind,
        recipient_name=recipient_name,
        recipient_address=recipient_address,
    )
    decision = gate.check(req, on=today)
    if not decision.allowed or decision.consent is None:
        # The gate refuses it again, audits the refusal and raises with its reasons.
        gate.disclose(req, actor=actor, on=today)
        raise gate.DisclosureRefused(decision.reasons)  # pragma: no cover  (disclose raised)

    # Slow work first (the PDF), outside the transaction; then one short transaction.
    content = privacy_letters.gather(
        participant,
        INFORMATION,
        period_start=period_start,
        period_end=period_end,
        tz=participant.program.tz,
    )
    if code is not None:
        normal = verify.normalise(code)
        if normal is None:
            raise ValueError(f"{code!r} is not a verification code")
        code = verify.grouped(normal)
    else:
        code = verify.new_code()
    reference = f"D-{Sequence.next_value('disclosure'):06d}"
    statement = {
        "participant_name": participant.legal_name,
        "program_name": participant.program.name,
        "recipient_name": req.recipient_name,
        "period_start": period_start,
        "period_end": period_end,
        "enrolment": [
            {
                "admitted": e.admission_date.isoformat(),
                "discharged": e.discharge_date.isoformat() if e.discharge_date else None,
            }
            for e in content.episodes
            if e.admission_date
        ],
        "days": [[day.isoformat(), str(h)] for day, h in content.days],
        "total_hours": content.total_hours,
        "issued_on": today,
        "reference": reference,
    }
    link = verify.verify_url(code)
    pdf = render_pdf_bytes(
        "letters/pdf/attendance_letter.html",
        {
            **statement,
            "program_name": participant.program.name,
            "header_right": f"Attendance letter {reference}",
            "recipient_address": req.recipient_address,
            "content": content,
            "author": actor,
            "code": code,
            "verify_url": verify.verify_url(),
            "qr": _qr_data_uri(link),
            "notice": gate.NOTICE_LONG,
            "scope": gate.scope_statement(decision.consent),
        },
    )
    try:
        with transaction.atomic():
            locked = _locked_pending(letter_request) if letter_request is not None else None
            disclosure = gate.disclose(
                dataclasses.replace(req, reference=reference),
                actor=actor,
                document=pdf,
                on=today,
            )
            if disclosure.consent_id != decision.consent.pk:
                # A consent was recorded, revoked or voided while the PDF was made: the
                # letter's printed scope would not be the consent it went out under.
                raise LetterError(
                    "The consents on file changed while the letter was being made. "
                    "Produce it again."
                )
            LetterVerification.objects.create(
                disclosure=disclosure,
                participant=participant,
                code_sha256=verify.digest(code),
                code_hint=code[:4],
                **statement,
            )
            _record_produced(participant, locked, disclosure, actor, req, statement)
    except gate.DisclosureRefused as refused:
        # Revoked between the check and now: the gate's audit of the refusal was rolled
        # back with the letter, so it is written again here.
        audit.record(
            AuditAction.DISCLOSURE_REFUSED,
            actor=actor,
            object_type="privacy.disclosure",
            participant_id=participant.pk,
            changes={"recipient_kind": req.recipient_kind, "purpose": req.purpose},
            reason="; ".join(refused.reasons)[:500],
        )
        raise
    return disclosure


def _record_produced(
    participant: Any,
    locked: LetterRequest | None,
    disclosure: Any,
    actor: Any,
    req: gate.DisclosureRequest,
    statement: dict[str, Any],
) -> LetterRequest:
    now = timezone.now()
    staff = actor if getattr(actor, "is_authenticated", False) else None
    if locked is None:
        # Asked for by staff from the chart: kept as a request too, so the participant
        # finds the letter in the portal with the ones they asked for.
        letter = LetterRequest.objects.create(
            participant=participant,
            episode_id=participant.current_episode_id,
            requested_at=now,
            requested_by=staff,
            requested_via=RequestedVia.STAFF,
            recipient_kind=letter_kind_of(req.recipient_kind),
            recipient_name=req.recipient_name,
            recipient_address=req.recipient_address,
            period_start=statement["period_start"],
            period_end=statement["period_end"],
            status=LetterStatus.PRODUCED,
            decided_at=now,
            decided_by=staff,
            disclosure=disclosure,
            created_by=staff,
            updated_by=staff,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=letter,
            changes={"status": LetterStatus.PRODUCED, "disclosure": disclosure.pk},
        )
        return letter
    locked.status = LetterStatus.PRODUCED
    locked.decided_at = now
    locked.decided_by = staff
    locked.disclosure = disclosure
    locked.updated_at = now
    locked.updated_by = staff
    locked.version += 1
    locked.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "disclosure",
            "updated_at",
            "updated_by",
            "version",
        ]
    )
    audit.record(
        AuditAction.TRANSITION,
        actor=actor,
        obj=locked,
        changes={
            "status": [LetterStatus.PENDING, LetterStatus.PRODUCED],
            "disclosure": disclosure.pk,
        },
    )
    if locked.requested_via == RequestedVia.PORTAL:
        pk = locked.pk
        transaction.on_commit(lambda: notify_ready(participant, pk), robust=True)
    return locked


def notify_ready(participant: Any, letter_request_pk: int) -> None:
    """Tell the participant who asked that the letter is ready (no clinical words: the
    notifications area writes the message, "letter_ready")."""
    from openiop.notify import services as notify

    notify.notify_participant(
        participant, "letter_ready", {}, key=f"letter-ready:{letter_request_pk}"
    )
