"""Portal accounts, invitations and one-tap links (issue 9).

A participant or family member gets a `User` with `portal_kind` set and a
`PortalAccount` tying it to the participant (and, for family, to the `Contact` a consent
names). Accounts are made only by accepting an `Invitation` staff sent. A `OneTapLink`
opens one form (today's check-in, or one due instrument) without a password.
Tokens are stored only as SHA-256 hashes, like the calendar feed tokens.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.accounts.models import PortalKind


class Language(models.TextChoices):
    # settings.LANGUAGES: the portal is complete in these two (issue 9, point 6).
    ENGLISH = "en", "English"
    SPANISH = "es", "Español"


class PortalAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="portal_account"
    )
    kind = models.CharField(max_length=12, choices=PortalKind.choices)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="portal_accounts"
    )
    contact = models.ForeignKey(
        "participants.Contact",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="portal_accounts",
        help_text="The family member (family accounts only).",
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(default=timezone.now)
    invitation = models.ForeignKey(
        "portal.Invitation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["participant_id", "kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind=PortalKind.PARTICIPANT, contact__isnull=True)
                | models.Q(kind=PortalKind.FAMILY, contact__isnull=False),
                name="portal_account_family_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} portal account {self.pk}"

    def audit_label(self) -> str:
        return f"portal account {self.pk}"

    @property
    def active(self) -> bool:
        return self.ended_at is None and self.user.is_active


class Invitation(models.Model):
    """A link staff send so a participant (or a consented family member) can make a
    portal account. Single use, expires, can be withdrawn."""

    kind = models.CharField(max_length=12, choices=PortalKind.choices)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        "participants.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, help_text="The link's first characters, to tell apart.")
    sent_to = models.CharField(max_length=200, blank=True, help_text="Email or phone it went to.")
    channel = models.CharField(
        max_length=10,
        choices=[("email", "Email"), ("sms", "Text message"), ("printed", "Printed / read out")],
        default="printed",
    )
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.ENGLISH)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The chart's Portal section: a participant's invitations, newest first.
            models.Index(fields=["participant", "created_at"], name="invitation_participant"),
        ]

    def __str__(self) -> str:
        return f"invitation {self.hint}…"

    def audit_label(self) -> str:
        return f"portal invitation {self.pk}"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


class OneTapLink(models.Model):
    """A short-lived, single-purpose link from a text or email: it opens one form (the
    day's check-in, or one due instrument) without a password and shows nothing else."""

    class Purpose(models.TextChoices):
        CHECK_IN = "check_in", "Daily check-in"
        INSTRUMENT = "instrument", "Questionnaire"

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, related_name="+"
    )
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    instrument_code = models.CharField(max_length=20, blank=True)
    day = models.DateField(help_text="The program day the link is for.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link {self.pk}"

    def audit_label(self) -> str:
        return f"one-tap link {self.pk}"
