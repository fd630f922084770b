"""Forms of the aftercare plan. The rules live in `aftercare_services`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from . import aftercare_services as services
from .choices import ReferralKind, ReferralStatus, Responsible

DATE = forms.DateInput(attrs={"type": "date"})
TIME = forms.TimeInput(attrs={"type": "time"})
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
VERSION = {"widget": forms.HiddenInput, "min_value": 0, "max_value": 2**31}


def _day_in_range(day: dt.date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
        )


class PlanForm(forms.Form):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
    goals = forms.CharField(
        label="What the participant wants to keep up",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    warning_signs = forms.CharField(
        label="Warning signs and what to do",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    crisis_plan = forms.CharField(
        label="In a crisis",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Who to call, day and night (e.g. 988, the program's number, a sponsor).",
    )


class ReferralForm(forms.Form):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
    kind = forms.ChoiceField(label="Referral to", choices=ReferralKind.choices)
    provider = forms.CharField(label="Provider or meeting", max_length=200)
    contact = forms.CharField(label="Phone, address or link", max_length=300, required=False)
    day = forms.DateField(
        label="Appointment date", widget=DATE, required=False, validators=[_day_in_range]
    )
    time = forms.TimeField(label="Appointment time", widget=TIME, required=False)
    responsible = forms.ChoiceField(label="Who arranges it", choices=Responsible.choices)
    responsible_name = forms.CharField(
        label="Their name",
        max_length=120,
        required=False,
        help_text="Needed for a case manager, the receiving provider or a family member.",
    )
    status = forms.ChoiceField(choices=ReferralStatus.choices, initial=ReferralStatus.PLANNED)
    notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, tz: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, time = data.get("day"), data.get("time")
        if time and not day and "day" not in self.errors:
            self.add_error("day", "Give the appointment's date as well as its time.")
        data["appointment_at"] = (
            dt.datetime.combine(day, time or dt.time(9), tzinfo=self.tz) if day else None
        )
        if not self.errors:
            for name, problem in services.referral_problems(data).items():
                self.add_error("day" if name == "appointment_at" else name, problem)
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.REFERRAL_FIELDS}


class VoidReferralForm(forms.Form):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
    reason = forms.CharField(label="Why remove it?", max_length=500)


class GiveForm(forms.Form):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
