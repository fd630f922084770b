"""Codes of the family area (issue 9)."""

from __future__ import annotations

from django.db import models


class InvitationStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    CANCELLED = "cancelled", "Invitation withdrawn"


class FamilyAttendanceStatus(models.TextChoices):
    PRESENT = "present", "Present"
    ABSENT = "absent", "Absent"
    EXCUSED = "excused", "Excused (said they could not come)"


class Audience(models.TextChoices):
    """Who an education article is written for."""

    FAMILY = "family", "Family members"
    PARTICIPANT = "participant", "Participants"
    EVERYONE = "everyone", "Everyone"


# The audiences the family portal shows.
FAMILY_AUDIENCES = (Audience.FAMILY, Audience.EVERYONE)


class ArticleSection(models.TextChoices):
    """Where an article appears: the education list, or "How to support"."""

    EDUCATION = "education", "Education"
    SUPPORT = "support", "How to support"
