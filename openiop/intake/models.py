"""Referrals and their contact log, pre-admission screens, ASAM assessments, diagnoses
and the admission record (consent to treatment, confidentiality notice)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord
from openiop.participants import teds_codes as teds
from openiop.programs.choices import LevelOfCare

from .choices import (
    AssessmentKind,
    AssessmentStatus,
    ContactMethod,
    ContactOutcome,
    FormSource,
    NotAdmittedReason,
    Outcome,
    Urgency,
)


class Referral(ClinicalRecord):
    """The referral that opened an episode: who sent the person, why, and how it ended.

    Source and date live on the episode (they are TEDS items); the rest is here.
    """

    episode = models.OneToOneField(
        "participants.Episode", on_delete=models.PROTECT, related_name="referral"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="referrals"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(default=timezone.now)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    referrer_name = models.CharField("referrer", max_length=120, blank=True)
    referrer_organisation = models.CharField("organisation", max_length=120, blank=True)
    referrer_phone = models.CharField("referrer's phone", max_length=30, blank=True)
    referrer_email = models.EmailField("referrer's email", blank=True)
    reason = models.TextField("reason for referral", max_length=4000)
    insurance_payer = models.CharField("insurance", max_length=120, blank=True)
    insurance_member_id = models.CharField("member id", max_length=60, blank=True)
    insurance_verified = models.BooleanField("benefits verified", default=False)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="intake worker",
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    not_admitted_reason = models.CharField(
        max_length=20, choices=NotAdmittedReason.choices, blank=True
    )
    referred_to = models.CharField(max_length=200, blank=True)
    close_note = models.TextField(blank=True, max_length=2000)
    days_to_admission = models.PositiveIntegerField(
        null=True, blank=True, help_text="Referral date to admission date, in days."
    )

    class Meta:
        ordering = ["-received_at", "-pk"]
        indexes = [
            models.Index(fields=["program", "outcome"], name="referral_program_outcome"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}"

    def audit_label(self) -> str:
        return f"referral {self.pk}"

    @property
    def referrer_summary(self) -> str:
        return ", ".join(p for p in (self.referrer_name, self.referrer_organisation) if p)


class ContactAttempt(models.Model):
    """One attempt to reach a referred person. Written once, never changed."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attempts")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=12, choices=ContactMethod.choices)
    outcome = models.CharField(max_length=15, choices=ContactOutcome.choices)
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.get_outcome_display()}"


class PreScreen(ClinicalRecord):
    """Pre-admission screening: does IOP fit? Answers and the flags they raised, as given."""

    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, related_name="prescreens"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    screened_on = models.DateField()
    answers = models.JSONField()
    flags = models.JSONField(default=list)
    fits = models.BooleanField()
    note = models.TextField(blank=True, max_length=4000)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-screened_on", "-pk"]

    def __str__(self) -> str:
        return f"Pre-admission screen {self.pk}"

    def audit_label(self) -> str:
        return f"pre-admission screen {self.pk}"


class Assessment(ClinicalRecord):
    """An ASAM multidimensional assessment: six risk ratings with the clinician's narrative,
    the level our rules recommend, and the level the clinician chose (with a reason when
    they differ). Signed assessments never change; a later one is a reassessment."""

    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, related_name="assessments"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="assessments"
    )
    kind = models.CharField(
        max_length=15, choices=AssessmentKind.choices, default=AssessmentKind.INITIAL
    )
    edition = models.CharField(max_length=1, default="3")
    assessed_on = models.DateField()
    form_source = models.CharField(
        max_length=10, choices=FormSource.choices, default=FormSource.OPENIOP
    )
    licensed_tool = models.CharField(max_length=120, blank=True)
    licensed_reference = models.CharField(max_length=120, blank=True)
    rating_1 = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_2 = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_3 = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_4 = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_5 = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_6 = models.PositiveSmallIntegerField(null=True, blank=True)
    narrative_1 = models.TextField(blank=True, max_length=8000)
    narrative_2 = models.TextField(blank=True, max_length=8000)
    narrative_3 = models.TextField(blank=True, max_length=8000)
    narrative_4 = models.TextField(blank=True, max_length=8000)
    narrative_5 = models.TextField(blank=True, max_length=8000)
    narrative_6 = models.TextField(blank=True, max_length=8000)
    summary = models.TextField("clinical summary", blank=True, max_length=8000)
    recommended_level = models.CharField(max_length=10, choices=LevelOfCare.choices, blank=True)
    rules_fired = models.JSONField(default=list, blank=True)
    chosen_level = models.CharField(max_length=10, choices=LevelOfCare.choices, blank=True)
    override_reason = models.TextField(blank=True, max_length=4000)
    status = models.CharField(
        max_length=10, choices=AssessmentStatus.choices, default=AssessmentStatus.DRAFT
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_by_name = models.CharField(max_length=200, blank=True)
    signed_credential = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["-assessed_on", "-pk"]

    def __str__(self) -> str:
        return f"ASAM assessment {self.pk}"

    def audit_label(self) -> str:
        return f"assessment {self.pk}"

    @property
    def is_signed(self) -> bool:
        return self.status == AssessmentStatus.SIGNED

    @property
    def ratings(self) -> tuple[int | None, ...]:
        return tuple(getattr(self, f"rating_{n}") for n in range(1, 7))

    @property
    def narratives(self) -> tuple[str, ...]:
        return tuple(getattr(self, f"narrative_{n}") for n in range(1, 7))

    @property
    def overridden(self) -> bool:
        return bool(self.chosen_level and self.chosen_level != self.recommended_level)


class Diagnosis(ClinicalRecord):
    """An ICD-10-CM diagnosis recorded for an episode (F10–F19 for the SUD itself)."""

    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, related_name="diagnoses"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    code = models.CharField(max_length=10)
    description = models.CharField(max_length=250)
    primary = models.BooleanField(default=False)
    noted_on = models.DateField()

    class Meta:
        ordering = ["-primary", "code", "pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"

    def audit_label(self) -> str:
        return f"diagnosis {self.pk}"


class Admission(ClinicalRecord):
    """What was signed and given at admission: consent to treatment and the 42 CFR Part 2
    confidentiality notice (§2.22, DOMAIN.md §2.8)."""

    episode = models.OneToOneField(
        "participants.Episode", on_delete=models.PROTECT, related_name="admission"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    treatment_consent_signed_on = models.DateField()
    treatment_consent_signature = models.CharField(
        max_length=200, help_text="The participant's name as they signed."
    )
    notice_given_on = models.DateField()
    notice_acknowledged = models.BooleanField()
    level_reason = models.TextField(
        blank=True,
        max_length=2000,
        help_text="Why admitted at a level the assessment did not choose.",
    )
    witnessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"Admission {self.pk}"

    def audit_label(self) -> str:
        return f"admission {self.pk}"


def _code(label: str, codes: type[models.IntegerChoices]) -> Any:
    return models.PositiveSmallIntegerField(label, choices=codes.choices, null=True, blank=True)


class TedsAdmission(ClinicalRecord):
    """The TEDS admission items of an episode (DOMAIN.md §8.1: MDS and some SuDS items),
    recorded at intake as structured data. Each value is a TEDS code; null = not yet
    recorded, which the TEDS export lists as missing rather than emitting a guess.

    Items the record already holds are not repeated here: the admission date, referral
    source (PSOURCE), days waiting (DAYWAIT), service type (SERVICES, from the level of
    care), age and the client id come from the episode and the participant.
    """

    episode = models.OneToOneField(
        "participants.Episode", on_delete=models.PROTECT, related_name="teds_admission"
    )
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    sex = _code("sex", teds.Sex)
    race = _code("race", teds.Race)
    ethnicity = _code("ethnicity", teds.Ethnicity)
    marital_status = _code("marital status", teds.MaritalStatus)
    education = _code("education", teds.Education)
    employment = _code("employment", teds.Employment)
    living = _code("living arrangement", teds.Living)
    veteran = _code("veteran", teds.YesNo)
    pregnant = _code("pregnant at admission", teds.YesNo)
    arrests = _code("arrests in the past 30 days", teds.Arrests)
    psychiatric_problem = _code("co-occurring mental health problem", teds.YesNo)
    prior_treatment = _code("prior treatment episodes", teds.PriorTreatment)
    methuse = _code("medication for opioid use disorder planned", teds.YesNo)
    self_help = _code("mutual-help attendance in the past 30 days", teds.SelfHelp)
    sub1 = _code("primary substance", teds.Substance)
    route1 = _code("route (primary)", teds.Route)
    freq1 = _code("frequency (primary)", teds.Frequency)
    frstuse1 = models.PositiveSmallIntegerField("age at first use (primary)", null=True, blank=True)
    sub2 = _code("secondary substance", teds.Substance)
    route2 = _code("route (secondary)", teds.Route)
    freq2 = _code("frequency (secondary)", teds.Frequency)
    frstuse2 = models.PositiveSmallIntegerField(
        "age at first use (secondary)", null=True, blank=True
    )
    sub3 = _code("tertiary substance", teds.Substance)
    route3 = _code("route (tertiary)", teds.Route)
    freq3 = _code("frequency (tertiary)", teds.Frequency)
    frstuse3 = models.PositiveSmallIntegerField(
        "age at first use (tertiary)", null=True, blank=True
    )

    def __str__(self) -> str:
        return f"TEDS admission items {self.pk}"

    def audit_label(self) -> str:
        return f"TEDS admission items {self.pk}"
