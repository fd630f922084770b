"""Forms of the amendment pages (HIPAA §164.526). Input problems are form errors (400);
refusals that depend on the request's state come from `amendment_services` (409)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms

from .amendment_services import (
    DENIAL_GROUNDS,
    MAX_BY,
    MAX_CHANGE,
    MAX_LABEL,
    MAX_REASON,
    MAX_VOID,
    OTHER,
)

TEXTAREA = {"rows": 4}


class RequestForm(forms.Form):
    received_on = forms.DateField(
        label="Date received",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="A decision is due within 60 days of this date (HIPAA §164.526(b)(2)).",
    )
    requested_by = forms.CharField(
        label="Requested by",
        max_length=MAX_BY,
        help_text="The participant, or their representative (name and relationship).",
    )
    target = forms.ChoiceField(
        label="Record to amend",
        help_text="The participant's signed notes, plan versions, assessments, "
        "questionnaires and drug screens. Choose “another record” for anything else.",
    )
    other_label = forms.CharField(
        label="Which record (if “another record”)",
        max_length=MAX_LABEL,
        required=False,
        help_text="As the participant named it, e.g. “intake paperwork of March 2”.",
    )
    requested_change = forms.CharField(
        label="What the participant asks to change",
        max_length=MAX_CHANGE,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="In the participant's words where possible, and why.",
    )

    def __init__(self, *args: Any, choices: list[tuple[str, Any]], today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["target"]).choices = [("", "— choose —"), *choices]
        self.today = today

    def clean_received_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["received_on"]
        if day > self.today:
            raise forms.ValidationError("The date received cannot be in the future.")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("target") == OTHER and not (data.get("other_label") or "").strip():
            self.add_error("other_label", "Describe the record the participant named.")
        return data


class AcceptForm(forms.Form):
    amendment_text = forms.CharField(
        label="The amendment",
        max_length=MAX_CHANGE,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="Shown with the record from now on, with your name and today's date. "
        "The record itself is not changed.",
    )


class DenyForm(forms.Form):
    ground = forms.ChoiceField(
        label="Ground for the denial",
        choices=[("", "— choose —"), *DENIAL_GROUNDS],
        help_text="HIPAA §164.526(a)(2) allows only these.",
    )
    explanation = forms.CharField(
        label="Reason, in plain language",
        max_length=MAX_REASON - 300,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="The participant is told this reason; they may then file a statement of "
        "disagreement, which stays with the record.",
    )


class DisagreementForm(forms.Form):
    text = forms.CharField(
        label="The participant's statement of disagreement",
        max_length=MAX_CHANGE,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="As the participant gave it. Shown with the record and the denial.",
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="Why void this request",
        max_length=MAX_VOID,
        help_text="Only for a request logged in error (wrong participant, a duplicate).",
    )
