from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from openiop.participants.forms import DATE

from .definitions import Instrument
from .models import AlertRisk, Occasion

SEX_CHOICES = [("", "Not recorded (use the lower cut-off)"), ("female", "Female"), ("male", "Male")]


class ResponseForm(forms.Form):
    """One radio group per item, built from the instrument's definition."""

    administered_on = forms.DateField(widget=DATE, label="Date given")
    occasion = forms.ChoiceField(choices=Occasion.choices)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, required=False
    )

    def __init__(self, *args: Any, instrument: Instrument, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        for item in instrument.items:
            self.fields[f"item_{item.code}"] = forms.TypedChoiceField(
                choices=[(str(o.value), o.label) for o in item.options],
                coerce=int,
                widget=forms.RadioSelect,
                label=f"{item.code}. {item.text}",
                error_messages={"required": "Answer this item (every item is needed to score)."},
            )
        if instrument.code == "AUDIT-C":
            self.fields["sex"] = forms.ChoiceField(
                choices=SEX_CHOICES, required=False, label="Sex (sets the cut-off)"
            )

    def clean_administered_on(self) -> dt.date:
        day = self.cleaned_data["administered_on"]
        if day > timezone.localdate() + dt.timedelta(days=1):
            raise forms.ValidationError("The date given cannot be in the future.")
        return day

    def item_fields(self) -> list[Any]:
        return [self[f"item_{item.code}"] for item in self.instrument.items]

    def answers(self) -> dict[str, int]:
        return {item.code: self.cleaned_data[f"item_{item.code}"] for item in self.instrument.items}


ACTIONS = [
    ("assessed", "Suicide risk assessment completed"),
    ("safety_plan", "Safety plan made or reviewed with the participant"),
    ("means", "Access to lethal means discussed"),
    ("crisis_line", "Crisis line (988) and after-hours contacts given"),
    ("supervisor", "Supervisor consulted"),
    ("support", "Support person contacted (with consent)"),
    ("emergency", "Sent to emergency services / emergency department"),
    ("higher_level", "Referred to a higher level of care"),
    ("follow_up", "Follow-up contact scheduled"),
]


class AlertResponseForm(forms.Form):
    actions = forms.MultipleChoiceField(
        choices=ACTIONS, widget=forms.CheckboxSelectMultiple, label="What was done"
    )
    risk_after = forms.ChoiceField(
        choices=AlertRisk.choices, widget=forms.RadioSelect, label="Risk after your assessment"
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=5000,
        label="Response note",
        help_text="What the participant said, what you assessed, what was agreed.",
    )


class SettingsForm(forms.Form):
    """Enabled / routine / interval for every instrument of a program."""

    def __init__(self, *args: Any, definitions: list[Instrument], values: dict, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        for d in definitions:
            v = values[d.code]
            self.fields[f"{d.code}__enabled"] = forms.BooleanField(
                required=False, initial=v["enabled"], label=f"Offer {d.short_name}"
            )
            self.fields[f"{d.code}__routine"] = forms.BooleanField(
                required=False, initial=v["routine"], label=f"Give {d.short_name} routinely"
            )
            self.fields[f"{d.code}__interval_days"] = forms.IntegerField(
                min_value=7,
                max_value=90,
                initial=v["interval_days"],
                label=f"{d.short_name}: every N days",
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "definition": d,
                "enabled": self[f"{d.code}__enabled"],
                "routine": self[f"{d.code}__routine"],
                "interval": self[f"{d.code}__interval_days"],
            }
            for d in self.definitions
        ]

    def values(self) -> dict[str, dict[str, Any]]:
        return {
            d.code: {
                "enabled": self.cleaned_data[f"{d.code}__enabled"],
                "routine": self.cleaned_data[f"{d.code}__routine"],
                "interval_days": self.cleaned_data[f"{d.code}__interval_days"],
            }
            for d in self.definitions
        }
