"""Codes of the privacy area. The consent elements follow 42 CFR §2.31(a) (2024 text,
DOMAIN.md §2.3); purposes use the HL7 v3 ActReason codes where one exists (DOMAIN.md §2.9)."""

from django.db import models


class ConsentKind(models.TextChoices):
    # §2.31(a)(4)-(5): since the 2024 rule one consent may cover all future treatment,
    # payment and health care operations (TPO). It covers only TPO.
    TPO = "tpo", "Treatment, payment and health care operations (TPO)"
    SPECIFIC = "specific", "Disclosure to a named recipient"
    # §2.31(b): SUD counselling notes need their own consent, never combined with another.
    COUNSELLING_NOTES = "counselling_notes", "SUD counselling notes"


class RecipientKind(models.TextChoices):
    PROVIDER = "provider", "Health care provider"
    PAYER = "payer", "Health plan or payer"
    EMPLOYER = "employer", "Employer"
    LEGAL = "legal", "Court, probation or parole"
    FAMILY = "family", "Family member or support person"
    SCHOOL = "school", "School"
    SOCIAL_SERVICES = "social_services", "Social services agency"
    INTERMEDIARY = "intermediary", "Health information exchange (intermediary)"
    TPO_CLASS = "tpo_class", "Treating providers, health plans and program operations (TPO)"
    PARTICIPANT = "participant", "The participant (own request)"
    OTHER = "other", "Other"


class Purpose(models.TextChoices):
    TREATMENT = "TREAT", "Treatment"
    PAYMENT = "HPAYMT", "Payment"
    OPERATIONS = "HOPERAT", "Health care operations"
    PATIENT_REQUEST = "PATRQT", "At the request of the participant"
    EMPLOYMENT = "employment", "Employment (verify attendance or fitness for work)"
    LEGAL = "legal", "Court, probation or parole (compliance with a requirement)"
    FAMILY = "FAMRQT", "Family involvement in treatment"
    CARE_COORDINATION = "COC", "Coordination of care"
    OTHER = "other", "Other (described)"


TPO_PURPOSES = frozenset({Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS})


class InfoCategory(models.TextChoices):
    """What kind of information a consent lets go out (element 3), at category level so
    that a disclosure can be checked against it (ASTM E2147 §7.1.9, DOMAIN.md §3)."""

    ENROLMENT = "enrolment", "Enrolment: that the person is or was in the program, and dates"
    ATTENDANCE = "attendance", "Attendance: dates and hours attended"
    PROGRESS = "progress", "Progress and participation summary"
    SCREENING = "screening", "Drug and alcohol test results"
    DIAGNOSIS = "diagnosis", "Diagnoses"
    ASSESSMENT = "assessment", "Assessments and instrument scores"
    PLAN = "plan", "Treatment and relapse-prevention plans"
    NOTES = "notes", "Progress notes"
    MEDICATION = "medication", "Medications"
    DISCHARGE = "discharge", "Discharge summary and aftercare plan"
    COUNSELLING_NOTES = "counselling_notes", "SUD counselling notes (separate consent only)"


class SignerRole(models.TextChoices):
    SELF = "self", "The participant"
    GUARDIAN = "guardian", "Parent or guardian (minor)"
    REPRESENTATIVE = "representative", "Authorised representative (§2.15)"


class Channel(models.TextChoices):
    LETTER = "letter", "Letter"
    PRINTED = "printed", "Printed records handed out"
    FAMILY_PORTAL = "family_portal", "Family portal"
    EXPORT = "export", "Export with identities"
    API = "api", "API read by an outside client"
    VERBAL = "verbal", "Verbal / telephone"


class LegalBasis(models.TextChoices):
    CONSENT = "consent", "Written consent (§2.31)"
    MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency (§2.51)"
    COURT_ORDER = "court_order", "Court order (subpart E)"


class EmergencyReason(models.TextChoices):
    MEDICAL_EMERGENCY = "medical_emergency", "Medical emergency"
    SAFETY = "safety", "Risk of harm to the participant or others"
    COVERAGE = "coverage", "Covering for an absent colleague"
    OTHER = "other", "Other urgent clinical need"


class AmendmentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted"
    DENIED = "denied", "Denied"
