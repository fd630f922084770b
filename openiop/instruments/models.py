"""Instrument answers as given, per-program instrument settings, and safety alerts.

The definitions and the scoring live in plain modules (`definitions`, `scoring`); these
models keep what was given, when, by whom, with the score computed at the time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord

# Measurement-based care: re-administer every 14 days unless the program says otherwise
# (issue 4, point 6).
DEFAULT_INTERVAL_DAYS = 14
# Given routinely to everyone in care unless a program chooses its own set.
DEFAULT_ROUTINE = ("PHQ-9", "GAD-7", "BAM", "CRAVING", "BARC-10")


class Occasion(models.TextChoices):
    ADMISSION = "admission", "At admission"
    SCHEDULED = "scheduled", "Scheduled re-administration"
    DISCHARGE = "discharge", "At discharge"
    AD_HOC = "ad_hoc", "Other (clinician's choice)"


class Mode(models.TextChoices):
    STAFF = "staff", "Staff-administered or entered from paper"
    SELF = "self", "Self-administered"


class InstrumentSetting(models.Model):
    """A program's choice for one instrument: offered at all, given routinely, how often."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="instrument_settings"
    )
    instrument = models.CharField(max_length=20)
    enabled = models.BooleanField(default=True)
    routine = models.BooleanField(
        default=False, help_text="Given at admission, on the schedule, and at discharge."
    )
    interval_days = models.PositiveSmallIntegerField(default=DEFAULT_INTERVAL_DAYS)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["program", "instrument"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "instrument"], name="instrumentsetting_one_per_program"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}:{self.instrument}"


class InstrumentResponse(ClinicalRecord):
    """One administration of an instrument: the answers and the score they gave."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="instrument_responses"
    )
    episode = models.ForeignKey(
        "participants.Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="instrument_responses",
    )
    instrument = models.CharField(max_length=20)
    answers = models.JSONField()
    total = models.IntegerField(null=True, blank=True)
    band = models.CharField(max_length=120, blank=True)
    severity = models.PositiveSmallIntegerField(null=True, blank=True)
    subscales = models.JSONField(default=dict, blank=True)
    flags = models.JSONField(default=list, blank=True)
    administered_on = models.DateField()
    occasion = models.CharField(max_length=12, choices=Occasion.choices)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.STAFF)
    administered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-administered_on", "-pk"]
        indexes = [
            # A participant's trend for one instrument, and the latest score of each.
            models.Index(
                fields=["participant", "instrument", "administered_on"],
                name="response_participant_instr",
            ),
            # Due lists: the latest administration per episode and instrument.
            models.Index(
                fields=["episode", "instrument", "administered_on"],
                name="response_episode_instr",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.administered_on}"

    def audit_label(self) -> str:
        return f"{self.instrument} response {self.pk}"


class AlertRisk(models.TextChoices):
    HIGH = "high", "High"
    MODERATE = "moderate", "Moderate"
    LOW = "low", "Low"


class SafetyAlert(ClinicalRecord):
    """A positive suicide-risk answer. Stays on the today board of the participant's
    counsellor, care team and supervisors until a clinician documents a response."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="safety_alerts"
    )
    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    response = models.ForeignKey(
        InstrumentResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts"
    )
    source = models.CharField(max_length=120, help_text="What raised it, e.g. PHQ-9 item 9.")
    risk = models.CharField(max_length=10, choices=AlertRisk.choices)
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_by_name = models.CharField(max_length=200, blank=True)
    actions = models.JSONField(default=list, blank=True)
    risk_after = models.CharField(max_length=10, choices=AlertRisk.choices, blank=True)
    response_note = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            # The today board: open alerts of a program.
            models.Index(fields=["program", "resolved_at"], name="safetyalert_program_open"),
        ]

    def __str__(self) -> str:
        return f"Safety alert {self.pk} ({self.risk})"

    def audit_label(self) -> str:
        return f"safety alert {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
