"""Attendance letters (issue 9, point 5): the requests for them and what each letter that
went out states, for its public verification page.

A letter itself is a `privacy.Disclosure` written by the consent gate (the PDF is kept
there byte for byte with its SHA-256, and the accounting of disclosures lists it). A
`LetterRequest` is the participant's (or staff's) ask and its outcome; a
`LetterVerification` is the letter's statement as printed, found by the SHA-256 of its
verification code. Neither is ever deleted; a verification never changes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord

from .choices import LetterRecipient, LetterStatus, RequestedVia


class LetterRequest(ClinicalRecord):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="letter_requests"
    )
    episode = models.ForeignKey(
        "participants.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The episode current when the letter was asked for.",
    )
    requested_at = models.DateTimeField(default=timezone.now)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_via = models.CharField(max_length=10, choices=RequestedVia.choices)
    recipient_kind = models.CharField(max_length=20, choices=LetterRecipient.choices)
    recipient_name = models.CharField(max_length=200)
    recipient_address = models.CharField(max_length=300, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    note = models.CharField(max_length=500, blank=True, help_text="The participant's note.")
    status = models.CharField(
        max_length=10, choices=LetterStatus.choices, default=LetterStatus.PENDING
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decline_reason = models.CharField(max_length=500, blank=True)
    disclosure = models.OneToOneField(
        "privacy.Disclosure",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="letter_request",
        help_text="The letter that went out (produced requests).",
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            # The worklist and the today-board panel: pending requests, oldest first.
            models.Index(fields=["status", "requested_at"], name="letter_request_status"),
            # A participant's requests, newest first (chart section, portal list).
            models.Index(fields=["participant", "-requested_at"], name="letter_request_pt"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__lte=models.F("period_end")),
                name="letter_request_period_in_order",
            ),
            # A request is "ready" only with the letter that went out.
            models.CheckConstraint(
                condition=~models.Q(status=LetterStatus.PRODUCED)
                | models.Q(disclosure__isnull=False),
                name="letter_request_produced_has_letter",
            ),
        ]

    def __str__(self) -> str:
        return f"Letter request {self.pk}"

    def audit_label(self) -> str:
        return f"letter request {self.pk}"

    @property
    def pending(self) -> bool:
        return self.status == LetterStatus.PENDING


class LetterVerification(models.Model):
    """What one attendance letter states, shown by the public verification page to whoever
    types its code — and nothing more (no diagnosis, no other dates, no address)."""

    disclosure = models.OneToOneField(
        "privacy.Disclosure", on_delete=models.PROTECT, related_name="verification"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    # The code itself is printed on the letter only; the database keeps its SHA-256 (the
    # lookup key) and its first four characters, to tell letters apart on staff pages.
    code_sha256 = models.CharField(max_length=64, unique=True)
    code_hint = models.CharField(max_length=4)
    reference = models.CharField(max_length=40)
    issued_on = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    participant_name = models.CharField(max_length=200, help_text="The name as printed.")
    program_name = models.CharField(max_length=200)
    recipient_name = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    # [{"admitted": "YYYY-MM-DD", "discharged": "YYYY-MM-DD" or null}], as printed.
    enrolment = models.JSONField(default=list)
    # [["YYYY-MM-DD", "2.5"], ...]: each day attended and its hours, as printed.
    days = models.JSONField(default=list)
    total_hours = models.DecimalField(max_digits=7, decimal_places=1)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Verification of {self.reference}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("A letter's verification record is written once and never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("A letter's verification record is never deleted.")

    def audit_label(self) -> str:
        return f"letter {self.reference}"

    @property
    def day_rows(self) -> list[tuple[dt.date, Decimal]]:
        return [(dt.date.fromisoformat(d), Decimal(h)) for d, h in self.days]

    @property
    def enrolment_rows(self) -> list[tuple[dt.date, dt.date | None]]:
        return [
            (
                dt.date.fromisoformat(e["admitted"]),
                dt.date.fromisoformat(e["discharged"]) if e.get("discharged") else None,
            )
            for e in self.enrolment
        ]


class VerificationAttempt(models.Model):
    """An unknown code typed on the public verification page, counted per client address
    for the throttle (letters/verify.py). Carries no code and no participant."""

    client_ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The throttle's count: one address's failures in the last minutes.
            models.Index(fields=["client_ip", "-at"], name="letter_verify_ip_at"),
        ]

    def __str__(self) -> str:
        return f"Failed verification from {self.client_ip} at {self.at:%Y-%m-%d %H:%M}"
