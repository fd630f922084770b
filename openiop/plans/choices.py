from __future__ import annotations

from django.db import models


class Modality(models.TextChoices):
    """Families of interventions in the library (issue 7)."""

    CBT = "cbt", "Cognitive behavioural therapy"
    DBT = "dbt", "Dialectical behaviour therapy"
    MI = "mi", "Motivational Interviewing"
    FAMILY = "family", "Family therapy"
    TRAUMA = "trauma", "Trauma-informed care"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    HOLISTIC = "holistic", "Holistic"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded"


# A plan in one of these statuses is locked: its content and its rows cannot change.
LOCKED = frozenset({PlanStatus.SIGNED, PlanStatus.SUPERSEDED})


class PlanReason(models.TextChoices):
    """Why this version of the plan was written."""

    INITIAL = "initial", "Initial plan"
    REVIEW = "review", "Scheduled review"
    CONDITION = "condition", "Change in condition"
    LEVEL = "level", "Change in level of care"
    REQUEST = "request", "Participant's request"
    OTHER = "other", "Other"


class GoalStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ACHIEVED = "achieved", "Achieved"
    REVISED = "revised", "Revised"
    DISCONTINUED = "discontinued", "Discontinued"


class ObjectiveStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    ACHIEVED = "achieved", "Achieved"
    NOT_ACHIEVED = "not_achieved", "Not achieved"
    DISCONTINUED = "discontinued", "Discontinued"


class SignatureRole(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    CLINICIAN = "clinician", "Clinician"
    SUPERVISOR = "supervisor", "Clinical supervisor"


ASAM_DIMENSION_CHOICES = [(n, f"Dimension {n}") for n in range(1, 7)]
