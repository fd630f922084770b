"""The consent registry's reads: each consent's status, a participant's consents, the
compliance-wide list and the chart section — each in a fixed number of queries.

A consent's status is `gate.consent_status` (42 CFR §2.31(a)(6)-(7), DOMAIN.md §2.3), the
same function the disclosure gate reads at the moment of each disclosure. Its one query
(has treatment ended? for an "end of treatment" expiry) is answered here for a whole page
at once by an `Exists` annotation with the same filter, so a list of consents costs one
query, not one per row.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse

from openiop.core.roles import Perm
from openiop.participants.models import Episode

from . import gate
from .choices import InfoCategory, Purpose
from .models import Consent, Disclosure

END_OF_TREATMENT = Consent.ExpiryEvent.END_OF_TREATMENT

# The compliance list's status filter (issue 8, point 1.2).
IN_FORCE = "in_force"
EXPIRING = "expiring"
REVOKED = "revoked"
EXPIRED = "expired"
VOID = "void"
STATUS_FILTERS = [
    (IN_FORCE, "In force"),
    (EXPIRING, "Expiring in 30 days"),
    (REVOKED, "Revoked"),
    (EXPIRED, "Expired"),
    (VOID, "Void (recorded in error)"),
]
EXPIRING_DAYS = 30


@dataclass(frozen=True)
class Status:
    """A consent's status for display: `key` (in_force, expired, revoked, void, pending),
    a short label and the gate's explanation."""

    key: str
    label: str
    reason: str

    @property
    def in_force(self) -> bool:
        return self.key == IN_FORCE


def treatment_ended() -> Exists:
    """The same test as `gate._treatment_ended`: an episode of the participant was
    discharged on or after the day the consent was signed (a readmission needs a new
    consent)."""
    return Exists(
        Episode.objects.filter(
            participant_id=OuterRef("participant_id"),
            voided=False,
            discharge_date__isnull=False,
            discharge_date__gte=OuterRef("signed_on"),
        )
    )


def disclosure_count() -> Coalesce:
    """How many disclosures were made under the consent (a subquery, no GROUP BY)."""
    counted = (
        Disclosure.objects.filter(consent_id=OuterRef("pk"))
        .order_by()
        .values("consent_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def annotated(qs: QuerySet[Consent]) -> QuerySet[Consent]:
    return qs.annotate(treatment_ended=treatment_ended(), disclosure_count=disclosure_count())


def status_of(consent: Consent, on: dt.date) -> Status:
    """The consent's status on `on`, by `gate.consent_status`. A consent fetched through
    `annotated` carries `treatment_ended`, which stands in for the gate's own query."""
    ended = getattr(consent, "treatment_ended", None)
    if ended is None or consent.expiry_event != END_OF_TREATMENT:
        in_force, why = gate.consent_status(consent, on)
    else:
        # The gate on a copy without the event, then the event from the annotation.
        bare = copy.copy(consent)
        bare.expiry_event = ""
        in_force, why = gate.consent_status(bare, on)
        if in_force and ended:
            in_force, why = False, "expired at the end of treatment (discharge)"
    if in_force:
        return Status(IN_FORCE, "In force", why)
    if consent.voided:
        return Status(VOID, "Void", why)
    if consent.revoked_at is not None or consent.revoked_on is not None:
        return Status(REVOKED, "Revoked", why)
    if why.startswith("not signed"):
        return Status("pending", "Not yet in force", why)
    return Status(EXPIRED, "Expired", why)


def in_force_q(today: dt.date) -> Q:
    """Consents in force on `today`, as a filter (needs the `treatment_ended` annotation)."""
    return (
        Q(voided=False, revoked_at__isnull=True, revoked_on__isnull=True, signed_on__lte=today)
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        & ~Q(expiry_event=END_OF_TREATMENT, treatment_ended=True)
    )


def status_q(key: str, today: dt.date) -> Q:
    revoked = Q(revoked_at__isnull=False) | Q(revoked_on__isnull=False)
    if key == IN_FORCE:
        return in_force_q(today)
    if key == EXPIRING:
        soon = today + dt.timedelta(days=EXPIRING_DAYS)
        return in_force_q(today) & Q(expires_on__isnull=False, expires_on__lte=soon)
    if key == REVOKED:
        return Q(voided=False) & revoked
    if key == EXPIRED:
        return (
            Q(voided=False)
            & ~revoked
            & (Q(expires_on__lt=today) | Q(expiry_event=END_OF_TREATMENT, treatment_ended=True))
        )
    if key == VOID:
        return Q(voided=True)
    return Q()


# --- labels ----------------------------------------------------------------------------


def purpose_labels(consent: Consent) -> list[str]:
    chosen = set(consent.purposes)
    labels = [label for value, label in Purpose.choices if value in chosen]
    if consent.purpose_detail:
        labels.append(consent.purpose_detail)
    return labels


def information_labels(consent: Consent, *, short: bool = False) -> list[str]:
    chosen = set(consent.information)
    return [
        label.split(":")[0] if short else label
        for value, label in InfoCategory.choices
        if value in chosen
    ]


def expiry_label(consent: Consent) -> str:
    if consent.expires_on:
        return f"{consent.expires_on:%b %-d, %Y}"
    if consent.expiry_event:
        return str(consent.get_expiry_event_display())
    return "—"


def expiry_phrase(consent: Consent) -> str:
    if consent.expires_on:
        return f"until {consent.expires_on:%b %-d, %Y}"
    if consent.expiry_event == END_OF_TREATMENT:
        return "until the end of treatment"
    if consent.expiry_event == Consent.ExpiryEvent.NO_EXPIRY:
        return "no expiry"
    return ""


def accounting_url(participant_pk: int) -> str | None:
    """The accounting of disclosures for this participant, where that page exists."""
    for name in ("participant_privacy:accounting", "privacy:accounting"):
        try:
            return reverse(name, args=[participant_pk])
        except NoReverseMatch:
            continue
    return None


# --- a participant's consents -------------------------------------------------------------


def participant_rows(participant: Any, today: dt.date) -> list[dict[str, Any]]:
    """Every consent of the participant (void ones too) with its status; in force first,
    then the newest. One query."""
    consents = list(annotated(Consent.objects.filter(participant=participant)))
    rows = [row(c, today) for c in consents]
    rows.sort(key=lambda r: (not r["status"].in_force, r["status"].key == VOID))
    return rows


def row(consent: Consent, today: dt.date) -> dict[str, Any]:
    return {
        "consent": consent,
        "status": status_of(consent, today),
        "purposes": purpose_labels(consent),
        "information": information_labels(consent, short=True),
        "expiry": expiry_label(consent),
        "until": expiry_phrase(consent),
        "disclosures": getattr(consent, "disclosure_count", None),
    }


def chart_rows(participant: Any, today: dt.date) -> tuple[list[dict[str, Any]], int]:
    """The consents in force (for the chart) and how many others there are. One query."""
    rows = participant_rows(participant, today)
    in_force = [r for r in rows if r["status"].in_force]
    return in_force, len(rows) - len(in_force)


def chart_context(request: Any, participant: Any) -> dict[str, Any]:
    """The chart's "Consents" section: the consents in force. One query."""
    rows, others = chart_rows(participant, participant.program.today())
    return {
        "consent_rows": rows,
        "consent_others": others,
        "can_record_consent": request.user.has_perm_code(Perm.CONSENT_RECORD),
    }
