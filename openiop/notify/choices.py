from __future__ import annotations

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class RecipientKind(models.TextChoices):
    PARTICIPANT = "participant", "Participant"
    CONTACT = "contact", "Family member or contact"
    STAFF = "staff", "Staff"


class Link(models.TextChoices):
    """A secret link added only when the message is sent (never stored in the outbox)."""

    NONE = "", "None"
    CHECK_IN = "check_in", "One-tap check-in link"
    INSTRUMENT = "instrument", "One-tap questionnaire link"
    INVITATION = "invitation", "Portal invitation link"
