"""Billing: the program's billing profile, payers, coverage, authorisations and claims
(issue 11). Billable days are not stored: `days.py` derives them from attendance and
signed notes whenever they are asked for, so they are never out of date. A claim keeps
its lines as they were built, so what was sent is what the record shows.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, ReferenceData

from .choices import (
    ClaimStatus,
    CoverageKind,
    PayerKind,
    PlaceOfService,
    Priority,
    Relationship,
    ServiceCode,
    Sex,
    TelehealthModifier,
)

digits = RegexValidator(r"^[0-9]+$", "Digits only.")
ten_digits = RegexValidator(r"^[0-9]{10}$", "Ten digits.")
nine_digits = RegexValidator(r"^[0-9]{9}$", "Nine digits, no dash.")


class BillingProfile(models.Model):
    """How one program bills: who it is on a claim, what a day is and what it costs."""

    program = models.OneToOneField(
        "programs.Program", on_delete=models.PROTECT, related_name="billing_profile"
    )
    billing_name = models.CharField("billing provider name", max_length=60)
    npi = models.CharField("NPI", max_length=10, validators=[ten_digits])
    tax_id = models.CharField("EIN", max_length=9, validators=[nine_digits])
    taxonomy_code = models.CharField(
        max_length=10,
        default="261QR0405X",
        help_text="Provider taxonomy; 261QR0405X is a substance use disorder "
        "rehabilitation clinic.",
    )
    address_line = models.CharField("street address", max_length=55)
    city = models.CharField(max_length=30)
    state = models.CharField(max_length=2)
    postal_code = models.CharField(
        "ZIP+4",
        max_length=9,
        validators=[nine_digits],
        help_text="Nine digits: a billing provider's ZIP code needs its +4 on an 837P.",
    )
    phone = models.CharField(max_length=10, validators=[ten_digits])
    submitter_id = models.CharField(
        "submitter id", max_length=15, help_text="Your id with the clearinghouse (ISA06)."
    )
    receiver_id = models.CharField(
        "clearinghouse id", max_length=15, help_text="The clearinghouse's id (ISA08)."
    )
    receiver_name = models.CharField("clearinghouse name", max_length=60)
    contact_name = models.CharField("billing contact", max_length=60)
    production = models.BooleanField(
        default=False, help_text="Send claim files as production (ISA15 P), not test (T)."
    )
    service_code = models.CharField(
        max_length=5, choices=ServiceCode.choices, default=ServiceCode.H0015
    )
    place_of_service = models.CharField(
        "place of service in person",
        max_length=2,
        choices=PlaceOfService.choices,
        default=PlaceOfService.SUD_FACILITY,
    )
    telehealth_at_home = models.BooleanField(
        "telehealth participants join from home",
        default=True,
        help_text="Telehealth days are billed with place of service 10 (home); "
        "untick for 02 (a clinic or other place).",
    )
    billable_minimum_minutes = models.PositiveSmallIntegerField(
        "billable minimum (minutes a day)",
        default=180,
        validators=[MinValueValidator(15), MaxValueValidator(720)],
        help_text="H0015 is a day of at least 3 hours (DOMAIN.md §6.1).",
    )
    daily_charge = models.DecimalField(
        "charge per day",
        max_digits=9,
        decimal_places=2,
        default=Decimal("250.00"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    alert_remaining_days = models.PositiveSmallIntegerField(
        "warn when days left fall to",
        default=3,
        validators=[MaxValueValidator(60)],
    )
    alert_end_days = models.PositiveSmallIntegerField(
        "warn this many days before an authorisation ends",
        default=5,
        validators=[MaxValueValidator(60)],
    )
    # Sliding fee for self-pay: household income against the HHS poverty guideline.
    # 2025 guideline for the 48 contiguous states and DC: $15,650 for one person and
    # $5,500 for each additional person (HHS, 90 FR 5917); update each January.
    poverty_base = models.PositiveIntegerField("poverty guideline, one person", default=15650)
    poverty_per_person = models.PositiveIntegerField(
        "poverty guideline, each additional person", default=5500
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Billing profile of {self.program}"

    def audit_label(self) -> str:
        return f"billing profile {self.pk}"


class SlidingFeeTier(ReferenceData):
    """Self-pay fee per program day by household income as % of the poverty guideline.
    The tier with the lowest `up_to_percent` at or above the household's applies; the
    tier with no limit is the full fee."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    up_to_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Blank: every income above the other tiers."
    )
    fee_per_day = models.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        ordering = ["program", models.F("up_to_percent").asc(nulls_last=True)]

    def __str__(self) -> str:
        limit = f"up to {self.up_to_percent}%" if self.up_to_percent else "above"
        return f"{limit}: ${self.fee_per_day}/day"


class Payer(ReferenceData):
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=60)
    payer_id = models.CharField(
        "payer id",
        max_length=20,
        help_text="The payer's electronic id at your clearinghouse (2010BB NM109).",
    )
    kind = models.CharField(max_length=15, choices=PayerKind.choices)
    address_line = models.CharField("claims address", max_length=55, blank=True)
    city = models.CharField(max_length=30, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=9, blank=True)
    phone = models.CharField("provider services phone", max_length=20, blank=True)
    units_per_day = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
        help_text="Units billed for one program day (most payers: 1 per diem; some: 2 "
        "half-day units).",
    )
    telehealth_modifier = models.CharField(
        max_length=2, choices=TelehealthModifier.choices, default=TelehealthModifier.MOD_95
    )
    covers_telehealth = models.BooleanField(
        "pays program days given by telehealth",
        default=True,
        help_text="Whether Medicare pays hospital or CMHC IOP days given remotely is not "
        "settled (DOMAIN.md §6.3): untick when the payer's policy does not say so.",
    )
    requires_authorisation = models.BooleanField(default=True)
    timely_filing_days = models.PositiveSmallIntegerField(
        "filing limit (days)",
        default=90,
        validators=[MinValueValidator(30), MaxValueValidator(730)],
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="payer_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"payer {self.pk}"


class Coverage(ClinicalRecord):
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="coverages"
    )
    kind = models.CharField(max_length=10, choices=CoverageKind.choices)
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="coverages"
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.PRIMARY)
    member_id = models.CharField("member id", max_length=30, blank=True)
    group_number = models.CharField(max_length=30, blank=True)
    plan_name = models.CharField(max_length=60, blank=True)
    relationship = models.CharField(
        "patient is the subscriber's",
        max_length=2,
        choices=Relationship.choices,
        default=Relationship.SELF,
    )
    subscriber_first_name = models.CharField(max_length=35, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    patient_sex = models.CharField(
        "participant's sex on the plan's record",
        max_length=1,
        choices=Sex.choices,
        default=Sex.UNKNOWN,
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    verified_on = models.DateField("benefits verified on", null=True, blank=True)
    verified_by_name = models.CharField(max_length=200, blank=True)
    # Self-pay: the household the sliding fee is worked out from.
    household_size = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(20)]
    )
    annual_income = models.DecimalField(
        "household income a year", max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["priority", "-start_date", "pk"]
        indexes = [models.Index(fields=["participant", "voided"], name="coverage_participant")]

    def __str__(self) -> str:
        if self.kind == CoverageKind.SELF_PAY:
            return "Self-pay"
        return f"{self.payer} {self.member_id}".strip()

    def audit_label(self) -> str:
        return f"coverage {self.pk}"

    def in_force(self, day) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Authorisation(ClinicalRecord):
    """Days (or units) a payer approved for a service, in a date range. A renewal after
    concurrent review is a new authorisation naming the one it continues."""

    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="authorisations")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    service_code = models.CharField(max_length=5, choices=ServiceCode.choices)
    units = models.PositiveSmallIntegerField(
        "units authorised", validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    start_date = models.DateField()
    end_date = models.DateField()
    reference_number = models.CharField("authorisation number", max_length=50)
    next_review_on = models.DateField("next concurrent review", null=True, blank=True)
    renews = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
        verbose_name="renewal of",
    )
    reviewer = models.CharField("payer's reviewer", max_length=120, blank=True)
    notes = models.TextField(max_length=2000, blank=True)

    class Meta:
        ordering = ["start_date", "pk"]
        indexes = [
            models.Index(fields=["participant", "voided"], name="authorisation_participant"),
            models.Index(fields=["end_date"], name="authorisation_end"),
        ]

    def __str__(self) -> str:
        return f"{self.reference_number} ({self.units} {self.service_code})"

    def audit_label(self) -> str:
        return f"authorisation {self.pk}"


class ClaimBatch(models.Model):
    """One claim file sent to a payer: the X12 837P interchange, kept as it was made."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="+")
    control_number = models.PositiveIntegerField(unique=True, help_text="ISA13.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    claim_count = models.PositiveIntegerField()
    total_charge = models.DecimalField(max_digits=11, decimal_places=2)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    test_file = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"837P {self.control_number:09d}"

    def audit_label(self) -> str:
        return f"claim file {self.pk}"


class Claim(ClinicalRecord):
    number = models.CharField(max_length=20, unique=True, editable=False)
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(Coverage, on_delete=models.PROTECT, related_name="claims")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    total_charge = models.DecimalField(max_digits=10, decimal_places=2)
    diagnosis_codes = models.JSONField(default=list)
    batch = models.ForeignKey(
        ClaimBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by_name = models.CharField(max_length=200, blank=True)
    payer_claim_number = models.CharField("payer's claim number", max_length=50, blank=True)
    paid_amount = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    denial_code = models.CharField(max_length=5, blank=True)
    denial_reason = models.CharField(max_length=500, blank=True)
    denied_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "number"]
        indexes = [
            models.Index(fields=["program", "status"], name="claim_program_status"),
            models.Index(fields=["participant"], name="claim_participant"),
        ]

    def __str__(self) -> str:
        return f"Claim {self.number}"

    def audit_label(self) -> str:
        return f"claim {self.number}"


class ClaimLine(models.Model):
    """One day of service on a claim, as built. Lines of a voided claim free their days."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    service_date = models.DateField()
    service_code = models.CharField(max_length=5, choices=ServiceCode.choices)
    modifiers = models.JSONField(default=list)
    place_of_service = models.CharField(max_length=2, choices=PlaceOfService.choices)
    units = models.PositiveSmallIntegerField()
    charge = models.DecimalField(max_digits=9, decimal_places=2)
    minutes = models.PositiveIntegerField()
    telehealth = models.BooleanField(default=False)
    authorisation = models.ForeignKey(
        Authorisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["service_date", "pk"]
        indexes = [
            models.Index(fields=["participant", "service_date"], name="claimline_day"),
        ]

    def __str__(self) -> str:
        return f"{self.service_date} {self.service_code}"


class ReviewPacket(models.Model):
    """A concurrent-review packet made for a payer's reviewer, kept with the disclosure
    the consent gate recorded for it."""

    authorisation = models.ForeignKey(
        Authorisation, on_delete=models.PROTECT, related_name="packets"
    )
    disclosure = models.OneToOneField(
        "privacy.Disclosure", on_delete=models.PROTECT, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["-made_at", "-pk"]

    def __str__(self) -> str:
        return f"Review packet {self.pk}"
