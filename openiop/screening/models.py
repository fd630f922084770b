"""Drug screening: panels, policy, random selection days, orders, collections with their
chain of custody, per-analyte results, expected medications and clinician reviews.

Reference: DOMAIN.md §5 (matrices, cut-offs, presumptive and definitive testing, codes,
chain of custody, fair random testing).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, ReferenceData

from .choices import (
    CountsAs,
    CustodyStep,
    Handling,
    Interpretation,
    OrderReason,
    OrderStatus,
    ResultMethod,
    ResultOutcome,
    ResultSource,
    ReviewOutcome,
    ReviewReason,
    ReviewStatus,
    SpecimenType,
    SubstanceClass,
    TestMethod,
    Validity,
)


class Analyte(ReferenceData):
    """A drug, drug class or metabolite a test reports on (e.g. BUP, THC, EtG)."""

    code = models.CharField(max_length=20, unique=True, help_text="Short code used by labs.")
    name = models.CharField(max_length=120)
    substance = models.CharField(max_length=20, choices=SubstanceClass.choices)
    loinc = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Panel(ReferenceData):
    """A set of analytes tested together on one specimen type, with cut-offs as data per
    device or lab (DOMAIN.md §5.2: keep the panel and its cut-offs as data)."""

    name = models.CharField(max_length=120, unique=True)
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices)
    method = models.CharField(max_length=10, choices=TestMethod.choices)
    cpt_code = models.CharField(
        "billing code",
        max_length=10,
        blank=True,
        help_text="80305 cup read by eye, 80306 instrument-assisted, 80307 analyzer (§5.4).",
    )
    device = models.CharField("device or laboratory", max_length=120, blank=True)
    description = models.CharField(max_length=300, blank=True)
    analytes: models.ManyToManyField[Analyte, PanelAnalyte] = models.ManyToManyField(
        Analyte, through="PanelAnalyte", related_name="panels"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PanelAnalyte(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="lines")
    analyte = models.ForeignKey(Analyte, on_delete=models.PROTECT, related_name="+")
    cutoff = models.DecimalField(max_digits=10, decimal_places=3)
    unit = models.CharField(max_length=20, default="ng/mL")
    confirm_cutoff = models.DecimalField(
        "definitive cut-off", max_digits=10, decimal_places=3, null=True, blank=True
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["panel", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "analyte"], name="panel_analyte_once"),
        ]

    def __str__(self) -> str:
        return f"{self.analyte.code} ≥ {self.cutoff} {self.unit}"


class ScreeningPolicy(models.Model):
    """A program's screening rules (issue 7, point 2)."""

    program = models.OneToOneField(
        "programs.Program", on_delete=models.PROTECT, related_name="screening_policy"
    )
    random_rate = models.DecimalField(
        "random tests per participant per week",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("7"))],
        help_text="ASAM: at least weekly early in treatment (DOMAIN.md §5.6).",
    )
    draw_days_per_week = models.PositiveSmallIntegerField(
        "program days per week",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(7)],
        help_text="Each program day's draw picks each eligible participant with chance "
        "rate ÷ program days per week.",
    )
    random_panel = models.ForeignKey(
        Panel, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    test_at_admission = models.BooleanField(default=True)
    scheduled_weekday = models.PositiveSmallIntegerField(
        "scheduled test every week on",
        null=True,
        blank=True,
        validators=[MaxValueValidator(6)],
        help_text="0 = Monday … 6 = Sunday; empty for none.",
    )
    scheduled_every_days = models.PositiveSmallIntegerField(
        "scheduled test every N days",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    minimum_per_week = models.DecimalField(
        "insurer-required minimum tests per participant per week",
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("7"))],
    )
    handling = models.CharField(
        max_length=12, choices=Handling.choices, default=Handling.SUPPORTIVE
    )
    refusal_counts_as = models.CharField(
        max_length=10, choices=CountsAs.choices, default=CountsAs.POSITIVE
    )
    no_show_counts_as = models.CharField(
        max_length=10, choices=CountsAs.choices, default=CountsAs.MISSED
    )
    dilute_counts_as = models.CharField(
        max_length=10, choices=CountsAs.choices, default=CountsAs.RETEST
    )
    adulterated_counts_as = models.CharField(
        max_length=10, choices=CountsAs.choices, default=CountsAs.POSITIVE
    )
    price_per_test = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("12.00"), help_text="For cost estimates."
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "screening policies"

    def __str__(self) -> str:
        return f"screening policy of {self.program_id}"

    @property
    def daily_probability(self) -> Decimal:
        """The chance each eligible participant is picked on one program day."""
        return min(Decimal(1), self.random_rate / Decimal(self.draw_days_per_week))


class SelectionDay(models.Model):
    """One program day's random draw, written once by the worker.

    The seed's SHA-256 is written to the audit log before anyone can see the list; the
    seed itself is revealed only after the day, so anyone with the rights can re-derive
    the selection from `seed` and `eligible` (DOMAIN.md §5.6: log the pool snapshot,
    method and seed; results must be reproducible from the log).
    """

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    method = models.CharField(max_length=40)
    probability = models.DecimalField(max_digits=7, decimal_places=6)
    seed_hash = models.CharField(max_length=64)
    seed = models.CharField(max_length=64, help_text="Hex; secret until revealed.")
    eligible = models.JSONField(default=list, help_text="Episode ids in the pool, sorted.")
    selected = models.JSONField(default=list, help_text="Episode ids picked, sorted.")
    drawn_at = models.DateTimeField(default=timezone.now)
    drawn_by = models.CharField(max_length=150, default="worker")
    revealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "program"]
        constraints = [
            models.UniqueConstraint(fields=["program", "day"], name="selection_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"selection {self.program_id} {self.day}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            if fields is None or set(fields) - {"revealed_at"}:
                raise TypeError("A selection day is written once; only its reveal is recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Selection days are never deleted.")


class Order(ClinicalRecord):
    """A test to collect from a participant on a program day."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="The program day the specimen is to be collected.")
    reason = models.CharField(max_length=12, choices=OrderReason.choices)
    reason_detail = models.CharField(
        max_length=500, blank=True, help_text="Why a for-cause test was ordered."
    )
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="+")
    selection = models.ForeignKey(
        SelectionDay, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    status = models.CharField(max_length=12, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    status_at = models.DateTimeField(null=True, blank=True)
    status_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["day", "pk"]
        indexes = [
            models.Index(fields=["program", "day"], name="screen_order_program_day"),
            models.Index(fields=["participant", "day"], name="screen_order_participant_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} test {self.day}"

    def audit_label(self) -> str:
        return f"screening order {self.pk}"


class Collection(ClinicalRecord):
    """The specimen collected for an order (DOMAIN.md §5.5)."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="collection")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    specimen_id = models.CharField(
        "specimen id", max_length=40, unique=True, help_text="The barcode on the bottle label."
    )
    specimen_type = models.CharField(max_length=12, choices=SpecimenType.choices)
    collected_at = models.DateTimeField()
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    observed = models.BooleanField(default=False)
    observed_reason = models.CharField(max_length=300, blank=True)
    temperature_in_range = models.BooleanField(
        null=True, blank=True, help_text="Urine: read within 4 minutes, 32–38 °C (§5.5)."
    )
    validity = models.CharField(max_length=12, choices=Validity.choices, default=Validity.VALID)
    remarks = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-collected_at", "pk"]
        indexes = [
            models.Index(fields=["participant", "collected_at"], name="collection_participant_at"),
        ]

    def __str__(self) -> str:
        return f"specimen {self.specimen_id}"

    def audit_label(self) -> str:
        return f"specimen {self.specimen_id}"


class CustodyEvent(models.Model):
    """One step of a specimen's chain of custody: append-only (DOMAIN.md §5.5)."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="custody")
    step = models.CharField(max_length=12, choices=CustodyStep.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    by_name = models.CharField(
        "who", max_length=150, help_text="Staff name, courier, or the lab's receiver."
    )
    detail = models.CharField(
        max_length=300, blank=True, help_text="Courier or shipping id, lab accession, remarks."
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_step_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Chain-of-custody steps are appended, never changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Chain-of-custody steps are never deleted.")


class ExpectedMedication(ClinicalRecord):
    """A medication the participant takes that a test may detect (buprenorphine,
    methadone, prescribed benzodiazepines): a positive it explains is expected, not use."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("medication", max_length=120)
    analytes = models.ManyToManyField(Analyte, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    prescriber = models.CharField(max_length=120, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-start_date", "pk"]

    def __str__(self) -> str:
        return self.name

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Result(ClinicalRecord):
    """One analyte's result on one specimen, presumptive or definitive."""

    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="results")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    analyte = models.ForeignKey(Analyte, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=12, choices=ResultMethod.choices)
    outcome = models.CharField(max_length=12, choices=ResultOutcome.choices)
    value = models.DecimalField(max_digits=12, decimal_places=3, null=True, blank=True)
    unit = models.CharField(max_length=20, blank=True)
    cutoff = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    interpretation = models.CharField(max_length=12, choices=Interpretation.choices)
    explained_by = models.ForeignKey(
        ExpectedMedication, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(
        max_length=8, choices=ResultSource.choices, default=ResultSource.MANUAL
    )
    resulted_at = models.DateTimeField(default=timezone.now)
    lab_accession = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["collection", "analyte__name", "method", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "analyte", "method"],
                condition=models.Q(voided=False),
                name="result_one_per_analyte_method",
            ),
        ]
        indexes = [models.Index(fields=["participant", "resulted_at"], name="result_participant")]

    def __str__(self) -> str:
        return f"{self.analyte.code} {self.outcome}"

    def audit_label(self) -> str:
        return f"result {self.pk}"


class Review(ClinicalRecord):
    """A clinician's review of an unexpected positive, a refusal, a no-show or an invalid
    specimen: what it means and what changed in the plan (issue 7, point 7)."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="reviews")
    reason = models.CharField(max_length=10, choices=ReviewReason.choices)
    detail = models.CharField(max_length=300, blank=True, help_text="E.g. the analytes.")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    escalated = models.BooleanField(
        default=False, help_text="Strict policy: the director is told as well."
    )
    status = models.CharField(max_length=8, choices=ReviewStatus.choices, default=ReviewStatus.OPEN)
    outcome = models.CharField(max_length=10, choices=ReviewOutcome.choices, blank=True)
    plan_change = models.TextField("what changed in the plan", max_length=4000, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=models.Q(voided=False),
                name="review_one_per_order_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["assigned_to", "status"], name="review_assignee_status"),
            models.Index(fields=["participant", "created_at"], name="review_participant"),
        ]

    def __str__(self) -> str:
        return f"review of {self.get_reason_display().lower()}"

    def audit_label(self) -> str:
        return f"screening review {self.pk}"
