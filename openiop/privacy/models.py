"""Consents (42 CFR Part 2), the disclosures made under them, emergency access and
amendment requests.

A consent is recorded once it is signed and never changes after that: only its
revocation (and voiding, for a record made in error) is written later. A disclosure row
is written by the disclosure gate (`privacy.gate`) and never changes.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, SignedRecordError

from .choices import (
    AmendmentStatus,
    Channel,
    ConsentKind,
    EmergencyReason,
    LegalBasis,
    RecipientKind,
    SignerRole,
)

# What may still change on a recorded consent: its revocation and voiding.
CONSENT_MUTABLE_FIELDS = frozenset(
    {
        "revoked_on",
        "revoked_at",
        "revoked_by",
        "revocation_note",
        "voided",
        "voided_at",
        "voided_by",
        "void_reason",
        "updated_at",
        "updated_by",
        "version",
    }
)


class Consent(ClinicalRecord):
    """A participant's written consent to use or disclose Part 2 records (§2.31(a)).

    Each element of §2.31(a) has its own field (DOMAIN.md §2.3):
    1 participant · 2 `discloser` · 3 `information` (+ `information_detail`) ·
    4 `recipient_*` · 5 `purposes` (+ `purpose_detail`) · 6 `revocation_explained` ·
    7 `expires_on` or `expiry_event` · 8 `signed_by` (+ `signer_role`) · 9 `signed_on`;
    for a TPO consent also `refusal_consequences_stated` and `redisclosure_stated`.
    """

    class ExpiryEvent(models.TextChoices):
        NONE = "", "—"
        END_OF_TREATMENT = "end_of_treatment", "End of treatment (discharge)"
        NO_EXPIRY = "none", "None (TPO consent only)"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="consents"
    )
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    discloser = models.CharField(
        "who may disclose",
        max_length=200,
        help_text="The program, or the named person or class allowed to disclose.",
    )
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices)
    recipient_name = models.CharField(
        max_length=200, help_text="Name of the person or organisation, or the class of recipients."
    )
    recipient_address = models.CharField(max_length=300, blank=True)
    contact = models.ForeignKey(
        "participants.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consents",
        help_text="For a family member or support person: the contact this consent names.",
    )
    purposes = models.JSONField(default=list, help_text="Purpose codes (privacy.choices.Purpose).")
    purpose_detail = models.CharField(max_length=300, blank=True)
    information = models.JSONField(
        default=list, help_text="Information categories (privacy.choices.InfoCategory)."
    )
    information_detail = models.CharField(
        "description of the information",
        max_length=500,
        help_text="Specific and meaningful, e.g. “dates and hours attended, Sept–Dec 2026”.",
    )
    expires_on = models.DateField(null=True, blank=True)
    expiry_event = models.CharField(
        max_length=20, choices=ExpiryEvent.choices, blank=True, default=""
    )
    revocation_explained = models.BooleanField(
        "told of the right to revoke",
        default=False,
        help_text="The participant was told they may revoke in writing, and how.",
    )
    refusal_consequences_stated = models.BooleanField(
        "consequences of refusing stated (TPO)", default=False
    )
    redisclosure_stated = models.BooleanField(
        "redisclosure under HIPAA stated (TPO)", default=False
    )
    signed_by = models.CharField(max_length=200, help_text="The name as signed.")
    signer_role = models.CharField(
        max_length=20, choices=SignerRole.choices, default=SignerRole.SELF
    )
    signed_on = models.DateField()
    signature_method = models.CharField(
        max_length=20,
        choices=[("paper", "Signed on paper (kept on file)"), ("electronic", "Signed on screen")],
        default="paper",
    )
    revoked_on = models.DateField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revocation_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-signed_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "voided"], name="consent_participant_voided"),
        ]

    def __str__(self) -> str:
        return f"Consent {self.pk}: {self.get_kind_display()} → {self.recipient_name}"

    def audit_label(self) -> str:
        return f"consent {self.pk}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or set(update_fields) - CONSENT_MUTABLE_FIELDS:
                raise SignedRecordError(
                    "A recorded consent never changes; revoke it and record a new one."
                )
        super().save(*args, **kwargs)

    @property
    def is_tpo(self) -> bool:
        return self.kind == ConsentKind.TPO


class Disclosure(models.Model):
    """One disclosure of a participant's records, written by the gate (§2.25, §2.32).

    Carries what the accounting of disclosures needs (date, recipient and address, a
    brief description, purpose) and what ONC (d)(11) asks (time, patient, user), plus the
    consent it relied on, the notice attached and the SHA-256 of what went out.
    """

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="disclosures"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    made_by_name = models.CharField(max_length=200, blank=True)
    legal_basis = models.CharField(
        max_length=20, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    consent = models.ForeignKey(
        Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="disclosures"
    )
    recipient_kind = models.CharField(max_length=20, choices=RecipientKind.choices)
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=20)
    purpose_detail = models.CharField(max_length=300, blank=True)
    information = models.JSONField(default=list)
    description = models.CharField(max_length=500)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    notice = models.TextField()
    document_sha256 = models.CharField(max_length=64, blank=True)
    # The document exactly as it went out (a letter's PDF), so a copy can be given again
    # and checked against its digest (ONC (d)(8)).
    document = models.BinaryField(blank=True, default=b"", editable=False)
    reference = models.CharField(max_length=40, blank=True, help_text="A letter's number, etc.")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["participant", "-at"], name="disclosure_participant_at"),
        ]

    def __str__(self) -> str:
        return f"Disclosure {self.pk} to {self.recipient_name}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("A disclosure is recorded once and never changed.")
        super().save(*args, **kwargs)

    def audit_label(self) -> str:
        return f"disclosure {self.pk}"

    def delete(self, *args, **kwargs):
        raise TypeError("Disclosures are never deleted (accounting of disclosures, §2.25).")

    @property
    def purpose_label(self) -> str:
        from .choices import Purpose

        return Purpose(self.purpose).label if self.purpose in Purpose.values else self.purpose

    @property
    def information_labels(self) -> list[str]:
        from .choices import InfoCategory

        return [
            InfoCategory(i).label.split(":")[0]
            for i in self.information
            if i in InfoCategory.values
        ]


class EmergencyAccess(models.Model):
    """Break-the-glass: a staff member opening a chart outside their care team
    (ONC (d)(6)). Time-limited, with a stated reason, reviewed by compliance."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason_kind = models.CharField(max_length=20, choices=EmergencyReason.choices)
    reason = models.CharField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["user", "participant", "expires_at"], name="emergency_user_pt"),
            models.Index(fields=["reviewed_at", "-started_at"], name="emergency_review"),
        ]

    def __str__(self) -> str:
        return f"Emergency access {self.pk} by {self.user_id} to participant {self.participant_id}"

    def audit_label(self) -> str:
        return f"emergency access {self.pk}"

    def is_active(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.ended_at is None and self.started_at <= now < self.expires_at

    def delete(self, *args, **kwargs):
        raise TypeError("Emergency accesses are never deleted.")


class AmendmentRequest(ClinicalRecord):
    """A participant's request to amend their record (ONC (d)(4), HIPAA §164.526).

    Accepted: the amendment text is appended to the record it names. Denied: the request
    and the reason stay with the record, with the participant's statement of disagreement
    if they give one.
    """

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="amendment_requests"
    )
    received_on = models.DateField()
    requested_by = models.CharField(
        max_length=200, help_text="Who asked (the participant or their representative)."
    )
    target_type = models.CharField(
        max_length=100, blank=True, help_text="The record it concerns (app_label.model)."
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(
        max_length=200, help_text="Which record, as the participant named it."
    )
    requested_change = models.TextField(max_length=4000)
    status = models.CharField(
        max_length=20, choices=AmendmentStatus.choices, default=AmendmentStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(max_length=2000, blank=True)
    amendment_text = models.TextField(
        max_length=4000, blank=True, help_text="Accepted: the text appended to the record."
    )
    disagreement = models.TextField("statement of disagreement", max_length=4000, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "voided"], name="amendment_participant"),
            models.Index(fields=["target_type", "target_id"], name="amendment_target"),
        ]

    def __str__(self) -> str:
        return f"Amendment request {self.pk}"

    def audit_label(self) -> str:
        return f"amendment request {self.pk}"
