"""Choices for alumni follow-up and alumni events."""

from __future__ import annotations

from django.db import models

# Follow-ups after discharge (issue 10, point 3; PRODUCT.md feature table), in days.
FOLLOW_UP_DAYS: tuple[int, ...] = (30, 60, 90, 180, 365)
# A follow-up is due from its day and stays on the worklist this many days before the
# call counts as late; after the next one falls due it is marked missed by the job.
FOLLOW_UP_WINDOW_DAYS = 14


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", "To do"
    REACHED = "reached", "Reached"
    NOT_REACHED = "not_reached", "Not reached"
    DECLINED = "declined", "Declined follow-up"
    CANCELLED = "cancelled", "Not needed"  # e.g. the person died or was readmitted here


class ContactMethod(models.TextChoices):
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video call"


class UseSinceDischarge(models.TextChoices):
    """Use of alcohol or drugs since discharge (or since the last follow-up)."""

    NONE = "none", "No use"
    LAPSE = "lapse", "A lapse (brief use, back on track)"
    RELAPSE = "relapse", "Return to regular use"
    DECLINED = "declined", "Declined to say"


class Occupation(models.TextChoices):
    FULL_TIME = "full_time", "Working full-time"
    PART_TIME = "part_time", "Working part-time"
    SCHOOL = "school", "In school or training"
    UNEMPLOYED = "unemployed", "Unemployed, looking for work"
    NOT_IN_LABOUR_FORCE = "not_in_labour_force", "Not working (retired, disabled, caring…)"
    DECLINED = "declined", "Declined to say"


class Housing(models.TextChoices):
    STABLE = "stable", "Stable housing"
    SOBER_LIVING = "sober_living", "Sober living / recovery residence"
    TEMPORARY = "temporary", "Temporary (staying with others)"
    HOMELESS = "homeless", "Homeless or shelter"
    INSTITUTION = "institution", "Hospital, residential treatment or jail"
    DECLINED = "declined", "Declined to say"


# Housing that counts as stable for the dashboard's "stably housed" share.
STABLE_HOUSING = frozenset({Housing.STABLE, Housing.SOBER_LIVING})
EMPLOYED_OR_SCHOOL = frozenset({Occupation.FULL_TIME, Occupation.PART_TIME, Occupation.SCHOOL})
