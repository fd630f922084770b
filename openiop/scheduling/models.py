"""The schedule: weekly templates, closures, sessions, enrolment on tracks, bookings,
the curriculum's order per track, and calendar-feed tokens.

Times: a session keeps its program day (`date`, in the program's time zone) and its start
and end as aware datetimes (stored in UTC), computed from the program's wall-clock time
on that day, so a 09:00 group is at 09:00 on both sides of a daylight-saving change.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from openiop.core.models import ClinicalRecord, ReferenceData
from openiop.programs.choices import Modality, Weekday

from .choices import FAMILY_KINDS, BookingReason, BookingStatus, SessionKind, SessionStatus


class Closure(ReferenceData):
    """Days a program does not meet: holidays, closures (first to last day, inclusive)."""

    program = models.ForeignKey(
        "programs.Program", on_delete=models.PROTECT, related_name="closures"
    )
    first_day = models.DateField()
    last_day = models.DateField()
    reason = models.CharField(max_length=120)

    class Meta:
        ordering = ["program", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="closure_last_after_first",
            ),
        ]

    def __str__(self) -> str:
        if self.first_day == self.last_day:
            return f"{self.reason} ({self.first_day:%b %-d, %Y})"
        return f"{self.reason} ({self.first_day:%b %-d} – {self.last_day:%b %-d, %Y})"


class TemplateSlot(ReferenceData):
    """One line of a track's weekly template: a session type on a weekday at a time."""

    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, related_name="template_slots"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    session_type = models.ForeignKey(
        "programs.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=120, blank=True, help_text="Blank: the session type.")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    room = models.ForeignKey(
        "programs.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    join_link = models.URLField(blank=True, max_length=300)
    capacity = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(500)],
        help_text="Group size limit. Blank: the room's capacity.",
    )
    topic = models.ForeignKey(
        "programs.Topic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A fixed topic for every session of this slot.",
    )
    uses_curriculum = models.BooleanField(
        default=False,
        help_text="Each session takes the next topic of the track's curriculum.",
    )

    class Meta:
        ordering = ["track", "weekday", "start_time"]

    def __str__(self) -> str:
        return (
            f"{Weekday(self.weekday).label} {self.start_time:%H:%M}–{self.end_time:%H:%M} "
            f"{self.title or self.session_type}"
        )


class Session(ClinicalRecord):
    """A group session or an appointment on a program day. Generated sessions are never
    recreated: the roster of a group comes from enrolment, not from the session."""

    program = models.ForeignKey("programs.Program", on_delete=models.PROTECT, related_name="+")
    track = models.ForeignKey(
        "programs.Track", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template_slot = models.ForeignKey(
        TemplateSlot, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    kind = models.CharField(max_length=20, choices=SessionKind.choices, default=SessionKind.GROUP)
    session_type = models.ForeignKey(
        "programs.SessionType", on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(max_length=120)
    date = models.DateField(help_text="The program day (in the program's time zone).")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="facilitated_sessions",
    )
    room = models.ForeignKey(
        "programs.Room", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    join_link = models.URLField(blank=True, max_length=300)
    capacity = models.PositiveIntegerField(null=True, blank=True)
    topic = models.ForeignKey(
        "programs.Topic", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_curriculum = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=SessionStatus.choices, default=SessionStatus.SCHEDULED
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    attendance_taken_at = models.DateTimeField(null=True, blank=True)
    attendance_taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            # Generating a range twice never makes a second session for the same slot-day.
            models.UniqueConstraint(
                fields=["template_slot", "date"],
                condition=models.Q(template_slot__isnull=False),
                name="session_one_per_slot_day",
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="session_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "date"], name="session_program_date"),
            models.Index(fields=["track", "date"], name="session_track_date"),
            models.Index(fields=["facilitator", "starts_at"], name="session_facilitator_start"),
            models.Index(fields=["room", "starts_at"], name="session_room_start"),
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.date:%a %b %-d}"

    def audit_label(self) -> str:
        return f"session {self.pk}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == SessionStatus.CANCELLED

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def is_family(self) -> bool:
        """A family appointment or workshop: family members are invited (openiop.family)."""
        return self.kind in FAMILY_KINDS

    @property
    def effective_capacity(self) -> int | None:
        if self.capacity:
            return self.capacity
        return self.room.capacity if self.room_id and self.room else None

    def local_start(self) -> dt.datetime:
        return self.starts_at.astimezone(self.program.tz)

    def local_end(self) -> dt.datetime:
        return self.ends_at.astimezone(self.program.tz)


class Enrolment(models.Model):
    """A participant's time on a track: expected at its sessions from start to end.

    Written by the episode hook when a participant is admitted, changes track or leaves;
    an ended enrolment is kept, so changing track keeps the history.
    """

    episode = models.ForeignKey(
        "participants.Episode", on_delete=models.PROTECT, related_name="enrolments"
    )
    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="+")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["start_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode"],
                condition=models.Q(end_date__isnull=True),
                name="enrolment_one_open_per_episode",
            ),
        ]
        indexes = [models.Index(fields=["track", "start_date"], name="enrolment_track_start")]

    def __str__(self) -> str:
        return f"{self.episode_id} on {self.track_id} from {self.start_date}"

    def covers(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.end_date is None or day <= self.end_date)


class Booking(ClinicalRecord):
    """A participant booked into a session outside their track's roster: an appointment,
    a make-up of a missed topic, a walk-in."""

    session = models.ForeignKey(Session, on_delete=models.PROTECT, related_name="bookings")
    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=12, choices=BookingReason.choices)
    status = models.CharField(
        max_length=12, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    capacity_override = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "episode"],
                condition=models.Q(status="booked"),
                name="booking_one_per_session_episode",
            ),
        ]
        indexes = [models.Index(fields=["episode", "status"], name="booking_episode_status")]

    def __str__(self) -> str:
        return f"booking {self.pk}"


class CurriculumItem(models.Model):
    """A track's psychoeducation curriculum, in order. A track without items follows the
    program's topics in their sequence."""

    track = models.ForeignKey("programs.Track", on_delete=models.PROTECT, related_name="curriculum")
    topic = models.ForeignKey("programs.Topic", on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["track", "position"]
        constraints = [
            models.UniqueConstraint(fields=["track", "topic"], name="curriculum_topic_once"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.topic_id}"


class TopicAssignment(ClinicalRecord):
    """A missed topic given as individual work instead of a make-up session."""

    episode = models.ForeignKey("participants.Episode", on_delete=models.PROTECT, related_name="+")
    topic = models.ForeignKey("programs.Topic", on_delete=models.PROTECT, related_name="+")
    assigned_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "topic"],
                condition=models.Q(voided=False),
                name="topicassignment_once",
            ),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk}"


class FeedToken(models.Model):
    """The secret in a calendar-feed URL, for one staff member or one participant.

    Only a hash is stored: the link is shown once when made. Revoking stops it at once.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feed_tokens",
    )
    participant = models.ForeignKey(
        "participants.Participant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, help_text="The link's first characters, to tell apart.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(user__isnull=False, participant__isnull=True)
                    | models.Q(user__isnull=True, participant__isnull=False)
                ),
                name="feedtoken_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"feed {self.hint}…"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
