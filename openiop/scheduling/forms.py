from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from openiop.programs.choices import Modality, Weekday
from openiop.programs.models import Room, SessionType, Topic

from .choices import APPOINTMENT_KINDS, SessionKind
from .models import TemplateSlot

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})

# The program days the schedule accepts. A date far from now is a typo, and the ends of the
# calendar (year 1, year 9999) overflow when a week is stepped through or a time put in UTC.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


def in_range(day: dt.date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def _day_in_range(day: dt.date) -> None:
    if not in_range(day):
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}.",
            code="out_of_range",
        )


class EpisodeChoiceField(forms.ModelChoiceField):
    """Participants in care, by name and record number."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.participant.display_name} ({obj.participant.record_number})"


def _staff_choices(program: Any) -> Any:
    from openiop.accounts.models import User
    from openiop.core.roles import CLINICAL_ROLES

    return (
        User.objects.filter(
            is_active=True, programs=program, role_assignments__role__in=CLINICAL_ROLES
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


class TemplateSlotForm(forms.ModelForm):
    join_link = forms.URLField(required=False, max_length=300, assume_scheme="https")

    class Meta:
        model = TemplateSlot
        fields = [
            "weekday",
            "start_time",
            "end_time",
            "session_type",
            "title",
            "facilitator",
            "room",
            "modality",
            "join_link",
            "capacity",
            "topic",
            "uses_curriculum",
        ]
        widgets = {"start_time": TIME, "end_time": TIME}

    def __init__(self, *args: Any, track: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        program = track.program
        self.track = track
        f = self.fields
        cast(forms.ModelChoiceField, f["session_type"]).queryset = SessionType.objects.filter(
            program=program, retired=False
        )
        cast(forms.ModelChoiceField, f["facilitator"]).queryset = _staff_choices(program)
        cast(forms.ModelChoiceField, f["room"]).queryset = Room.objects.filter(
            site=program.site, retired=False
        )
        cast(forms.ModelChoiceField, f["topic"]).queryset = Topic.objects.filter(
            program=program, retired=False
        )
        if not self.is_bound:
            self.initial.setdefault("modality", track.modality)
            self.initial.setdefault("start_time", track.start_time)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error("end_time", "The end time must be after the start time.")
        if data.get("weekday") is not None and data["weekday"] not in self.track.days:
            days = self.track.day_names or "no days"
            self.add_error("weekday", f"The track meets on {days}; pick one of those days.")
        _check_modality(self, data)
        room, capacity = data.get("room"), data.get("capacity")
        if room and capacity and capacity > room.capacity:
            self.add_error(
                "capacity", f"Room {room.name} holds {room.capacity}; the group cannot be larger."
            )
        if data.get("topic") and data.get("uses_curriculum"):
            self.add_error("topic", "Choose a fixed topic or the curriculum, not both.")
        return data


def _check_modality(form: forms.BaseForm, data: dict[str, Any]) -> None:
    modality = data.get("modality")
    if modality in (Modality.TELEHEALTH, Modality.HYBRID) and not data.get("join_link"):
        form.add_error("join_link", "Telehealth and hybrid sessions need a join link.")
    if modality in (Modality.IN_PERSON, Modality.HYBRID) and "room" in data and not data["room"]:
        form.add_error("room", "In-person and hybrid sessions need a room.")


class GenerateForm(forms.Form):
    first = forms.DateField(label="From", widget=DATE, validators=[_day_in_range])
    last = forms.DateField(label="To (inclusive)", widget=DATE, validators=[_day_in_range])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if last < first:
                self.add_error("last", "The end date is before the start date.")
            elif (last - first).days >= 366:
                self.add_error("last", "Generate at most a year at a time.")
        return data


class ClosureForm(forms.Form):
    reason = forms.CharField(max_length=120, label="Name", help_text="e.g. Thanksgiving")
    first_day = forms.DateField(widget=DATE, validators=[_day_in_range])
    last_day = forms.DateField(
        widget=DATE, required=False, help_text="Blank: one day.", validators=[_day_in_range]
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and not last:
            data["last_day"] = first
        elif first and last:
            if last < first:
                self.add_error("last_day", "The last day is before the first day.")
            elif (last - first).days > 92:
                self.add_error("last_day", "A closure can last at most 93 days.")
        return data


class SessionForm(forms.Form):
    """A one-off group session, an individual or family appointment, or a family
    workshop (several families; no one participant)."""

    kind = forms.ChoiceField(choices=SessionKind.choices, initial=SessionKind.INDIVIDUAL)
    episode = EpisodeChoiceField(
        queryset=None,
        required=False,
        label="Participant",
        help_text="Who the appointment is for (not needed for a group or a family workshop).",
    )
    session_type: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None)
    title = forms.CharField(max_length=120, required=False, help_text="Blank: the session type.")
    day = forms.DateField(label="Date", widget=DATE, validators=[_day_in_range])
    start = forms.TimeField(label="Start", widget=TIME)
    end = forms.TimeField(label="End", widget=TIME)
    facilitator: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False)
    room: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False)
    modality = forms.ChoiceField(choices=Modality.choices, initial=Modality.IN_PERSON)
    join_link = forms.URLField(required=False, max_length=300, assume_scheme="https")
    capacity = forms.IntegerField(required=False, min_value=1, max_value=500)
    capacity_override = forms.CharField(
        required=False,
        max_length=300,
        label="Reason to book past capacity",
        help_text="Only if the booking is refused for capacity.",
    )

    def __init__(self, *args: Any, program: Any, episodes: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.program = program
        f = self.fields
        cast(forms.ModelChoiceField, f["episode"]).queryset = episodes
        cast(forms.ModelChoiceField, f["session_type"]).queryset = SessionType.objects.filter(
            program=program, retired=False
        )
        cast(forms.ModelChoiceField, f["facilitator"]).queryset = _staff_choices(program)
        cast(forms.ModelChoiceField, f["room"]).queryset = Room.objects.filter(
            site=program.site, retired=False
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "The end time must be after the start time.")
        if data.get("kind") in APPOINTMENT_KINDS and not data.get("episode"):
            self.add_error("episode", "An appointment needs the participant it is for.")
        _check_modality(self, data)
        return data


class RescheduleForm(forms.Form):
    """One session's day, times, place and people (the template is not changed)."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(max_length=120)
    day = forms.DateField(label="Date", widget=DATE, validators=[_day_in_range])
    start = forms.TimeField(label="Start", widget=TIME)
    end = forms.TimeField(label="End", widget=TIME)
    facilitator: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False)
    room: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False)
    modality = forms.ChoiceField(choices=Modality.choices)
    join_link = forms.URLField(required=False, max_length=300, assume_scheme="https")
    capacity = forms.IntegerField(required=False, min_value=1, max_value=500)
    capacity_override = forms.CharField(
        required=False,
        max_length=300,
        label="Reason to go past capacity",
        help_text="Only if the change is refused for capacity.",
    )

    def __init__(self, *args: Any, program: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["facilitator"]).queryset = _staff_choices(program)
        cast(forms.ModelChoiceField, self.fields["room"]).queryset = Room.objects.filter(
            site=program.site, retired=False
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "The end time must be after the start time.")
        _check_modality(self, data)
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Shown on the calendar and the roster.")


class TopicForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    topic: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, required=False, label="Topic covered"
    )

    def __init__(self, *args: Any, program: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["topic"]).queryset = Topic.objects.filter(
            program=program, retired=False
        )


class BookForm(forms.Form):
    episode = EpisodeChoiceField(queryset=None, label="Participant")
    capacity_override = forms.CharField(
        required=False, max_length=300, label="Reason to book past capacity"
    )

    def __init__(self, *args: Any, episodes: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["episode"])
        field.queryset = episodes


class CurriculumForm(forms.Form):
    """One position box per program topic: numbers give the order, blank leaves it out."""

    def __init__(self, *args: Any, topics: list[Any], current: dict[int, int], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.topics = topics
        for topic in topics:
            self.fields[f"topic_{topic.pk}"] = forms.IntegerField(
                required=False,
                min_value=1,
                max_value=500,
                label=topic.title,
                initial=current.get(topic.pk),
            )

    def ordered(self) -> list[Any]:
        chosen = [
            (self.cleaned_data[f"topic_{t.pk}"], t.sequence, t.pk, t)
            for t in self.topics
            if self.cleaned_data.get(f"topic_{t.pk}") is not None
        ]
        return [t for *_, t in sorted(chosen, key=lambda c: c[:3])]


def parse_day(raw: str | None, default: dt.date) -> tuple[dt.date, bool]:
    """A YYYY-MM-DD from a query string, or the default and False when it is not one (or
    is outside EARLIEST_DAY … LATEST_DAY)."""
    if not raw:
        return default, True
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return default, False
    return (day, True) if in_range(day) else (default, False)


WEEKDAYS = Weekday
