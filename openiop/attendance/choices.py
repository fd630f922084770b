from __future__ import annotations

from django.db import models


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    LATE = "late", "Late"
    LEFT_EARLY = "left_early", "Left early"
    TELEHEALTH = "telehealth", "Attended by telehealth"
    ABSENT_EXCUSED = "absent_excused", "Absent (excused)"
    ABSENT_UNEXCUSED = "absent_unexcused", "Absent (unexcused)"


ATTENDED = frozenset(
    {
        AttendanceStatus.PRESENT,
        AttendanceStatus.LATE,
        AttendanceStatus.LEFT_EARLY,
        AttendanceStatus.TELEHEALTH,
    }
)
NEEDS_MINUTES = frozenset({AttendanceStatus.LATE, AttendanceStatus.LEFT_EARLY})


class CheckInSource(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    PORTAL = "portal", "Participant (portal)"
    LINK = "link", "Participant (one-tap link)"


class AlertKind(models.TextChoices):
    ABSENCES = "absences", "Consecutive absences"
    BELOW_MINIMUM = "below_minimum", "Below the weekly hour minimum"
    REPORTED_USE = "reported_use", "Reported use"
    HIGH_CRAVING = "high_craving", "High craving"
