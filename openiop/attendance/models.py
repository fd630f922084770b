"""Attendance per participant per session, daily check-ins and engagement alerts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord

from .choices import ATTENDED, AlertKind, AttendanceStatus, CheckInSource


class Attendance(ClinicalRecord):
    """One participant at one session. Minutes attended are kept (hours and billing)."""

    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, related_name="attendance"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=AttendanceStatus.choices)
    minutes_missed = models.PositiveIntegerField(default=0, help_text="Minutes late or left early.")
    minutes_attended = models.PositiveIntegerField(default=0)
    walk_in = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "episode"], name="attendance_one_per_session_episode"
            ),
        ]
        indexes = [
            models.Index(fields=["episode", "status"], name="attendance_episode_status"),
            models.Index(fields=["participant"], name="attendance_participant"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()} ({self.minutes_attended} min)"

    def audit_label(self) -> str:
        return f"attendance {self.pk}"

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED


class CheckIn(ClinicalRecord):
    """A daily self-report: mood, craving, use, stress, sleep and a note.

    The same model and form serve staff recording it in group and, later, the
    participant's own phone (issue 9).
    """

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="The program day of the check-in.")
    at = models.DateTimeField(default=timezone.now)
    session = models.ForeignKey(
        "scheduling.Session", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mood = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(10)], help_text="1 (worst) to 10 (best)"
    )
    craving = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(10)], help_text="0 (none) to 10 (strongest)"
    )
    used = models.BooleanField("any use since the last session", default=False)
    substances = models.CharField("what was used", max_length=200, blank=True)
    stress = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(10)], help_text="0 (none) to 10 (extreme)"
    )
    sleep_hours = models.DecimalField(
        "hours slept",
        max_digits=3,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("24"))],
    )
    note = models.TextField(blank=True, max_length=2000)
    source = models.CharField(
        max_length=10, choices=CheckInSource.choices, default=CheckInSource.STAFF
    )

    class Meta:
        ordering = ["day", "at", "pk"]
        indexes = [models.Index(fields=["participant", "day"], name="checkin_participant_day")]

    def __str__(self) -> str:
        return f"check-in {self.day}"

    def audit_label(self) -> str:
        return f"check-in {self.pk}"


class EngagementAlert(models.Model):
    """An alert for the counsellor: absences, a week under the minimum, reported use or a
    high craving. `key` makes raising idempotent (once per run of absences, week, check-in)."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    key = models.CharField(max_length=60)
    message = models.CharField(max_length=300)
    raised_at = models.DateTimeField(default=timezone.now)
    raised_on = models.DateField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["episode", "kind", "key"], name="alert_once_per_key"),
        ]
        indexes = [models.Index(fields=["episode", "resolved_at"], name="alert_episode_open")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"
