"""Writes to the consent registry. Each is atomic and audited.

`record_consent` refuses a consent that lacks any element 42 CFR §2.31(a) requires
(DOMAIN.md §2.3) and says which; `revoke_consent` stops it at once (the gate reads the
revocation at the moment of each disclosure).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .choices import TPO_PURPOSES, ConsentKind, InfoCategory, Purpose, RecipientKind, SignerRole
from .models import Consent

# A TPO consent's recipients may be described as a class (§2.31(a)(4)).
TPO_DEFAULT_RECIPIENTS = (
    "My treating providers, health plans, third-party payers, and people helping to "
    "operate this program"
)


class ConsentError(Exception):
    """A consent that cannot be recorded or revoked as asked; `problems` by field."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class ConsentInput:
    kind: str
    discloser: str
    recipient_kind: str
    recipient_name: str
    purposes: tuple[str, ...]
    information: tuple[str, ...]
    information_detail: str
    signed_by: str
    signed_on: dt.date | None
    revocation_explained: bool
    recipient_address: str = ""
    purpose_detail: str = ""
    expires_on: dt.date | None = None
    expiry_event: str = ""
    signer_role: str = SignerRole.SELF
    signature_method: str = "paper"
    refusal_consequences_stated: bool = False
    redisclosure_stated: bool = False
    contact_id: int | None = None


def consent_problems(data: ConsentInput, *, today: dt.date) -> dict[str, str]:
    """Every missing or contradictory element, keyed by field (empty: complete)."""
    p: dict[str, str] = {}
    if data.kind not in ConsentKind.values:
        p["kind"] = "Choose the kind of consent."
    if not data.discloser.strip():
        p["discloser"] = "Name who may disclose (element 2), usually the program."
    if data.recipient_kind not in RecipientKind.values:
        p["recipient_kind"] = "Choose the kind of recipient (element 4)."
    if not data.recipient_name.strip():
        p["recipient_name"] = "Name the recipient or the class of recipients (element 4)."
    purposes = set(data.purposes)
    if not purposes or purposes - set(Purpose.values):
        p["purposes"] = "Choose the purpose of each use or disclosure (element 5)."
    elif Purpose.OTHER in purposes and not data.purpose_detail.strip():
        p["purpose_detail"] = "Describe the “other” purpose."
    info = set(data.information)
    if not info or info - set(InfoCategory.values):
        p["information"] = "Choose what information may be disclosed (element 3)."
    if not data.information_detail.strip():
        p["information_detail"] = (
            "Describe the information specifically and meaningfully (element 3)."
        )
    if not data.revocation_explained:
        p["revocation_explained"] = (
            "The participant must be told of the right to revoke and how (element 6)."
        )
    if data.expires_on is None and not data.expiry_event:
        p["expires_on"] = "Give an expiry date or event (element 7)."
    if data.expires_on is not None and data.expiry_event:
        p["expiry_event"] = "Give an expiry date or an expiry event, not both."
    if data.expiry_event and data.expiry_event not in Consent.ExpiryEvent.values:
        p["expiry_event"] = "Unknown expiry event."
    if data.expiry_event == Consent.ExpiryEvent.NO_EXPIRY and data.kind != ConsentKind.TPO:
        p["expiry_event"] = "Only a TPO consent may have no expiry (§2.31(a)(7))."
    if not data.signed_by.strip():
        p["signed_by"] = "Record the signature: the name as signed (element 8)."
    if data.signer_role not in SignerRole.values:
        p["signer_role"] = "Choose who signed."
    if data.signed_on is None:
        p["signed_on"] = "Give the date signed (element 9)."
    else:
        if data.signed_on > today:
            p["signed_on"] = "The date signed cannot be in the future."
        if data.expires_on is not None and data.expires_on < data.signed_on:
            p["expires_on"] = "The consent would expire before it was signed."
    if data.signature_method not in {"paper", "electronic"}:
        p["signature_method"] = "Choose how it was signed."
    if data.kind == ConsentKind.TPO:
        if purposes - TPO_PURPOSES:
            p["purposes"] = (
                "A TPO consent covers only treatment, payment and health care operations; "
                "record any other purpose as its own consent."
            )
        if data.recipient_kind not in {
            RecipientKind.TPO_CLASS,
            RecipientKind.PROVIDER,
            RecipientKind.PAYER,
        }:
            p["recipient_kind"] = "A TPO consent names treating providers, payers or the class."
        if not data.refusal_consequences_stated:
            p["refusal_consequences_stated"] = (
                "A TPO consent must state the consequences of refusing to sign."
            )
        if not data.redisclosure_stated:
            p["redisclosure_stated"] = (
                "A TPO consent must state that records may be redisclosed by the recipient "
                "and may then no longer be protected by Part 2."
            )
    if data.kind == ConsentKind.COUNSELLING_NOTES and info - {InfoCategory.COUNSELLING_NOTES}:
        p["information"] = (
            "A consent for SUD counselling notes cannot be combined with other information "
            "(§2.31(b))."
        )
    if InfoCategory.COUNSELLING_NOTES in info and data.kind != ConsentKind.COUNSELLING_NOTES:
        p["information"] = "SUD counselling notes need their own consent (§2.31(b))."
    if data.recipient_kind == RecipientKind.FAMILY and data.contact_id is None:
        p["contact"] = "Choose the family member or support person from the contacts."
    return p


CONSENT_FIELDS = [
    "kind",
    "discloser",
    "recipient_kind",
    "recipient_name",
    "recipient_address",
    "contact",
    "purposes",
    "purpose_detail",
    "information",
    "information_detail",
    "expires_on",
    "expiry_event",
    "revocation_explained",
    "refusal_consequences_stated",
    "redisclosure_stated",
    "signed_by",
    "signer_role",
    "signed_on",
    "signature_method",
]


def record_consent(participant: Any, data: ConsentInput, *, actor: Any) -> Consent:
    today = participant.program.today()
    problems = consent_problems(data, today=today)
    contact = None
    if data.contact_id is not None:
        contact = participant.contacts.filter(pk=data.contact_id, voided=False).first()
        if contact is None:
            problems["contact"] = "That contact is not one of this participant's."
    if problems or data.signed_on is None:
        raise ConsentError(problems)
    with transaction.atomic():
        consent = Consent.objects.create(
            participant=participant,
            kind=data.kind,
            discloser=data.discloser.strip()[:200],
            recipient_kind=data.recipient_kind,
            recipient_name=data.recipient_name.strip()[:200],
            recipient_address=data.recipient_address.strip()[:300],
            contact=contact,
            purposes=sorted(set(data.purposes)),
            purpose_detail=data.purpose_detail.strip()[:300],
            information=sorted(set(data.information)),
            information_detail=data.information_detail.strip()[:500],
            expires_on=data.expires_on,
            expiry_event=data.expiry_event,
            revocation_explained=data.revocation_explained,
            refusal_consequences_stated=data.refusal_consequences_stated,
            redisclosure_stated=data.redisclosure_stated,
            signed_by=data.signed_by.strip()[:200],
            signer_role=data.signer_role,
            signed_on=data.signed_on,
            signature_method=data.signature_method,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=consent,
            changes=audit.diff({}, audit.snapshot(consent, CONSENT_FIELDS)),
        )
    return consent


def revoke_consent(
    consent: Consent, *, actor: Any, revoked_on: dt.date | None, note: str
) -> Consent:
    """Revocation takes effect at once; disclosures already made in reliance stay
    recorded (§2.31(a)(6))."""
    today = consent.participant.program.today()
    problems = {}
    if consent.voided:
        problems["consent"] = "This consent was voided."
    elif consent.revoked_at is not None:
        problems["consent"] = f"This consent was already revoked on {consent.revoked_on}."
    if revoked_on is None:
        problems["revoked_on"] = "Give the date the participant revoked it."
    elif revoked_on > today:
        problems["revoked_on"] = "The revocation date cannot be in the future."
    elif revoked_on < consent.signed_on:
        problems["revoked_on"] = "The revocation cannot be before the consent was signed."
    if not note.strip():
        problems["note"] = "Say how the revocation was received (e.g. “in writing, at group”)."
    if problems:
        raise ConsentError(problems)
    with transaction.atomic():
        locked = Consent.objects.select_for_update().get(pk=consent.pk)
        if locked.revoked_at is not None:
            raise ConsentError({"consent": "This consent was already revoked."})
        locked.revoked_on = revoked_on
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.revocation_note = note.strip()[:500]
        locked.updated_at = timezone.now()
        locked.updated_by = actor
        locked.version += 1
        locked.save(
            update_fields=[
                "revoked_on",
                "revoked_at",
                "revoked_by",
                "revocation_note",
                "updated_at",
                "updated_by",
                "version",
            ]
        )
        audit.record(
            AuditAction.REVOKE,
            actor=actor,
            obj=locked,
            changes={"revoked_on": [None, str(revoked_on)]},
            reason=note.strip()[:500],
        )
    return locked


def void_consent(consent: Consent, *, actor: Any, reason: str) -> Consent:
    """A consent recorded in error (wrong participant, typing error): voided, kept."""
    if not reason.strip():
        raise ConsentError({"reason": "Say why this consent is void."})
    if consent.voided:
        raise ConsentError({"consent": "This consent is already void."})
    if consent.disclosures.exists():
        raise ConsentError(
            {"consent": "Records were disclosed under this consent: revoke it instead of voiding."}
        )
    with transaction.atomic():
        consent.voided = True
        consent.voided_at = timezone.now()
        consent.voided_by = actor
        consent.void_reason = reason.strip()[:500]
        consent.updated_at = timezone.now()
        consent.updated_by = actor
        consent.version += 1
        consent.save(
            update_fields=[
                "voided",
                "voided_at",
                "voided_by",
                "void_reason",
                "updated_at",
                "updated_by",
                "version",
            ]
        )
        audit.record(AuditAction.VOID, actor=actor, obj=consent, reason=reason.strip()[:500])
    return consent
