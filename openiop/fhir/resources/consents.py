"""Consent: a participant's written consent to disclose Part 2 records (42 CFR §2.31;
DOMAIN.md §2.3 and §7, row "Part 2 consent / ROI").

`status` is computed at the moment of reading, as the disclosure gate does
(`privacy.gate.consent_status`): active while in force, inactive once revoked, expired or
ended with the treatment (DOMAIN.md §7: "Revocation = status inactive"). The provision
permits the named recipient, for the consent's purposes, the information categories it
names, from the day it was signed to its expiry date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from openiop.participants.models import Episode
from openiop.privacy import gate
from openiop.privacy.choices import InfoCategory, Purpose, SignerRole
from openiop.privacy.models import Consent

from ..labels import ACT_CODE, ACT_REASON, CONFIDENTIALITY
from ..registry import Provider, Source, register
from .patient import patient_reference

CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
CONSENT_KIND = "urn:openiop:consent-kind"  # local: TPO, specific recipient, counselling notes
INFO_CATEGORY = "urn:openiop:info-category"  # local: privacy.choices.InfoCategory
LOCAL_PURPOSE = "urn:openiop:consent-purpose"  # local: purposes without a v3 ActReason code
PART2_URL = "https://www.ecfr.gov/current/title-42/chapter-I/subchapter-A/part-2"

# Purposes with an HL7 v3 ActReason (PurposeOfUse) code: privacy.choices.Purpose uses
# those codes as its values (DOMAIN.md §2.9: TREAT, HPAYMT, HOPERAT; PATRQT, FAMRQT and
# COC are PurposeOfUse codes too). The others are local.
ACT_REASON_DISPLAY = {
    Purpose.TREATMENT: "treatment",
    Purpose.PAYMENT: "healthcare payment",
    Purpose.OPERATIONS: "healthcare operations",
    Purpose.PATIENT_REQUEST: "patient requested",
    Purpose.FAMILY: "family requested",
    Purpose.CARE_COORDINATION: "coordination of care",
}


def purpose_coding(code: str) -> dict[str, str]:
    """A purpose of use (privacy.choices.Purpose) as a Coding."""
    if code in ACT_REASON_DISPLAY:
        return {"system": ACT_REASON, "code": code, "display": ACT_REASON_DISPLAY[Purpose(code)]}
    label = Purpose(code).label if code in Purpose.values else code
    return {"system": LOCAL_PURPOSE, "code": code, "display": label}


# What the consent's provision is labelled with: the data it releases is Part 2 data
# (DOMAIN.md §2.9).
PROVISION_LABELS = [
    {"system": CONFIDENTIALITY, "code": "R", "display": "restricted"},
    {"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"},
    {
        "system": ACT_CODE,
        "code": "SUD",
        "display": "substance use disorder information sensitivity",
    },
]


def _ended_episodes(today: dt.date | Any) -> QuerySet[Any]:
    """Episodes ending the treatment a consent was signed in: discharged on or after the
    day it was signed and by `today` (as `gate._treatment_ended`)."""
    return Episode.objects.filter(
        participant_id=OuterRef("participant_id"),
        voided=False,
        discharge_date__isnull=False,
        discharge_date__gte=OuterRef("signed_on"),
        discharge_date__lte=today,
    )


def status_filters_on(today: dt.date) -> dict[str, Q]:
    """The `status` parameter as filters that say what `gate.consent_status` says on
    `today` (voided consents are never served): inactive when revoked, not yet signed,
    past its expiry date, or — for an end-of-treatment consent — after a discharge on or
    after the day it was signed."""
    ended = Q(expiry_event=Consent.ExpiryEvent.END_OF_TREATMENT) & Q(Exists(_ended_episodes(today)))
    inactive = (
        Q(revoked_at__isnull=False)
        | Q(revoked_on__isnull=False)
        | Q(signed_on__gt=today)
        | Q(expires_on__lt=today)
        | ended
    )
    active = (
        Q(revoked_at__isnull=True, revoked_on__isnull=True, signed_on__lte=today)
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        & ~ended
    )
    return {"active": active, "inactive": inactive}


class ConsentSource(Source):
    model = Consent
    # That a consent exists says that the person is (or was) in the program: enrolment.
    # No category fits better (a consent is not itself any of the data it releases).
    category = "enrolment"
    date_field = "signed_on"
    date_kind = "date"

    @property
    def status_filters(self) -> dict[str, Q]:  # type: ignore[override]
        """Computed for today. The status filter cannot see the program's time zone (the
        framework gives it no context): it uses the server's day (settings.TIME_ZONE),
        while a resource's status uses the program's day. Both are America/New_York by
        default; elsewhere they differ only for a consent whose expiry, signature or
        end-of-treatment day is the very day, in the hours the two calendars disagree."""
        return status_filters_on(timezone.localdate())

    def queryset(self) -> QuerySet[Any]:
        # The first discharge on or after signing (without the "by today" bound, so the
        # row does not depend on the day): `to_resource` compares it with the program's
        # today, so no resource costs a query of its own.
        first_discharge = (
            Episode.objects.filter(
                participant_id=OuterRef("participant_id"),
                voided=False,
                discharge_date__isnull=False,
                discharge_date__gte=OuterRef("signed_on"),
            )
            .order_by("discharge_date")
            .values("discharge_date")[:1]
        )
        return (
            Consent.objects.filter(voided=False)
            .select_related("participant")
            .annotate(fhir_first_discharge=Subquery(first_discharge))
        )

    def in_force(self, obj: Consent, today: dt.date) -> bool:
        """`gate.consent_status` on `today`, with the discharge read by `queryset()`."""
        discharged: dt.date | None = getattr(obj, "fhir_first_discharge", None)
        in_force, _why = gate.consent_status(
            obj, today, treatment_ended=lambda c: discharged is not None and discharged <= today
        )
        return in_force

    def to_resource(self, obj: Consent, ctx: Any) -> dict[str, Any]:
        today = timezone.now().astimezone(ctx.tz).date()
        patient = patient_reference(obj.participant)
        if obj.signer_role == SignerRole.SELF:
            performer = {**patient, "display": obj.signed_by}
        else:
            performer = {"display": f"{obj.signed_by} ({obj.get_signer_role_display()})"}
        period = {"start": obj.signed_on.isoformat()}
        if obj.expires_on is not None:
            period["end"] = obj.expires_on.isoformat()
        categories = [c for c in obj.information if c in InfoCategory.values]
        provision: dict[str, Any] = {
            "type": "permit",
            "period": period,
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": PARTICIPATION_TYPE,
                                "code": "IRCP",
                                "display": "information recipient",
                            }
                        ]
                    },
                    # The recipient (a person, an organisation or a class of them) as
                    # display only: this server has no Organization or RelatedPerson.
                    "reference": {"display": obj.recipient_name},
                }
            ],
            "securityLabel": [dict(label) for label in PROVISION_LABELS],
            "purpose": [purpose_coding(p) for p in obj.purposes],
            "class": [
                {"system": INFO_CATEGORY, "code": c, "display": InfoCategory(c).label}
                for c in categories
            ],
            # §2.31(a)(3): the description of the information, in the consent's words.
            "code": [{"text": obj.information_detail}] if obj.information_detail else [],
        }
        resource: dict[str, Any] = {
            "status": "active" if self.in_force(obj, today) else "inactive",
            "scope": {
                "coding": [
                    {
                        "system": CONSENT_SCOPE,
                        "code": "patient-privacy",
                        "display": "Privacy Consent",
                    }
                ]
            },
            "category": [
                {
                    # LOINC 59284-0 "Patient Consent": DOMAIN.md §7 marks it ◐ (not
                    # confirmed from LOINC itself); the local kind says which consent.
                    "coding": [
                        {
                            "system": "http://loinc.org",
                            "code": "59284-0",
                            "display": "Patient Consent",
                        }
                    ]
                },
                {
                    "coding": [
                        {
                            "system": CONSENT_KIND,
                            "code": obj.kind,
                            "display": obj.get_kind_display(),
                        }
                    ]
                },
            ],
            "patient": patient,
            "dateTime": obj.signed_on.isoformat(),
            "performer": [performer],
            # Who may disclose (§2.31(a)(2)).
            "organization": [{"display": obj.discloser}],
            # The law the consent is given under: v3-ActCode 42CFRPart2 (DOMAIN.md §2.9 ✔;
            # R4's policyRule binding is extensible), and the regulation's text.
            "policy": [{"authority": "https://www.ecfr.gov", "uri": PART2_URL}],
            "policyRule": {
                "coding": [{"system": ACT_CODE, "code": "42CFRPart2", "display": "42 CFR Part2"}]
            },
            "provision": {k: v for k, v in provision.items() if v},
        }
        return resource


register(
    Provider(
        "Consent",
        [ConsentSource()],
        documentation=(
            "Part 2 consents (42 CFR §2.31). status is computed when read: active while in "
            "force, inactive once revoked, expired or ended with treatment."
        ),
        params_doc={
            "date": "The day the consent was signed.",
            "status": "active (in force today) or inactive.",
        },
    )
)
