"""Choices for program set-up. Numbers cite ../shared/docs/DOMAIN.md."""

from __future__ import annotations

from decimal import Decimal

from django.db import models


class LevelOfCare(models.TextChoices):
    """ASAM levels of care, stored with their edition (DOMAIN.md §1.1, §1.2).

    Payers and states move between the 3rd (2013) and 4th (2023) editions at different
    times, so every level-of-care decision keeps the edition it was made in.
    """

    E3_0_5 = "3:0.5", "0.5 Early Intervention (ASAM 3rd ed.)"
    E3_1 = "3:1", "1 Outpatient Services (ASAM 3rd ed.)"
    E3_2_1 = "3:2.1", "2.1 Intensive Outpatient (ASAM 3rd ed.)"
    E3_2_5 = "3:2.5", "2.5 Partial Hospitalization (ASAM 3rd ed.)"
    E3_3_1 = "3:3.1", "3.1 Clinically Managed Low-Intensity Residential (ASAM 3rd ed.)"
    E3_3_3 = (
        "3:3.3",
        "3.3 Clinically Managed Population-Specific High-Intensity Residential (ASAM 3rd ed.)",
    )
    E3_3_5 = "3:3.5", "3.5 Clinically Managed High-Intensity Residential (ASAM 3rd ed.)"
    E3_3_7 = "3:3.7", "3.7 Medically Monitored Intensive Inpatient (ASAM 3rd ed.)"
    E3_4 = "3:4", "4 Medically Managed Intensive Inpatient (ASAM 3rd ed.)"
    E4_1_0 = "4:1.0", "1.0 Long-Term Remission Monitoring (ASAM 4th ed.)"
    E4_1_5 = "4:1.5", "1.5 Outpatient Therapy (ASAM 4th ed.)"
    E4_1_7 = "4:1.7", "1.7 Medically Managed Outpatient (ASAM 4th ed.)"
    E4_2_1 = "4:2.1", "2.1 Intensive Outpatient (ASAM 4th ed.)"
    E4_2_5 = "4:2.5", "2.5 High-Intensity Outpatient (ASAM 4th ed.)"
    E4_2_7 = "4:2.7", "2.7 Medically Managed Intensive Outpatient (ASAM 4th ed.)"
    E4_3_1 = "4:3.1", "3.1 Clinically Managed Low-Intensity Residential (ASAM 4th ed.)"
    E4_3_5 = "4:3.5", "3.5 Clinically Managed High-Intensity Residential (ASAM 4th ed.)"
    E4_3_7 = "4:3.7", "3.7 Medically Managed Residential (ASAM 4th ed.)"
    E4_4_0 = "4:4.0", "4.0 Medically Managed Inpatient (ASAM 4th ed.)"


def level_short(code: str) -> str:
    """'3:2.1' -> 'Level 2.1'."""
    return f"Level {code.split(':', 1)[-1]}" if code else ""


# Nearest level in the other edition (DOMAIN.md §1.2 table, read right to left).
THIRD_TO_FOURTH: dict[str, str] = {
    LevelOfCare.E3_1: LevelOfCare.E4_1_5,
    LevelOfCare.E3_2_1: LevelOfCare.E4_2_1,
    LevelOfCare.E3_2_5: LevelOfCare.E4_2_5,
    LevelOfCare.E3_3_1: LevelOfCare.E4_3_1,
    LevelOfCare.E3_3_3: LevelOfCare.E4_3_5,
    LevelOfCare.E3_3_5: LevelOfCare.E4_3_5,
    LevelOfCare.E3_3_7: LevelOfCare.E4_3_7,
    LevelOfCare.E3_4: LevelOfCare.E4_4_0,
}


class Population(models.TextChoices):
    ADULT = "adult", "Adults"
    ADOLESCENT = "adolescent", "Adolescents"


# ASAM Level 2.1: at least 9 hours a week for adults, 6 for adolescents (DOMAIN.md §1.1).
DEFAULT_MIN_WEEKLY_HOURS: dict[str, Decimal] = {
    Population.ADULT: Decimal("9"),
    Population.ADOLESCENT: Decimal("6"),
}


class Modality(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    TELEHEALTH = "telehealth", "Telehealth"
    HYBRID = "hybrid", "Hybrid"


class SessionCategory(models.TextChoices):
    GROUP_THERAPY = "group_therapy", "Group therapy"
    INDIVIDUAL = "individual", "Individual counselling"
    FAMILY = "family", "Family therapy"
    PSYCHOEDUCATION = "psychoeducation", "Psychoeducation"
    SKILLS = "skills", "Skills workshop"
    HOLISTIC = "holistic", "Holistic"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
