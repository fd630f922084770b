"""Code tables of billing (DOMAIN.md §6). Each code is the one a claim carries."""

from __future__ import annotations

from django.db import models


class PayerKind(models.TextChoices):
    """The kind of plan, and with it the claim filing indicator of the 837P (SBR09)."""

    COMMERCIAL = "commercial", "Commercial insurance"
    MEDICAID = "medicaid", "Medicaid"
    MEDICAID_MCO = "medicaid_mco", "Medicaid managed care"
    MEDICARE = "medicare", "Medicare (Part B)"
    MEDICARE_ADVANTAGE = "medicare_adv", "Medicare Advantage"
    BLUE_CROSS = "blue_cross", "Blue Cross / Blue Shield"
    TRICARE = "tricare", "TRICARE"
    OTHER = "other", "Other"


# X12 005010X222A1 2000B SBR09 claim filing indicator codes.
CLAIM_FILING_CODE = {
    PayerKind.COMMERCIAL: "CI",
    PayerKind.MEDICAID: "MC",
    PayerKind.MEDICAID_MCO: "HM",
    PayerKind.MEDICARE: "MB",
    PayerKind.MEDICARE_ADVANTAGE: "16",
    PayerKind.BLUE_CROSS: "BL",
    PayerKind.TRICARE: "CH",
    PayerKind.OTHER: "ZZ",
}


class ServiceCode(models.TextChoices):
    """Per-diem program codes (DOMAIN.md §6.1)."""

    H0015 = "H0015", "H0015 Alcohol and/or drug services; intensive outpatient"
    S9480 = "S9480", "S9480 Intensive outpatient psychiatric services, per diem"
    H2036 = "H2036", "H2036 Alcohol and/or drug treatment program, per diem"
    S0201 = "S0201", "S0201 Partial hospitalization services, less than 24 hours, per diem"
    H0035 = "H0035", "H0035 Mental health partial hospitalization, less than 24 hours"


class PlaceOfService(models.TextChoices):
    """CMS place-of-service codes a program day is given in (DOMAIN.md §6.3)."""

    OFFICE = "11", "11 Office"
    OUTPATIENT_HOSPITAL = "22", "22 On-campus outpatient hospital"
    CMHC = "53", "53 Community mental health center"
    SUD_FACILITY = "57", "57 Non-residential substance abuse treatment facility"
    TELEHEALTH_OTHER = "02", "02 Telehealth, patient not at home"
    TELEHEALTH_HOME = "10", "10 Telehealth, patient at home"


IN_PERSON_PLACES = [
    PlaceOfService.OFFICE,
    PlaceOfService.OUTPATIENT_HOSPITAL,
    PlaceOfService.CMHC,
    PlaceOfService.SUD_FACILITY,
]


class TelehealthModifier(models.TextChoices):
    """DOMAIN.md §6.3: 95 synchronous audio-video (CPT); GT legacy interactive
    audio-video, still asked for by some payers."""

    MOD_95 = "95", "95 Synchronous audio and video"
    GT = "GT", "GT Interactive audio and video (legacy)"


class CoverageKind(models.TextChoices):
    INSURANCE = "insurance", "Insurance"
    SELF_PAY = "self_pay", "Self-pay (sliding fee)"


class Priority(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class Relationship(models.TextChoices):
    """Patient's relationship to the subscriber (X12 SBR02 / PAT01 codes)."""

    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other relationship"


class Sex(models.TextChoices):
    """As on the plan's record (X12 DMG03)."""

    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "To review"
    SUBMITTED = "submitted", "Submitted"
    PAID = "paid", "Paid"
    DENIED = "denied", "Denied"


OPEN_CLAIM_STATUSES = frozenset({ClaimStatus.DRAFT, ClaimStatus.SUBMITTED})


class DenialReason(models.TextChoices):
    """Claim adjustment reason codes (X12 CARC) a denied IOP claim most often carries."""

    NO_AUTH = "197", "197 Precertification/authorization absent"
    AUTH_EXCEEDED = "198", "198 Precertification/authorization exceeded"
    NOT_COVERED = "27", "27 Expenses incurred after coverage terminated"
    BEFORE_COVERAGE = "26", "26 Expenses incurred prior to coverage"
    MISSING_INFO = "16", "16 Claim lacks information needed for adjudication"
    DUPLICATE = "18", "18 Exact duplicate claim/service"
    TIMELY_FILING = "29", "29 The time limit for filing has expired"
    NOT_NECESSARY = "50", "50 Not deemed a medical necessity by the payer"
    DIAGNOSIS = "11", "11 Diagnosis inconsistent with the procedure"
    OTHER = "other", "Other (say why)"


class Risk(models.TextChoices):
    """Why a day of service may be denied or cannot be billed yet (issue 11, point 6)."""

    NOTE_MISSING = "note_missing", "No note for a session attended"
    NOTE_UNSIGNED = "note_unsigned", "A session's note is not signed"
    NOTE_COSIGN = "note_cosign", "A session's note awaits co-signature"
    NO_COVERAGE = "no_coverage", "No coverage on file for the day"
    COVERAGE_ENDED = "coverage_ended", "Coverage ended before the day"
    NO_AUTH = "no_auth", "No authorisation covers the day"
    AUTH_EXHAUSTED = "auth_exhausted", "The authorisation's units are used up"
    TELEHEALTH_NOT_COVERED = "telehealth", "The payer does not pay program days by telehealth"
    NO_DIAGNOSIS = "no_diagnosis", "No diagnosis on the episode"
    NO_CONSENT = "no_consent", "No consent lets the program bill the payer (42 CFR Part 2)"
    FILING_LIMIT = "filing_limit", "The payer's filing deadline is near or past"
