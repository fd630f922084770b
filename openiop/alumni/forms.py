"""Forms of the alumni follow-ups and events. The rules live in `services` (the forms
report them beside the fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from openiop.core.forms import ModelMultipleIdsField

from . import services
from .choices import ContactMethod, FollowUpStatus, Housing, Occupation, UseSinceDischarge

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})
YES_NO = [("", "—"), ("yes", "Yes"), ("no", "No")]
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _day_in_range(day: dt.date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
        )


class AttemptForm(forms.Form):
    """One attempt to reach the person; when reached, the outcomes they gave."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)
    method = forms.ChoiceField(choices=ContactMethod.choices, initial=ContactMethod.PHONE)
    reached = forms.TypedChoiceField(
        label="Reached the person?",
        choices=[("no", "No — no answer, message left, wrong number…"), ("yes", "Yes")],
        coerce=_yes_no,
        widget=forms.RadioSelect,
        initial="no",
    )
    note = forms.CharField(
        required=False,
        max_length=services.NOTE_LENGTH,
        help_text="E.g. “Left a voicemail”, “Number not in service”.",
    )
    use_since_discharge = forms.ChoiceField(
        label="Alcohol or drug use since discharge",
        choices=[("", "—"), *UseSinceDischarge.choices],
        required=False,
    )
    days_used_past_30 = forms.IntegerField(
        label="Days of use in the past 30",
        required=False,
        min_value=0,
        max_value=services.DAYS_IN_WINDOW,
        help_text="0 when there was no use.",
    )
    occupation = forms.ChoiceField(
        label="Work or school", choices=[("", "—"), *Occupation.choices], required=False
    )
    housing = forms.ChoiceField(choices=[("", "—"), *Housing.choices], required=False)
    readmitted = forms.TypedChoiceField(
        label="Back in treatment", choices=YES_NO, coerce=_yes_no, required=False
    )
    readmitted_where = forms.CharField(label="Where", max_length=200, required=False)
    quality_of_life = forms.IntegerField(
        label="Quality of life (0–10)",
        required=False,
        min_value=0,
        max_value=services.QOL_MAX,
        help_text="“How would you rate your quality of life?” 0 worst, 10 best.",
    )
    in_aftercare = forms.TypedChoiceField(
        label="Keeping to the aftercare plan", choices=YES_NO, coerce=_yes_no, required=False
    )
    notes = forms.CharField(
        label="Notes on the call", max_length=4000, required=False, widget=forms.Textarea
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("reached") is None and "reached" not in self.errors:
            self.add_error("reached", "Say whether you reached the person.")
        if data.get("reached"):
            for name, problem in services.outcome_problems(data).items():
                if name not in self.errors:
                    self.add_error(name, problem)
        return data

    def outcomes(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.OUTCOME_FIELDS}


class CloseForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)
    status = forms.ChoiceField(
        label="Close as",
        choices=[
            (FollowUpStatus.NOT_REACHED, "Not reached (after trying)"),
            (FollowUpStatus.DECLINED, "Declined follow-up"),
            (FollowUpStatus.CANCELLED, "Not needed (e.g. readmitted here, died)"),
        ],
    )
    note = forms.CharField(
        label="Why",
        max_length=services.NOTE_LENGTH,
        required=False,
        help_text="Needed when the follow-up was declined or is not needed.",
    )

    def __init__(self, *args: Any, attempts: int = 0, **kwargs: Any):
        # Its own ids: the page shows it beside the attempt form, which has a note too.
        kwargs.setdefault("auto_id", "id_close_%s")
        super().__init__(*args, **kwargs)
        self.attempts = attempts

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status"):
            problem = services.close_problems(
                data["status"], attempts=self.attempts, note=data.get("note") or ""
            )
            if problem:
                self.add_error(None, problem)
        return data


class EventForm(forms.Form):
    program: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, empty_label=None)
    title = forms.CharField(max_length=200)
    day = forms.DateField(label="Date", widget=DATE, validators=[_day_in_range])
    start = forms.TimeField(widget=TIME)
    end = forms.TimeField(widget=TIME)
    location = forms.CharField(max_length=200, required=False)
    description = forms.CharField(max_length=4000, required=False, widget=forms.Textarea)
    facilitator: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args: Any, programs: Any, staff: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["program"]).queryset = programs
        cast(forms.ModelChoiceField, self.fields["facilitator"]).queryset = staff

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "The end time must be after the start time.")
        facilitator, program = data.get("facilitator"), data.get("program")
        if facilitator and program and program.pk not in facilitator.program_ids:
            self.add_error("facilitator", "Choose a facilitator of the event's program.")
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        tz = data["program"].tz
        return {
            "title": data["title"],
            "starts_at": dt.datetime.combine(data["day"], data["start"], tzinfo=tz),
            "ends_at": dt.datetime.combine(data["day"], data["end"], tzinfo=tz),
            "location": data["location"],
            "description": data["description"],
            "facilitator": data["facilitator"],
        }


class CancelEventForm(forms.Form):
    reason = forms.CharField(label="Why is it cancelled?", max_length=500)


class ParticipantChoices(ModelMultipleIdsField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.record_number})"


class AttendanceForm(forms.Form):
    # The event's version when the page was opened (a cancelled or changed event refuses).
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31)
    attended = ParticipantChoices(
        queryset=None,
        required=False,
        label="Who came",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, eligible: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["attended"]).queryset = eligible
