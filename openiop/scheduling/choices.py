from __future__ import annotations

from django.db import models


class SessionKind(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual appointment"
    FAMILY = "family", "Family appointment"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    CANCELLED = "cancelled", "Cancelled"


class BookingReason(models.TextChoices):
    APPOINTMENT = "appointment", "Appointment"
    MAKE_UP = "make_up", "Make-up of a missed topic"
    WALK_IN = "walk_in", "Walk-in"
    EXTRA = "extra", "Added to this session"


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "Booked"
    CANCELLED = "cancelled", "Cancelled"
