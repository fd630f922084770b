"""Notification preferences and the outbox (issue 9, point 4).

Every email and text message is first a `Message` row in the outbox; the delivery job
sends the due ones. A message's `key` is unique, so a job that runs twice (or two
workers) make a message once. Messages carry no clinical information: see
`notify.render` and the forbidden-words test.

The outbox keeps what was said and to whom, and is never deleted. Secret links (a
portal invitation, a one-tap check-in) are never stored: the stored body holds a
placeholder and the link is made when the message goes out.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import Channel, Link, RecipientKind, Status

DEFAULT_QUIET_START = dt.time(21, 0)
DEFAULT_QUIET_END = dt.time(8, 0)


class Preference(models.Model):
    """How a participant wants to hear from the program. No row means the defaults."""

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.PROTECT, related_name="notify_preference"
    )
    email_on = models.BooleanField("email", default=True)
    sms_on = models.BooleanField("text messages", default=True)
    reminders_on = models.BooleanField("session reminders", default=True)
    check_in_links_on = models.BooleanField("daily check-in link", default=False)
    # In the program's time zone. A start after the end spans midnight (21:00–08:00).
    quiet_start = models.TimeField(default=DEFAULT_QUIET_START)
    quiet_end = models.TimeField(default=DEFAULT_QUIET_END)
    show_program_name = models.BooleanField(
        "show the program's name",
        default=False,
        help_text="Off: messages are signed 'Your care team' and never name the program.",
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["participant_id"]

    def __str__(self) -> str:
        return f"notification preferences {self.pk}"

    def audit_label(self) -> str:
        return f"notification preferences {self.pk}"

    def delete(self, *args, **kwargs):
        raise TypeError("Notification preferences are changed, never deleted.")


class Message(models.Model):
    """One email or text message, queued, then sent, failed or skipped (with the reason)."""

    recipient_kind = models.CharField(max_length=12, choices=RecipientKind.choices)
    # Set for participant messages and for messages to a participant's contact.
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contact = models.ForeignKey(
        "participants.Contact", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    to = models.CharField(max_length=200, blank=True)
    template = models.CharField(max_length=40)
    language = models.CharField(max_length=8, default="en")
    sender = models.CharField(max_length=120, blank=True, help_text="The email's From name.")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(max_length=4000)
    link = models.CharField(max_length=12, choices=Link.choices, blank=True)
    link_code = models.CharField(max_length=20, blank=True, help_text="Instrument code.")
    link_day = models.DateField(null=True, blank=True)
    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    stale_after = models.DateTimeField(
        null=True, blank=True, help_text="Not sent after this (a reminder for a past session)."
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=300, blank=True, help_text="Why it was skipped.")
    attempts = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The delivery job: queued messages that are due.
            models.Index(fields=["status", "send_after"], name="notify_message_due"),
            # A participant's messages (the chart's preferences section).
            models.Index(fields=["participant", "-created_at"], name="notify_message_participant"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    recipient_kind=RecipientKind.PARTICIPANT, participant__isnull=False
                )
                | models.Q(recipient_kind=RecipientKind.CONTACT, contact__isnull=False)
                | models.Q(recipient_kind=RecipientKind.STAFF, staff_user__isnull=False),
                name="notify_message_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.template} message {self.pk}"

    def audit_label(self) -> str:
        return f"message {self.pk}"

    def delete(self, *args, **kwargs):
        raise TypeError("The outbox keeps every message: it is never deleted.")

    @property
    def kind_label(self) -> str:
        return self.template.replace("_", " ").capitalize()

    @property
    def masked_to(self) -> str:
        from .sms import mask

        return mask(self.to)
