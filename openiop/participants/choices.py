from __future__ import annotations

from django.db import models


class EpisodeStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    SCREENING = "screening", "Screening"
    ASSESSED = "assessed", "Assessed"
    ADMITTED = "admitted", "Admitted"
    ACTIVE = "active", "Active"
    DISCHARGED = "discharged", "Discharged"
    ALUMNI = "alumni", "Alumni"
    NOT_ADMITTED = "not_admitted", "Not admitted"
    REFERRED_ELSEWHERE = "referred_elsewhere", "Referred elsewhere"


# Statuses in which an episode is still open: a participant has at most one open episode.
OPEN_STATUSES = frozenset(
    {
        EpisodeStatus.REFERRED,
        EpisodeStatus.SCREENING,
        EpisodeStatus.ASSESSED,
        EpisodeStatus.ADMITTED,
        EpisodeStatus.ACTIVE,
    }
)
PRE_ADMISSION = frozenset({EpisodeStatus.REFERRED, EpisodeStatus.SCREENING, EpisodeStatus.ASSESSED})
IN_CARE = frozenset({EpisodeStatus.ADMITTED, EpisodeStatus.ACTIVE})


class ReferralSource(models.TextChoices):
    """Referral sources, each mapped to its TEDS PSOURCE code (DOMAIN.md §8.1)."""

    SELF = "self", "Self"
    FAMILY = "family", "Family or friend"
    HOSPITAL = "hospital", "Hospital"
    STEP_DOWN = "step_down", "Residential / inpatient step-down"
    DETOX = "detox", "Detox / withdrawal management"
    COURT = "court", "Court / probation"
    EMPLOYER = "employer", "Employer / EAP"
    PHYSICIAN = "physician", "Physician"
    OTHER = "other", "Other"


# TEDS PSOURCE: 1 individual/self, 2 alcohol/drug care provider, 3 other health care
# provider, 5 employer/EAP, 6 other community referral, 7 court/criminal justice.
TEDS_PSOURCE = {
    ReferralSource.SELF: 1,
    ReferralSource.FAMILY: 1,
    ReferralSource.HOSPITAL: 3,
    ReferralSource.STEP_DOWN: 2,
    ReferralSource.DETOX: 2,
    ReferralSource.COURT: 7,
    ReferralSource.EMPLOYER: 5,
    ReferralSource.PHYSICIAN: 3,
    ReferralSource.OTHER: 6,
}


class ContactRelationship(models.TextChoices):
    """How a contact is related to the participant."""

    PARTNER = "partner", "Spouse or partner"
    PARENT = "parent", "Parent"
    CHILD = "child", "Child"
    SIBLING = "sibling", "Sibling"
    OTHER_FAMILY = "other_family", "Other family"
    FRIEND = "friend", "Friend"
    SPONSOR = "sponsor", "Sponsor"
    PEER = "peer", "Mentor or peer supporter"
    EMPLOYER = "employer", "Employer"
    PROFESSIONAL = "professional", "Clinician or other professional"
    OTHER = "other", "Other"
