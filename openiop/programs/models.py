from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from openiop.core.models import ReferenceData

from .choices import LevelOfCare, Modality, Population, SessionCategory, Weekday, level_short


class Site(ReferenceData):
    name = models.CharField(max_length=120, unique=True)
    address = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Program(ReferenceData):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="programs")
    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    level_of_care = models.CharField(
        max_length=10, choices=LevelOfCare.choices, default=LevelOfCare.E3_2_1
    )
    population = models.CharField(
        max_length=12, choices=Population.choices, default=Population.ADULT
    )
    min_weekly_hours = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        default=Decimal("9"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("60"))],
        help_text="ASAM 2.1: at least 9 h/week for adults, 6 for adolescents.",
    )
    absence_alert_after = models.PositiveSmallIntegerField(
        "alert after consecutive absences",
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="The counsellor is alerted after this many absences in a row (issue 5).",
    )
    below_minimum_alerts = models.BooleanField(
        default=True,
        help_text="Alert the counsellor when a participant's week ends below the hour minimum.",
    )
    craving_alert_at = models.PositiveSmallIntegerField(
        "craving alert threshold",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="A check-in craving (0–10) at or above this alerts the counsellor.",
    )
    plan_review_days = models.PositiveSmallIntegerField(
        "treatment plan review every (days)",
        default=30,
        validators=[MinValueValidator(7), MaxValueValidator(365)],
        help_text="A signed treatment plan is due for review this many days after it takes effect.",
    )
    counsellors_see_care_team_only = models.BooleanField(
        default=False,
        help_text="Counsellors see only participants whose care team they are on.",
    )
    # Automatic log-off (issue 8, point 5): ONC 45 CFR 170.315(d)(5) requires ending a
    # session after a set period of inactivity (DOMAIN.md §3). The bounds keep a session
    # from ending while someone reads a page (2 min) or from staying open all morning.
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        "sign out after inactivity (minutes)",
        default=15,
        validators=[MinValueValidator(2), MaxValueValidator(120)],
        help_text=(
            "Staff are signed out after this many minutes without activity; what they "
            "were typing is kept. Someone who works in several programs gets the shortest."
        ),
    )
    is_demo = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def level_short(self) -> str:
        return level_short(self.level_of_care)

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The program day (a date in the program's time zone)."""
        from django.utils import timezone

        return (now or timezone.now()).astimezone(self.tz).date()


class Track(ReferenceData):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="tracks")
    name = models.CharField(max_length=80)
    days = models.JSONField(default=list, help_text="Weekdays, 0 = Monday.")
    start_time = models.TimeField()
    end_time = models.TimeField()
    modality = models.CharField(max_length=12, choices=Modality.choices, default=Modality.IN_PERSON)
    description = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["program", "start_time", "name"]
        constraints = [
            models.UniqueConstraint(fields=["program", "name"], name="track_name_per_program"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def day_names(self) -> str:
        return ", ".join(Weekday(d).label[:3] for d in sorted(self.days))

    @property
    def hours_per_day(self) -> Decimal:
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.start_time)
        end = dt.datetime.combine(dt.date(2000, 1, 1), self.end_time)
        return Decimal((end - start).total_seconds() / 3600).quantize(Decimal("0.1"))

    @property
    def hours_per_week(self) -> Decimal:
        return self.hours_per_day * len(self.days)

    def meets_on(self, day: dt.date) -> bool:
        return day.weekday() in self.days


class Room(ReferenceData):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="rooms")
    name = models.CharField(max_length=80)
    capacity = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(500)]
    )

    class Meta:
        ordering = ["site", "name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="room_name_per_site"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.capacity})"


class SessionType(ReferenceData):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="session_types")
    name = models.CharField(max_length=80)
    category = models.CharField(max_length=20, choices=SessionCategory.choices)
    default_minutes = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(600)]
    )

    class Meta:
        ordering = ["program", "category", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"], name="sessiontype_name_per_program"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Topic(ReferenceData):
    """A psychoeducation topic in the program's curriculum."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="topics")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    sequence = models.PositiveIntegerField(default=0, help_text="Order in the curriculum.")

    class Meta:
        ordering = ["program", "sequence", "title"]
        constraints = [
            models.UniqueConstraint(fields=["program", "title"], name="topic_title_per_program"),
        ]

    def __str__(self) -> str:
        return self.title
