"""Discharge, the discharge summary and the aftercare plan (issue 10, points 1 and 2).

A discharge closes an episode with its reason (mapped to TEDS REASON), the level of care
the person goes to and who takes them on, and the TEDS items asked again at discharge
(DOMAIN.md §8.1, "Discharge outcome items"). The summary is assembled from the record,
edited by the counsellor and signed; once signed it never changes (the model refuses).
The aftercare plan is started before discharge and given to the participant.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from openiop.core.models import ClinicalRecord, SignedRecordError
from openiop.participants import teds_codes as teds
from openiop.programs.choices import LevelOfCare

from .choices import (
    TEDS_REASON,
    AftercareStatus,
    DischargeReason,
    ReferralKind,
    ReferralStatus,
    Responsible,
    SummaryStatus,
)


class Discharge(ClinicalRecord):
    episode = models.OneToOneField(
        "participants.Episode", on_delete=models.PROTECT, related_name="discharge"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="discharges"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    discharge_date = models.DateField()
    last_contact_date = models.DateField(
        help_text="The last day the person received a service (TEDS: date of last contact)."
    )
    reason = models.CharField(max_length=20, choices=DischargeReason.choices)
    reason_detail = models.TextField("what happened", max_length=4000, blank=True)
    level_at_discharge = models.CharField(max_length=10, choices=LevelOfCare.choices, blank=True)
    next_level = models.CharField(
        "level of care going to", max_length=10, choices=LevelOfCare.choices, blank=True
    )
    receiving_program = models.CharField(max_length=200, blank=True)
    receiving_contact = models.CharField("receiving program's contact", max_length=200, blank=True)
    # TEDS items asked again at discharge (DOMAIN.md §8.1); null = not known / not asked.
    sub1_d = models.PositiveSmallIntegerField(
        "primary substance at discharge", choices=teds.Substance.choices, null=True, blank=True
    )
    freq1_d = models.PositiveSmallIntegerField(
        "use of it in the past 30 days", choices=teds.Frequency.choices, null=True, blank=True
    )
    employ_d = models.PositiveSmallIntegerField(
        "employment at discharge", choices=teds.Employment.choices, null=True, blank=True
    )
    livarag_d = models.PositiveSmallIntegerField(
        "living arrangement at discharge", choices=teds.Living.choices, null=True, blank=True
    )
    arrests_d = models.PositiveSmallIntegerField(
        "arrests in the past 30 days", choices=teds.Arrests.choices, null=True, blank=True
    )
    self_help_d = models.PositiveSmallIntegerField(
        "mutual-help attendance in the past 30 days",
        choices=teds.SelfHelp.choices,
        null=True,
        blank=True,
    )
    discharged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    discharged_by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-discharge_date", "-pk"]
        indexes = [
            # The outcomes dashboard and TEDS export: a program's discharges in a period.
            models.Index(fields=["program", "discharge_date"], name="discharge_program_date"),
        ]

    def __str__(self) -> str:
        return f"Discharge {self.pk} ({self.get_reason_display()})"

    def audit_label(self) -> str:
        return f"discharge {self.pk}"

    @property
    def teds_reason(self) -> int:
        return TEDS_REASON[self.reason]

    @property
    def completed(self) -> bool:
        return self.reason == DischargeReason.COMPLETED


class DischargeSummary(ClinicalRecord):
    """The discharge summary: facts assembled from the record plus the counsellor's words.

    `facts` is the assembled part (dates, hours attended, screens, instrument change with
    reliable change, goals and their status) as JSON, refreshed while a draft and frozen
    at signing. A signed summary never changes: `save` refuses.
    """

    discharge = models.OneToOneField(Discharge, on_delete=models.PROTECT, related_name="summary")
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="discharge_summaries"
    )
    status = models.CharField(
        max_length=10, choices=SummaryStatus.choices, default=SummaryStatus.DRAFT
    )
    facts = models.JSONField(default=dict, blank=True)
    presenting_problem = models.TextField("reason for admission", max_length=8000, blank=True)
    course = models.TextField("course of treatment", max_length=12000, blank=True)
    progress = models.TextField("progress on goals", max_length=8000, blank=True)
    condition = models.TextField("condition at discharge", max_length=8000, blank=True)
    recommendations = models.TextField(max_length=8000, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by_name = models.CharField(max_length=200, blank=True)
    signed_credential = models.CharField(max_length=60, blank=True)
    content_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-pk"]
        indexes = [
            # Issue 13: the today board's "summaries to finish" reads the drafts, a handful
            # among every summary ever signed.
            models.Index(
                fields=["episode"],
                condition=models.Q(status="draft"),
                name="summary_drafts",
            ),
        ]

    def __str__(self) -> str:
        return f"Discharge summary {self.pk}"

    def audit_label(self) -> str:
        return f"discharge summary {self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.status == SummaryStatus.SIGNED

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == SummaryStatus.SIGNED:
                update_fields = set(kwargs.get("update_fields") or ())
                # Voiding a summary signed in error is the one change allowed.
                if not update_fields or not update_fields <= {
                    "voided",
                    "voided_at",
                    "voided_by",
                    "void_reason",
                    "version",
                    "updated_at",
                    "updated_by",
                }:
                    raise SignedRecordError(
                        "A signed discharge summary never changes; write an addendum."
                    )
        super().save(*args, **kwargs)


class SummaryAddendum(ClinicalRecord):
    """A later note on a signed summary (what was learnt after signing)."""

    summary = models.ForeignKey(DischargeSummary, on_delete=models.PROTECT, related_name="addenda")
    text = models.TextField(max_length=8000)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    signed_by_name = models.CharField(max_length=200, blank=True)
    signed_at = models.DateTimeField()

    class Meta:
        ordering = ["signed_at", "pk"]

    def __str__(self) -> str:
        return f"Addendum {self.pk}"

    def audit_label(self) -> str:
        return f"discharge summary addendum {self.pk}"


class AftercarePlan(ClinicalRecord):
    """The aftercare plan of an episode, started before discharge (issue 10, point 2)."""

    episode = models.OneToOneField(
        "participants.Episode", on_delete=models.PROTECT, related_name="aftercare_plan"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="aftercare_plans"
    )
    status = models.CharField(
        max_length=10, choices=AftercareStatus.choices, default=AftercareStatus.DRAFT
    )
    goals = models.TextField("what the participant wants to keep up", max_length=4000, blank=True)
    warning_signs = models.TextField("warning signs and what to do", max_length=4000, blank=True)
    crisis_plan = models.TextField(
        "in a crisis", max_length=2000, blank=True, help_text="Who to call, day and night."
    )
    given_at = models.DateTimeField(null=True, blank=True)
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    given_by_name = models.CharField(max_length=200, blank=True)
    given_sha256 = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the PDF handed over, kept as given."
    )

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"Aftercare plan {self.pk}"

    def audit_label(self) -> str:
        return f"aftercare plan {self.pk}"


class AftercareReferral(ClinicalRecord):
    plan = models.ForeignKey(AftercarePlan, on_delete=models.PROTECT, related_name="referrals")
    kind = models.CharField(max_length=20, choices=ReferralKind.choices)
    provider = models.CharField("provider or meeting", max_length=200)
    contact = models.CharField("phone, address or link", max_length=300, blank=True)
    appointment_at = models.DateTimeField("appointment", null=True, blank=True)
    responsible = models.CharField("who arranges it", max_length=20, choices=Responsible.choices)
    responsible_name = models.CharField("name", max_length=120, blank=True)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.PLANNED
    )
    notes = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["appointment_at", "pk"]
        indexes = [
            # The plan page lists a plan's referrals that are not voided.
            models.Index(fields=["plan", "voided"], name="aftercare_referral_plan"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.provider}"

    def audit_label(self) -> str:
        return f"aftercare referral {self.pk}"
