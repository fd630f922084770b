"""The disclosure gate: the one function every outbound path goes through.

    decision = gate.check(request, on=today)          # may it go out? (no writes)
    disclosure = gate.disclose(request, actor=user, document=pdf_bytes)

`disclose` finds a consent that is in force and covers the recipient, the purpose and
every kind of information asked for (42 CFR §2.31, DOMAIN.md §2.3), attaches the
re-disclosure notice (§2.32, DOMAIN.md §2.4) and a statement of the consent's scope,
and writes the disclosure record that the accounting of disclosures reads (§2.25,
ONC 170.315(d)(11)). Without such a consent it refuses and says why, element by element;
the refusal is audited. Letters, printed records, family access, exports with identities
and API reads by outside clients all call it — none writes a `Disclosure` itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .choices import (
    TPO_PURPOSES,
    Channel,
    ConsentKind,
    InfoCategory,
    LegalBasis,
    Purpose,
    RecipientKind,
)
from .models import Consent, Disclosure

# §2.32(a)(1), "Statement 1", as amended by the 2024 final rule (89 FR 12472).
NOTICE_LONG = (
    "This record which has been disclosed to you is protected by Federal confidentiality "
    "rules (42 CFR part 2). These rules prohibit you from using or disclosing this record, "
    "or testimony that describes the information contained in this record, in any civil, "
    "criminal, administrative, or legislative proceedings by any Federal, State, or local "
    "authority, against the patient, unless authorized by the consent of the patient, "
    "except as provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance "
    "with 42 CFR 2.64 or 2.65. In addition, the Federal rules prohibit you from making any "
    "other use or disclosure of this record unless at least one of the following applies: "
    "(i) Further use or disclosure is expressly permitted by the written consent of the "
    "individual whose information is being disclosed in this record or as otherwise "
    "permitted by 42 CFR part 2. (ii) You are a covered entity or business associate and "
    "have received the record for treatment, payment, or health care operations, or "
    "(iii) You have received the record from a covered entity or business associate as "
    "permitted by 45 CFR part 164, subparts A and E. A general authorization for the "
    "release of medical or other information is NOT sufficient to meet the required "
    "elements of written consent to further use or redisclose the record (see 42 CFR 2.31)."
)
# §2.32(a)(2), "Statement 2".
NOTICE_SHORT = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

# Recipients a TPO consent's general description covers (§2.31(a)(4): "my treating
# providers, health plans, third-party payers, and people helping to operate this
# program").
TPO_RECIPIENT_KINDS = frozenset(
    {RecipientKind.PROVIDER, RecipientKind.PAYER, RecipientKind.TPO_CLASS}
)


class DisclosureRefused(Exception):
    """No consent in force covers this disclosure; `reasons` say which element fails."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class DisclosureRequest:
    participant: Any
    recipient_kind: str
    recipient_name: str
    purpose: str
    information: tuple[str, ...]
    channel: str
    description: str
    recipient_address: str = ""
    purpose_detail: str = ""
    contact_id: int | None = None  # a family member's Contact, for the family portal
    reference: str = ""


@dataclass
class Decision:
    allowed: bool
    consent: Consent | None = None
    reasons: list[str] = field(default_factory=list)


def normalise(name: str) -> str:
    """Recipient names compare without case, punctuation or repeated spaces."""
    kept = "".join(ch.lower() if ch.isalnum() else " " for ch in name)
    return " ".join(kept.split())


def consent_status(
    consent: Consent,
    on: dt.date | None = None,
    *,
    treatment_ended: Callable[[Consent], bool] | None = None,
) -> tuple[bool, str]:
    """(in force?, why not / "In force"). Read at the moment of use, so a revocation or an
    expiry takes effect at once (§2.31(a)(6)-(7)). `treatment_ended` answers from data
    already read (`check_many`); by default it asks the database."""
    on = on or timezone.localdate()
    ended = treatment_ended or (lambda c: _treatment_ended(c, on))
    if consent.voided:
        return False, "voided (recorded in error)"
    if consent.revoked_at is not None or consent.revoked_on is not None:
        when = consent.revoked_on or timezone.localtime(consent.revoked_at).date()
        return False, f"revoked on {when:%Y-%m-%d}"
    if consent.signed_on > on:
        return False, f"not signed until {consent.signed_on:%Y-%m-%d}"
    if consent.expires_on is not None and on > consent.expires_on:
        return False, f"expired on {consent.expires_on:%Y-%m-%d}"
    if consent.expiry_event == Consent.ExpiryEvent.END_OF_TREATMENT and ended(consent):
        return False, "expired at the end of treatment (discharge)"
    return True, "In force"


def _treatment_ended(consent: Consent, on: dt.date | None = None) -> bool:
    """The treatment the consent was signed in has ended: an episode was discharged on or
    after the day it was signed (a later readmission needs a new consent)."""
    from openiop.participants.models import Episode

    return Episode.objects.filter(
        participant_id=consent.participant_id,
        voided=False,
        discharge_date__isnull=False,
        discharge_date__gte=consent.signed_on,
        discharge_date__lte=on or timezone.localdate(),
    ).exists()


def candidate_consents(participant: Any) -> QuerySet[Consent]:
    return Consent.objects.filter(participant=participant, voided=False).order_by(
        "-signed_on", "-id"
    )


def _covers(consent: Consent, req: DisclosureRequest) -> list[str]:
    """What this consent does not cover for the request (empty: it covers it)."""
    gaps: list[str] = []
    info = set(req.information)
    # Counselling notes: only under their own consent, which covers nothing else (§2.31(b)).
    if InfoCategory.COUNSELLING_NOTES in info and consent.kind != ConsentKind.COUNSELLING_NOTES:
        gaps.append("SUD counselling notes need their own separate consent")
    if consent.kind == ConsentKind.COUNSELLING_NOTES and info - {InfoCategory.COUNSELLING_NOTES}:
        gaps.append("a counselling-notes consent covers counselling notes only")
    # Recipient (element 4).
    if consent.kind == ConsentKind.TPO:
        if req.recipient_kind not in TPO_RECIPIENT_KINDS:
            gaps.append(
                f"a TPO consent does not cover a recipient of the kind "
                f"“{RecipientKind(req.recipient_kind).label}”"
            )
    else:
        same_kind = consent.recipient_kind == req.recipient_kind
        same_name = normalise(consent.recipient_name) == normalise(req.recipient_name)
        same_contact = req.contact_id is not None and consent.contact_id == req.contact_id
        if not (same_contact or (same_kind and same_name)):
            gaps.append(f"it names {consent.recipient_name}, not {req.recipient_name}")
    # Purpose (element 5). A TPO consent covers only treatment, payment and operations.
    purposes = set(consent.purposes)
    if consent.kind == ConsentKind.TPO:
        purposes &= TPO_PURPOSES
    if req.purpose not in purposes:
        label = Purpose(req.purpose).label if req.purpose in Purpose.values else req.purpose
        gaps.append(f"it does not cover the purpose “{label}”")
    # Kind and amount of information (element 3).
    missing = info - set(consent.information)
    if missing:
        labels = ", ".join(
            InfoCategory(m).label.split(":")[0] for m in sorted(missing) if m in InfoCategory.values
        )
        gaps.append(f"it does not cover: {labels}")
    return gaps


def check(req: DisclosureRequest, *, on: dt.date | None = None) -> Decision:
    """May this disclosure go out? Reads only; `disclose` writes."""
    on = on or timezone.localdate()
    problems = validate_request(req)
    if problems:
        return Decision(False, None, problems)
    return _decide(req, list(candidate_consents(req.participant)), on)


def check_many(reqs: list[DisclosureRequest], *, on: dt.date | None = None) -> list[Decision]:
    """`check` for many requests (one participant each) in two queries, whatever their
    number: for lists that show whether each row may go out (billing's days at risk)."""
    from openiop.participants.models import Episode

    on = on or timezone.localdate()
    ids = {req.participant.pk for req in reqs}
    by_participant: dict[int, list[Consent]] = {}
    for consent in Consent.objects.filter(participant_id__in=ids, voided=False).order_by(
        "-signed_on", "-id"
    ):
        by_participant.setdefault(consent.participant_id, []).append(consent)
    discharges: dict[int, list[dt.date]] = {}
    for pid, day in Episode.objects.filter(
        participant_id__in=ids, voided=False, discharge_date__isnull=False
    ).values_list("participant_id", "discharge_date"):
        if day is not None:
            discharges.setdefault(pid, []).append(day)

    def ended(consent: Consent) -> bool:
        return any(
            consent.signed_on <= day <= on for day in discharges.get(consent.participant_id, [])
        )

    out = []
    for req in reqs:
        problems = validate_request(req)
        if problems:
            out.append(Decision(False, None, problems))
        else:
            out.append(_decide(req, by_participant.get(req.participant.pk, []), on, ended))
    return out


def _decide(
    req: DisclosureRequest,
    consents: list[Consent],
    on: dt.date,
    ended: Callable[[Consent], bool] | None = None,
) -> Decision:
    if not consents:
        return Decision(False, None, ["There is no consent on file for this participant."])
    reasons: list[str] = []
    for consent in consents:
        in_force, why = consent_status(consent, on, treatment_ended=ended)
        gaps = _covers(consent, req)
        if in_force and not gaps:
            return Decision(True, consent, [])
        label = f"Consent of {consent.signed_on:%Y-%m-%d} to {consent.recipient_name}"
        if not gaps:
            reasons.append(f"{label} would cover it, but it is {why}.")
        elif in_force:
            reasons.append(f"{label}: " + "; ".join(gaps) + ".")
        else:
            reasons.append(f"{label} is {why}; also " + "; ".join(gaps) + ".")
    return Decision(False, None, reasons)


def validate_request(req: DisclosureRequest) -> list[str]:
    problems = []
    if req.recipient_kind not in RecipientKind.values:
        problems.append("Choose what kind of recipient this is.")
    if not req.recipient_name.strip():
        problems.append("Name the recipient.")
    if req.purpose not in Purpose.values:
        problems.append("Choose the purpose of the disclosure.")
    if not req.information or set(req.information) - set(InfoCategory.values):
        problems.append("Choose what information goes out.")
    if req.channel not in Channel.values:
        problems.append("Unknown channel.")
    if not req.description.strip():
        problems.append("Describe what is disclosed.")
    return problems


def scope_statement(consent: Consent) -> str:
    """A clear explanation of the consent's scope, which goes with each disclosure
    (§2.32 as amended in 2024: a copy of the consent or a clear explanation of its scope)."""
    purposes = ", ".join(Purpose(p).label for p in consent.purposes if p in Purpose.values)
    info = ", ".join(
        InfoCategory(i).label.split(":")[0] for i in consent.information if i in InfoCategory.values
    )
    if consent.expires_on:
        expiry = f"until {consent.expires_on:%B %-d, %Y}"
    elif consent.expiry_event == Consent.ExpiryEvent.END_OF_TREATMENT:
        expiry = "until the end of treatment"
    else:
        expiry = "with no expiry date"
    return (
        f"Disclosed under the written consent signed by {consent.signed_by} on "
        f"{consent.signed_on:%B %-d, %Y}, which permits {consent.discloser} to disclose "
        f"{info} to {consent.recipient_name} for: {purposes}; in force {expiry} unless "
        f"revoked earlier."
    )


def notice_for(consent: Consent | None, *, short: bool = False) -> str:
    base = NOTICE_SHORT if short else NOTICE_LONG
    return f"{base}\n\n{scope_statement(consent)}" if consent else base


def disclose(
    req: DisclosureRequest,
    *,
    actor: Any,
    document: bytes | None = None,
    on: dt.date | None = None,
    short_notice: bool = False,
    at: dt.datetime | None = None,
) -> Disclosure:
    """Check, then record the disclosure. Raises DisclosureRefused (audited) when no
    consent in force covers it. The caller attaches `disclosure.notice` to what goes out."""
    with transaction.atomic():
        decision = check(req, on=on)
        if decision.allowed and decision.consent is not None:
            notice = notice_for(decision.consent, short=short_notice)
            disclosure = Disclosure.objects.create(
                participant=req.participant,
                at=at or timezone.now(),
                made_by=actor if getattr(actor, "is_authenticated", False) else None,
                made_by_name=getattr(actor, "display_name", "") or str(actor or ""),
                legal_basis=LegalBasis.CONSENT,
                consent=decision.consent,
                recipient_kind=req.recipient_kind,
                recipient_name=req.recipient_name.strip()[:200],
                recipient_address=req.recipient_address.strip()[:300],
                purpose=req.purpose,
                purpose_detail=req.purpose_detail.strip()[:300],
                information=sorted(set(req.information)),
                description=req.description.strip()[:500],
                channel=req.channel,
                notice=notice,
                document_sha256=hashlib.sha256(document).hexdigest() if document else "",
                document=document or b"",
                reference=req.reference[:40],
            )
            audit.record(
                AuditAction.DISCLOSE,
                actor=actor,
                obj=disclosure,
                changes={
                    "consent": decision.consent.pk,
                    "recipient_kind": req.recipient_kind,
                    "purpose": req.purpose,
                    "information": sorted(set(req.information)),
                    "channel": req.channel,
                },
            )
            return disclosure
    audit.record(
        AuditAction.DISCLOSURE_REFUSED,
        actor=actor,
        object_type="privacy.disclosure",
        participant_id=req.participant.pk,
        changes={
            "recipient_kind": req.recipient_kind,
            "purpose": req.purpose,
            "information": sorted(set(req.information)),
            "channel": req.channel,
        },
        reason="; ".join(decision.reasons)[:500],
    )
    raise DisclosureRefused(decision.reasons)


def family_access_allowed(
    contact: Any, information: Iterable[str], *, on: dt.date | None = None
) -> Decision:
    """For the family portal: is there a consent in force naming this contact for family
    involvement, covering `information`? (Read-only; each page shown is disclosed through
    `disclose` with channel FAMILY_PORTAL.)"""
    req = DisclosureRequest(
        participant=contact.participant,
        recipient_kind=RecipientKind.FAMILY,
        recipient_name=contact.name,
        purpose=Purpose.FAMILY,
        information=tuple(information),
        channel=Channel.FAMILY_PORTAL,
        description="Family portal",
        contact_id=contact.pk,
    )
    return check(req, on=on)
