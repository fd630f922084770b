from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from .choices import Channel, EmergencyReason, InfoCategory, Purpose, RecipientKind
from .emergency import DEFAULT_MINUTES, DURATIONS


class BreakGlassForm(forms.Form):
    reason_kind = forms.ChoiceField(
        label="Why do you need access?", choices=[("", "—"), *EmergencyReason.choices]
    )
    reason = forms.CharField(
        label="Reason, in a sentence",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Compliance reviews every emergency access and reads this.",
    )
    minutes = forms.TypedChoiceField(
        label="For how long", choices=DURATIONS, coerce=int, initial=DEFAULT_MINUTES
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=300)


class ReviewForm(forms.Form):
    note = forms.CharField(
        label="What you found",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="E.g. “Confirmed with the on-call supervisor: overdose call at 14:10.”",
    )


class EndForm(forms.Form):
    pass


DOCUMENTS = [
    ("attendance_letter", "Attendance letter (dates and hours attended)"),
    ("enrolment_letter", "Enrolment letter (in the program since, status)"),
    ("record_summary", "Summary of records (choose what goes in)"),
]
# What each document discloses, by information category.
DOCUMENT_INFO = {
    "attendance_letter": (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
    "enrolment_letter": (InfoCategory.ENROLMENT,),
}
SUMMARY_INFO = [
    (InfoCategory.ENROLMENT, InfoCategory.ENROLMENT.label),
    (InfoCategory.ATTENDANCE, InfoCategory.ATTENDANCE.label),
    (InfoCategory.SCREENING, InfoCategory.SCREENING.label),
    (InfoCategory.DIAGNOSIS, InfoCategory.DIAGNOSIS.label),
]


class ReleaseForm(forms.Form):
    """What goes out, to whom and why. The recipient is picked from the consents on file
    or typed; the gate decides either way."""

    document = forms.ChoiceField(choices=DOCUMENTS, widget=forms.RadioSelect)
    summary_information = forms.MultipleChoiceField(
        label="For a summary: what goes in",
        choices=SUMMARY_INFO,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.TypedChoiceField(
        label="Recipient named in a consent",
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    recipient_kind = forms.ChoiceField(
        label="Or: kind of recipient", choices=[("", "—"), *RecipientKind.choices], required=False
    )
    recipient_name = forms.CharField(label="Recipient's name", max_length=200, required=False)
    recipient_address = forms.CharField(label="Address", max_length=300, required=False)
    purpose = forms.ChoiceField(choices=[("", "—"), *Purpose.choices])
    purpose_detail = forms.CharField(label="Purpose, described", max_length=300, required=False)
    period_start = forms.DateField(
        label="Attendance from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label="Attendance to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, consents: list[Any], today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.consents = {c.pk: c for c in consents}
        self.today = today
        consent_field = self.fields["consent"]
        assert isinstance(consent_field, forms.TypedChoiceField)  # noqa: S101
        consent_field.choices = [("", "Another recipient (type below)")] + [
            (c.pk, f"{c.recipient_name} — {c.get_recipient_kind_display()}") for c in consents
        ]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        consent_pk = data.get("consent")
        if consent_pk is not None:
            consent = self.consents.get(consent_pk)
            if consent is None:
                self.add_error("consent", "Choose one of the consents listed.")
            else:
                data["recipient_kind"] = consent.recipient_kind
                data["recipient_name"] = consent.recipient_name
                data["recipient_address"] = data.get("recipient_address") or (
                    consent.recipient_address
                )
                data["contact_id"] = consent.contact_id
        else:
            if not data.get("recipient_kind"):
                self.add_error("recipient_kind", "Choose the kind of recipient.")
            if not (data.get("recipient_name") or "").strip():
                self.add_error("recipient_name", "Name the recipient.")
            data["contact_id"] = None
        if data.get("purpose") == Purpose.OTHER and not (data.get("purpose_detail") or "").strip():
            self.add_error("purpose_detail", "Describe the purpose.")
        doc = data.get("document")
        if doc == "record_summary":
            if not data.get("summary_information"):
                self.add_error("summary_information", "Choose what goes in the summary.")
            data["information"] = tuple(data.get("summary_information") or ())
        elif doc:
            data["information"] = DOCUMENT_INFO[doc]
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and start > end:
            self.add_error("period_end", "The period ends before it starts.")
        if end and end > self.today:
            self.add_error("period_end", "The period cannot end in the future.")
        if start and (end or self.today) - start > dt.timedelta(days=3 * 366):
            self.add_error("period_start", "Choose a period of at most three years.")
        data["channel"] = Channel.LETTER if doc != "record_summary" else Channel.PRINTED
        return data


class AccountingForm(forms.Form):
    """§2.25: the previous three years, or a shorter period the participant chooses."""

    since = forms.DateField(
        label="Disclosures since", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
