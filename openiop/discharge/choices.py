"""Choices for discharge and aftercare. TEDS codes are cited from DOMAIN.md §8.1."""

from __future__ import annotations

from django.db import models

from openiop.participants.teds_codes import Reason as TedsReason


class DischargeReason(models.TextChoices):
    COMPLETED = "completed", "Completed treatment"
    AGAINST_ADVICE = "against_advice", "Left against clinical advice"
    ADMINISTRATIVE = "administrative", "Administrative discharge"
    STEP_UP = "step_up", "Transferred to a higher level of care"
    STEP_DOWN = "step_down", "Stepped down to a lower level of care"
    INCARCERATED = "incarcerated", "Incarcerated"
    DIED = "died", "Died"
    OTHER = "other", "Other"


# Each reason's TEDS REASON code (DOMAIN.md §8.1): 1 completed, 2 dropped out, 3 terminated
# by facility, 4 transferred to another program or facility, 5 incarcerated, 6 death,
# 7 other. A step-down to another level of care is a transfer (4) in TEDS, whether or not
# the receiving program is ours.
TEDS_REASON: dict[str, int] = {
    DischargeReason.COMPLETED: TedsReason.COMPLETED,
    DischargeReason.AGAINST_ADVICE: TedsReason.DROPPED_OUT,
    DischargeReason.ADMINISTRATIVE: TedsReason.TERMINATED,
    DischargeReason.STEP_UP: TedsReason.TRANSFERRED,
    DischargeReason.STEP_DOWN: TedsReason.TRANSFERRED,
    DischargeReason.INCARCERATED: TedsReason.INCARCERATED,
    DischargeReason.DIED: TedsReason.DEATH,
    DischargeReason.OTHER: TedsReason.OTHER,
}

# A step up or down names the level of care and the program that takes the person on.
TRANSITION_REASONS = frozenset({DischargeReason.STEP_UP, DischargeReason.STEP_DOWN})


class SummaryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class ReferralKind(models.TextChoices):
    """What an aftercare referral is for (issue 10, point 2)."""

    THERAPY = "therapy", "Outpatient therapy"
    ALUMNI_GROUP = "alumni_group", "Alumni group"
    MUTUAL_HELP = "mutual_help", "Mutual-help meetings (12-step, SMART Recovery…)"
    SOBER_LIVING = "sober_living", "Sober living"
    MOUD = "moud", "Medication for opioid use disorder"
    MAUD = "maud", "Medication for alcohol use disorder"
    PSYCHIATRY = "psychiatry", "Psychiatry / mental health care"
    PRIMARY_CARE = "primary_care", "Primary care"
    SOCIAL_SERVICES = "social_services", "Social services (housing, benefits, employment)"
    OTHER = "other", "Other"


class ReferralStatus(models.TextChoices):
    PLANNED = "planned", "To arrange"
    BOOKED = "booked", "Appointment made"
    ATTENDED = "attended", "Attended"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


class Responsible(models.TextChoices):
    """Who makes the next step of a referral happen."""

    PARTICIPANT = "participant", "The participant"
    COUNSELLOR = "counsellor", "The counsellor"
    CASE_MANAGER = "case_manager", "Case manager / program staff"
    RECEIVING = "receiving", "The receiving provider"
    FAMILY = "family", "A family member or support person"


class AftercareStatus(models.TextChoices):
    DRAFT = "draft", "Being prepared"
    GIVEN = "given", "Given to the participant"
