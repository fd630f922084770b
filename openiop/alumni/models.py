"""Alumni follow-ups after discharge and alumni events (issue 10, point 3).

Each discharge gets follow-ups at 30, 60, 90, 180 and 365 days (`choices.FOLLOW_UP_DAYS`).
A follow-up is a worklist item: attempts to reach the person are logged one by one, and
the follow-up closes as reached (with the outcomes asked) or not reached.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord

from .choices import ContactMethod, FollowUpStatus, Housing, Occupation, UseSinceDischarge


class FollowUp(ClinicalRecord):
    discharge = models.ForeignKey(
        "discharge.Discharge", on_delete=models.PROTECT, related_name="follow_ups"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="follow_ups"
    )
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    day_mark = models.PositiveSmallIntegerField(help_text="Days after discharge: 30, 60, 90…")
    due_date = models.DateField()
    status = models.CharField(
        max_length=12, choices=FollowUpStatus.choices, default=FollowUpStatus.PENDING
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    completed_by_name = models.CharField(max_length=200, blank=True)
    # Outcomes, asked when the person is reached (blank otherwise).
    use_since_discharge = models.CharField(
        "alcohol or drug use since discharge",
        max_length=10,
        choices=UseSinceDischarge.choices,
        blank=True,
    )
    days_used_past_30 = models.PositiveSmallIntegerField(
        "days of use in the past 30", null=True, blank=True
    )
    occupation = models.CharField(
        "work or school", max_length=20, choices=Occupation.choices, blank=True
    )
    housing = models.CharField(max_length=15, choices=Housing.choices, blank=True)
    readmitted = models.BooleanField(
        "back in treatment",
        null=True,
        blank=True,
        help_text="Readmitted to this or another program since discharge.",
    )
    readmitted_where = models.CharField(max_length=200, blank=True)
    quality_of_life = models.PositiveSmallIntegerField(
        "quality of life (0–10)",
        null=True,
        blank=True,
        help_text="“How would you rate your quality of life?” 0 worst, 10 best.",
    )
    in_aftercare = models.BooleanField("keeping to the aftercare plan", null=True, blank=True)
    notes = models.TextField(max_length=4000, blank=True)

    class Meta:
        ordering = ["due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["discharge", "day_mark"], name="follow_up_one_per_mark"
            ),
        ]
        indexes = [
            # The worklist: a program's follow-ups by status and due date.
            models.Index(fields=["program", "status", "due_date"], name="follow_up_worklist"),
        ]

    def __str__(self) -> str:
        return f"{self.day_mark}-day follow-up"

    def audit_label(self) -> str:
        return f"follow-up {self.pk}"


class FollowUpAttempt(models.Model):
    """One try at reaching the person: written once, never changed."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.PROTECT, related_name="attempts")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10, choices=ContactMethod.choices)
    reached = models.BooleanField()
    note = models.CharField(max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {'reached' if self.reached else 'not reached'}"


class AlumniEvent(ClinicalRecord):
    """An alumni group meeting or event (not billed, no hours)."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=200)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    description = models.TextField(max_length=4000, blank=True)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled = models.BooleanField(default=False)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["program", "starts_at"], name="alumni_event_program_start"),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_label(self) -> str:
        return f"alumni event {self.pk}"


class AlumniAttendance(ClinicalRecord):
    event = models.ForeignKey(AlumniEvent, on_delete=models.PROTECT, related_name="attendance")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="alumni_attendance"
    )
    attended = models.BooleanField(default=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "participant"], name="alumni_attendance_once"),
        ]

    def __str__(self) -> str:
        return f"Alumni attendance {self.pk}"

    def audit_label(self) -> str:
        return f"alumni attendance {self.pk}"
