"""Who in a participant's family may see what, decided by the participant's consent.

Part 2 lets nothing about a participant — not even that they are in treatment — reach a
family member without a written consent in force that names that person, for family
involvement, covering the information shown (42 CFR §2.31, DOMAIN.md §2.3). So:

* `FAMILY_PORTAL_INFORMATION` is the least a family consent must cover: *enrolment*
  (that the person is in the program, and so the family sessions they run). Every
  family portal page discloses it; the portal helper refuses a family invitation or
  account without it.
* `family_decision(contact)` asks the disclosure gate (`privacy.gate`) whether such a
  consent is in force today. Read at every request: a revocation, an expiry or a
  discharge ending an "end of treatment" consent takes effect at the next page.
* `family_portal_view` wraps a family portal page: the account check of
  `portal.access.portal_view(FAMILY)`, then the consent check. Refused: a 403 page
  saying access has ended (it names no one), audited as a refused disclosure. Allowed:
  a page shown (a GET answered 200) is recorded as a disclosure through `gate.disclose`
  (channel family portal), at most once per contact per day — see
  `record_daily_disclosure`.
* Optional sections: the participant's attendance (dates and hours) shows only when the
  consent that grants access also covers *attendance*. Nothing else of the record ever
  reaches the family portal, whatever a consent covers: notes, plans, test results and
  diagnoses are not family education.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.http import HttpResponse, HttpResponseBase
from django.shortcuts import render

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.portal.access import FAMILY, PortalRequest, portal_view
from openiop.privacy import gate
from openiop.privacy.choices import Channel, InfoCategory, Purpose, RecipientKind
from openiop.privacy.models import Consent, Disclosure

FAMILY_PORTAL_INFORMATION: tuple[str, ...] = (InfoCategory.ENROLMENT.value,)

# Sections a family portal page adds when the consent granting access also covers them.
OPTIONAL_SECTIONS: dict[str, str] = {InfoCategory.ATTENDANCE.value: "attendance"}


def family_request(
    contact: Any, information: Iterable[str] = FAMILY_PORTAL_INFORMATION, *, participant: Any = None
) -> gate.DisclosureRequest:
    """The disclosure a family portal page makes to `contact` (as `gate` sees it)."""
    return gate.DisclosureRequest(
        participant=participant if participant is not None else contact.participant,
        recipient_kind=RecipientKind.FAMILY,
        recipient_name=contact.name,
        purpose=Purpose.FAMILY,
        information=tuple(information),
        channel=Channel.FAMILY_PORTAL,
        description="Family portal",
        contact_id=contact.pk,
    )


def family_decision(contact: Any, *, on: dt.date | None = None) -> gate.Decision:
    """Is a consent in force today that names `contact` for family involvement and covers
    `FAMILY_PORTAL_INFORMATION`? (The gate's own check; reads only.)"""
    return gate.family_access_allowed(contact, FAMILY_PORTAL_INFORMATION, on=on)


def sections_for(consent: Consent | None) -> tuple[str, ...]:
    """The optional sections the consent granting access covers (e.g. "attendance")."""
    if consent is None:
        return ()
    covered = set(consent.information)
    return tuple(name for category, name in OPTIONAL_SECTIONS.items() if category in covered)


def information_for(consent: Consent | None) -> tuple[str, ...]:
    """Everything the family portal shows under `consent`: what the daily disclosure lists."""
    extra = [c for c in OPTIONAL_SECTIONS if consent is not None and c in consent.information]
    return (*FAMILY_PORTAL_INFORMATION, *extra)


# --- many contacts at once (staff pages) --------------------------------------------------


@dataclass
class ContactAccess:
    """The gate's answer for one family member, and the reasons staff see: those about
    consents naming this person (their row need not list the participant's employer
    consent)."""

    decision: gate.Decision
    reasons: list[str]

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def consent(self) -> Consent | None:
        return self.decision.consent


def decisions_for(contacts: Iterable[Any], *, on: dt.date) -> dict[int, ContactAccess]:
    """`family_decision` for many contacts in two queries (the staff pages list every
    family member with the answer). The same rules as the gate — its `consent_status`
    and `_covers` on consents read in bulk — and a test compares the two answers case by
    case (`tests/test_access.py`). Where a decision is acted on (an invitation) the gate
    itself is asked again."""
    from openiop.participants.models import Episode

    contacts = list(contacts)
    participant_ids = {c.participant_id for c in contacts}
    consents: dict[int, list[Consent]] = {pid: [] for pid in participant_ids}
    for consent in Consent.objects.filter(
        participant_id__in=participant_ids, voided=False
    ).order_by("-signed_on", "-id"):
        consents[consent.participant_id].append(consent)
    last_discharge: dict[int, dt.date] = dict(
        Episode.objects.filter(
            participant_id__in=participant_ids, voided=False, discharge_date__isnull=False
        )
        .values("participant_id")
        .annotate(last=Max("discharge_date"))
        .values_list("participant_id", "last")
    )
    return {
        # (The coverage rules read no participant: its id stands in, saving a query each.)
        contact.pk: _decide(
            family_request(contact, participant=contact.participant_id),
            consents[contact.participant_id],
            last_discharge.get(contact.participant_id),
            on,
        )
        for contact in contacts
    }


def _status(consent: Consent, on: dt.date, last_discharge: dt.date | None) -> tuple[bool, str]:
    """`gate.consent_status` without its query: the end-of-treatment expiry is read from
    the participant's last discharge, fetched in bulk."""
    if consent.expiry_event != Consent.ExpiryEvent.END_OF_TREATMENT:
        return gate.consent_status(consent, on)
    plain = copy.copy(consent)
    plain.expiry_event = ""
    in_force, why = gate.consent_status(plain, on)
    if in_force and last_discharge is not None and last_discharge >= consent.signed_on:
        return False, "expired at the end of treatment (discharge)"
    return in_force, why


def _names(consent: Consent, req: gate.DisclosureRequest) -> bool:
    if consent.contact_id is not None:
        return consent.contact_id == req.contact_id
    return consent.recipient_kind == RecipientKind.FAMILY and gate.normalise(
        consent.recipient_name
    ) == gate.normalise(req.recipient_name)


def _decide(
    req: gate.DisclosureRequest,
    consents: list[Consent],
    last_discharge: dt.date | None,
    on: dt.date,
) -> ContactAccess:
    """`gate.check` on consents already read (the same order and the same reasons)."""
    if not consents:
        reason = "There is no consent on file for this participant."
        return ContactAccess(gate.Decision(False, None, [reason]), [reason])
    reasons: list[str] = []
    own: list[str] = []
    for consent in consents:
        in_force, why = _status(consent, on, last_discharge)
        gaps = gate._covers(consent, req)  # the gate's own coverage rules
        if in_force and not gaps:
            return ContactAccess(gate.Decision(True, consent, []), [])
        label = f"Consent of {consent.signed_on:%Y-%m-%d} to {consent.recipient_name}"
        if not gaps:
            reason = f"{label} would cover it, but it is {why}."
        elif in_force:
            reason = f"{label}: " + "; ".join(gaps) + "."
        else:
            reason = f"{label} is {why}; also " + "; ".join(gaps) + "."
        reasons.append(reason)
        if _names(consent, req):
            own.append(reason)
    return ContactAccess(
        gate.Decision(False, None, reasons),
        own or ["No consent names this person for family involvement."],
    )


# --- the family portal ----------------------------------------------------------------


@dataclass
class FamilyAccess:
    """What a family portal page may show, decided once per request."""

    account: Any
    contact: Any
    participant: Any
    program: Any
    consent: Consent
    today: dt.date
    sections: tuple[str, ...] = field(default_factory=tuple)

    @property
    def shows_attendance(self) -> bool:
        return "attendance" in self.sections


class FamilyPortalRequest(PortalRequest):
    family: FamilyAccess


def family_portal_view(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """A family portal page: a signed-in family account (`portal_view(FAMILY)`) *and* a
    consent in force for it, checked at every request."""

    @functools.wraps(view)
    def checked(request: PortalRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        account = request.portal
        contact = account.contact
        participant = account.participant
        if contact is None:  # a family account always names its contact (a constraint)
            return refuse(request, gate.Decision(False, None, ["No contact on the account."]))
        contact.participant = participant  # the same row, already read with the account
        today = participant.program.today()
        decision = family_decision(contact, on=today)
        if not decision.allowed or decision.consent is None:
            return refuse(request, decision)
        consent = decision.consent
        access = FamilyAccess(
            account=account,
            contact=contact,
            participant=participant,
            program=participant.program,
            consent=consent,
            today=today,
            sections=sections_for(consent),
        )
        request.family = access  # type: ignore[attr-defined]
        response = view(request, *args, **kwargs)
        # A page shown is a disclosure (a refused form or a redirect shows nothing of the
        # participant's record).
        if request.method == "GET" and response.status_code == 200:
            record_daily_disclosure(access)
        return response

    return portal_view(FAMILY)(checked)


def refuse(request: PortalRequest, decision: gate.Decision) -> HttpResponse:
    """Access has ended: audited as a refused disclosure, answered with a 403 that names
    no one (with no consent in force, not even the participant's name may be shown)."""
    account = request.portal
    audit.record(
        AuditAction.DISCLOSURE_REFUSED,
        actor=request.user,
        object_type="family.portal",
        object_id=str(account.pk),
        participant_id=account.participant_id,
        changes={
            "recipient_kind": RecipientKind.FAMILY,
            "purpose": Purpose.FAMILY,
            "information": list(FAMILY_PORTAL_INFORMATION),
            "channel": Channel.FAMILY_PORTAL,
        },
        reason="; ".join(decision.reasons)[:500],
    )
    # No navigation: every other page would answer the same.
    return render(request, "family/portal/ended.html", {"portal_nav": []}, status=403)


def daily_reference(contact_id: int, day: dt.date) -> str:
    return f"FP-{contact_id}-{day:%Y%m%d}"


def record_daily_disclosure(access: FamilyAccess) -> Disclosure | None:
    """Record today's family portal disclosure to this contact, once.

    Every page a family member opens discloses the same things (that the participant is
    in the program, their family sessions, and — if covered — attendance). One
    accounting entry per contact per day lists that access exactly (§2.25 asks for the
    date, recipient, description and purpose, DOMAIN.md §2.5) without burying a
    participant's accounting under one row per page view; each page view is still in the
    audit log. The row is found by its reference ("FP-<contact>-<day>"); the account row
    is locked first so two pages opened at once write one entry.
    """
    from openiop.portal.models import PortalAccount

    reference = daily_reference(access.contact.pk, access.today)
    with transaction.atomic():
        PortalAccount.objects.select_for_update().filter(pk=access.account.pk).exists()
        if Disclosure.objects.filter(
            participant_id=access.participant.pk,
            channel=Channel.FAMILY_PORTAL,
            reference=reference,
        ).exists():
            return None
        information = information_for(access.consent)
        described = "Family portal: family sessions and workshops, education"
        if "attendance" in access.sections:
            described += ", the participant's attendance (dates and hours)"
        req = family_request(access.contact, information)
        return gate.disclose(
            gate.DisclosureRequest(
                participant=access.participant,
                recipient_kind=req.recipient_kind,
                recipient_name=req.recipient_name,
                purpose=req.purpose,
                information=information,
                channel=req.channel,
                description=described,
                contact_id=access.contact.pk,
                reference=reference,
            ),
            actor=access.account.user,
            on=access.today,
            short_notice=True,
        )
