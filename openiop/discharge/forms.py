"""Forms of the discharge and the discharge summary. The rules live in `rules.py`; the
discharge form runs them in `clean` so each problem shows beside its field."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db import models
from django.utils.text import capfirst

from openiop.programs.choices import LevelOfCare

from . import rules
from .choices import DischargeReason
from .models import Discharge, DischargeSummary, SummaryAddendum
from .services import MAX_ADDENDUM, TEDS_FIELDS, TEXT_FIELDS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEDS_HELP = "Needed for state reporting (TEDS)."


class DischargeForm(forms.Form):
    reason = forms.ChoiceField(label="Reason for discharge", choices=DischargeReason.choices)
    discharge_date = forms.DateField(widget=DATE)
    last_contact_date = forms.DateField(
        label="Date of last contact",
        widget=DATE,
        help_text="The last day the participant received a service (TEDS).",
    )
    reason_detail = forms.CharField(
        label="What happened",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required unless the participant completed treatment.",
    )
    next_level = forms.ChoiceField(
        label="Level of care going to",
        required=False,
        choices=[("", "---------"), *LevelOfCare.choices],
        help_text="For a step up or a step down.",
    )
    receiving_program = forms.CharField(
        required=False, max_length=200, help_text="For a step up or a step down: who takes over."
    )
    receiving_contact = forms.CharField(
        label="Receiving program's contact", required=False, max_length=200
    )

    def __init__(self, *args: Any, episode: Any, today: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.episode = episode
        self.today = today
        for name in TEDS_FIELDS:
            model_field = cast(models.Field, Discharge._meta.get_field(name))
            field = cast(forms.Field, model_field.formfield(required=False))
            field.help_text = TEDS_HELP
            field.label = capfirst(str(model_field.verbose_name))
            self.fields[name] = field

    def teds_fields(self) -> list[Any]:
        return [self[name] for name in TEDS_FIELDS]

    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name not in TEDS_FIELDS]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if self.errors:
            return data
        proposed = rules.Proposed(
            status=self.episode.status,
            admission_date=self.episode.admission_date,
            level_of_care=self.episode.level_of_care,
            today=self.today,
            discharge_date=data["discharge_date"],
            last_contact_date=data["last_contact_date"],
            reason=data["reason"],
            reason_detail=data.get("reason_detail", ""),
            next_level=data.get("next_level", ""),
            receiving_program=data.get("receiving_program", ""),
        )
        for field, message in rules.problems(proposed):
            self.add_error(field, message)
        return data

    def teds(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in TEDS_FIELDS}


class SummaryForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)
    # Which button was pressed: save the text, refresh the facts, or save and go to sign.
    action = forms.ChoiceField(
        required=False,
        choices=[("save", "Save"), ("refresh", "Refresh"), ("sign", "Sign")],
        widget=forms.HiddenInput,
    )

    class Meta:
        model = DischargeSummary
        fields = list(TEXT_FIELDS)
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in TEXT_FIELDS}
        labels = {"recommendations": "Recommendations and aftercare"}


class SignForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)
    attest = forms.BooleanField(
        label="I have reviewed this summary: it is complete and accurate, and I sign it."
    )


class AddendumForm(forms.ModelForm):
    class Meta:
        model = SummaryAddendum
        fields = ["text"]
        labels = {"text": "Addendum"}
        widgets = {"text": forms.Textarea(attrs={"rows": 4})}

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write the addendum.")
        if len(text) > MAX_ADDENDUM:
            raise forms.ValidationError(f"At most {MAX_ADDENDUM} characters.")
        return text
