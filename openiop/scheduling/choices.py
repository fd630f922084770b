from __future__ import annotations

from django.db import models


class SessionKind(models.TextChoices):
    GROUP = "group", "Group"
    INDIVIDUAL = "individual", "Individual appointment"
    FAMILY = "family", "Family appointment"
    # Issue 9: a multi-family workshop (education and support for several families at
    # once); family members are invited through openiop.family.
    FAMILY_WORKSHOP = "family_workshop", "Family workshop"


# Sessions booked for one participant (an appointment needs its participant).
APPOINTMENT_KINDS = frozenset({SessionKind.INDIVIDUAL, SessionKind.FAMILY})
# Sessions family members are invited to (openiop.family).
FAMILY_KINDS = frozenset({SessionKind.FAMILY, SessionKind.FAMILY_WORKSHOP})


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
