from __future__ import annotations

import zoneinfo
from typing import cast

from django import forms
from django.db import models

from .choices import DEFAULT_MIN_WEEKLY_HOURS, Weekday
from .models import Program, Room, SessionType, Site, Topic, Track

TIME_ZONES = sorted(zoneinfo.available_timezones())


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "address", "phone", "retired"]


class ProgramForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in TIME_ZONES])

    class Meta:
        model = Program
        fields = [
            "name",
            "site",
            "time_zone",
            "level_of_care",
            "population",
            "min_weekly_hours",
            "absence_alert_after",
            "below_minimum_alerts",
            "craving_alert_at",
            "plan_review_days",
            "counsellors_see_care_team_only",
            "idle_timeout_minutes",
            "retired",
        ]

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if sites is not None:
            cast(forms.ModelChoiceField, self.fields["site"]).queryset = sites
        # Attendance policy: blank keeps the default (issue 5).
        # Automatic sign-out (issue 8): blank keeps the default, 15 minutes.
        for name in (
            "absence_alert_after",
            "craving_alert_at",
            "plan_review_days",
            "idle_timeout_minutes",
        ):
            self.fields[name].required = False

    def _default(self, name: str) -> int:
        field = Program._meta.get_field(name)
        assert isinstance(field, models.Field)  # noqa: S101  (a concrete column)
        return int(field.get_default())

    def clean_absence_alert_after(self) -> int:
        value = self.cleaned_data.get("absence_alert_after")
        return self._default("absence_alert_after") if value is None else value

    def clean_plan_review_days(self) -> int:
        value = self.cleaned_data.get("plan_review_days")
        return self._default("plan_review_days") if value is None else value

    def clean_idle_timeout_minutes(self) -> int:
        value = self.cleaned_data.get("idle_timeout_minutes")
        return self._default("idle_timeout_minutes") if value is None else value

    def clean_craving_alert_at(self) -> int:
        value = self.cleaned_data.get("craving_alert_at")
        return self._default("craving_alert_at") if value is None else value

    def clean(self):
        super().clean()
        data = self.cleaned_data
        population, hours = data.get("population", ""), data.get("min_weekly_hours")
        level = data.get("level_of_care") or ""
        floor = DEFAULT_MIN_WEEKLY_HOURS.get(population)
        # ASAM 2.1 is defined by its hour floor (DOMAIN.md §1.1): an IOP set below it
        # would not be an IOP. Other levels are not held to it.
        if level.endswith(":2.1") and floor is not None and hours is not None and hours < floor:
            self.add_error(
                "min_weekly_hours",
                f"ASAM Level 2.1 requires at least {floor} hours a week for this population.",
            )
        return data


class TrackForm(forms.ModelForm):
    days = forms.TypedMultipleChoiceField(
        choices=Weekday.choices,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="The weekdays this track meets.",
    )

    class Meta:
        model = Track
        fields = ["name", "days", "start_time", "end_time", "modality", "description", "retired"]
        widgets = {
            "start_time": forms.TimeInput(attrs={"type": "time"}),
            "end_time": forms.TimeInput(attrs={"type": "time"}),
        }

    def clean_days(self):
        return sorted(set(self.cleaned_data["days"]))

    def clean(self):
        super().clean()
        data = self.cleaned_data
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end time must be after the start time.")
        return data


class RoomForm(forms.ModelForm):
    class Meta:
        model = Room
        fields = ["name", "capacity", "retired"]


class SessionTypeForm(forms.ModelForm):
    class Meta:
        model = SessionType
        fields = ["name", "category", "default_minutes", "retired"]


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["title", "description", "sequence", "retired"]
