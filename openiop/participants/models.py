from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord
from openiop.programs.choices import LevelOfCare, level_short

from .choices import OPEN_STATUSES, ContactRelationship, EpisodeStatus, ReferralSource


def luhn_digit(digits: str) -> int:
    """Check digit (Luhn, mod 10) so a mistyped record number is caught."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return (10 - total % 10) % 10


def format_record_number(seq: int) -> str:
    body = f"{seq:06d}"
    return f"OI-{body}-{luhn_digit(body)}"


class Participant(ClinicalRecord):
    record_number = models.CharField(max_length=20, unique=True, editable=False)
    program = models.ForeignKey(
        "programs.Program",
        on_delete=models.PROTECT,
        related_name="participants",
        help_text="The program the participant's current or last episode belongs to.",
    )
    legal_first_name = models.CharField(max_length=80)
    legal_last_name = models.CharField(max_length=80)
    preferred_name = models.CharField(max_length=80, blank=True)
    pronouns = models.CharField(max_length=30, blank=True)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line1 = models.CharField("address", max_length=120, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=120, blank=True)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=40, blank=True)
    postal_code = models.CharField(max_length=12, blank=True)
    preferred_language = models.CharField(max_length=40, default="English")
    emergency_contact_name = models.CharField(max_length=120, blank=True)
    emergency_contact_relationship = models.CharField(max_length=60, blank=True)
    emergency_contact_phone = models.CharField(max_length=30, blank=True)
    current_episode = models.ForeignKey(
        "Episode",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The open episode, or the most recent one (kept by the services).",
    )

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "pk"]
        indexes = [
            # The participant list: a program's participants in name order.
            models.Index(
                fields=["program", "legal_last_name", "legal_first_name"],
                name="participant_program_name",
            ),
            # Issue 13: counting a program's participants (the FHIR searchset's total, the
            # list's pages) from the index alone, without reading every row for `voided`.
            models.Index(
                fields=["program"], condition=models.Q(voided=False), name="participant_live"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        first = self.preferred_name or self.legal_first_name
        return f"{first} {self.legal_last_name}"

    @property
    def legal_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}"

    def audit_label(self) -> str:
        return self.record_number

    def age_on(self, day: dt.date) -> int:
        dob = self.date_of_birth
        return day.year - dob.year - ((day.month, day.day) < (dob.month, dob.day))


class Episode(ClinicalRecord):
    """One admission (or attempt at one): from referral to discharge and alumni."""

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="episodes")
    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=20, choices=EpisodeStatus.choices, default=EpisodeStatus.REFERRED
    )
    status_changed_at = models.DateTimeField(
        default=timezone.now, help_text="When the current status was recorded."
    )
    status_date = models.DateField(help_text="The program day the current status took effect.")
    level_of_care = models.CharField(max_length=10, choices=LevelOfCare.choices, blank=True)
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    primary_counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="primary_episodes",
    )
    care_team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="care_team_episodes"
    )
    referral_source = models.CharField(max_length=20, choices=ReferralSource.choices)
    referral_date = models.DateField()
    admission_date = models.DateField(null=True, blank=True)
    discharge_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-referral_date", "-pk"]
        constraints = [
            # A participant has at most one open episode at a time.
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="episode_one_open_per_participant",
            ),
        ]
        indexes = [
            # Caseloads: a counsellor's open episodes.
            models.Index(fields=["primary_counsellor", "status"], name="episode_counsellor_status"),
            # Census and the today board: a program's episodes by status.
            models.Index(fields=["program", "status"], name="episode_program_status"),
        ]

    def __str__(self) -> str:
        return f"Episode {self.pk} ({self.get_status_display()})"

    def audit_label(self) -> str:
        return f"episode {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def level_short(self) -> str:
        return level_short(self.level_of_care)

    def days_in_program(self, today: dt.date) -> int | None:
        if self.admission_date is None:
            return None
        end = self.discharge_date or today
        return max((end - self.admission_date).days, 0)


class EpisodeTransition(models.Model):
    """A status change of an episode: who, when, why. Written once, never changed."""

    episode = models.ForeignKey(Episode, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=EpisodeStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=EpisodeStatus.choices)
    effective_date = models.DateField()
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    by_name = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status or '—'} → {self.to_status}"


class Contact(ClinicalRecord):
    """A person in the participant's life: family, friends, a sponsor, professionals.

    Flags say what the person is to the program: a recovery *support person* (named on
    relapse-prevention plans) and an *emergency contact*. Contacts are voided, never
    deleted: a signed plan keeps naming the people it named. Later, family portal access
    hangs off a contact (with the participant's consent), so the row holds only who the
    person is and how to reach them.
    """

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="contacts")
    name = models.CharField(max_length=120)
    relationship = models.CharField(max_length=20, choices=ContactRelationship.choices)
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    is_support = models.BooleanField(
        "recovery support person",
        default=False,
        help_text="Someone the participant can call on in recovery (relapse-prevention plan).",
    )
    is_emergency = models.BooleanField("emergency contact", default=False)
    notes = models.TextField(blank=True, max_length=1000)

    class Meta:
        ordering = ["-is_emergency", "-is_support", "name", "pk"]
        indexes = [
            # A participant's active contacts (the contacts page, the chart, the plan editor).
            models.Index(fields=["participant", "voided"], name="contact_participant_voided"),
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"contact {self.pk}"
