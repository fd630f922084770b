"""Forms of the attendance letters. The portal's and the verification page's labels and
messages are translated; the staff forms are in English."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from openiop.privacy.choices import InfoCategory

from .choices import GATE_TERMS, LetterRecipient, letter_kind_of
from .services import ADDRESS_LENGTH, NAME_LENGTH, NOTE_LENGTH, period_problems

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _PeriodForm(forms.Form):
    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            for problem in period_problems(start, end, self.today):
                self.add_error("period_end", problem)
        return data


class LetterRequestForm(_PeriodForm):
    """The participant's request, in the portal."""

    recipient_kind = forms.ChoiceField(
        label=_("Who is the letter for?"),
        choices=LetterRecipient.choices,
        widget=forms.RadioSelect,
    )
    recipient_name = forms.CharField(
        label=_("Name of the person or organisation"),
        max_length=NAME_LENGTH,
        help_text=_("As in the consent you signed for them, e.g. “Acme Logistics”."),
    )
    recipient_address = forms.CharField(
        label=_("Their address (optional)"),
        max_length=ADDRESS_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    period_start = forms.DateField(label=_("Attendance from"), widget=DATE)
    period_end = forms.DateField(label=_("Attendance until"), widget=DATE)
    note = forms.CharField(
        label=_("A note for your counsellor (optional)"),
        max_length=NOTE_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WithdrawForm(forms.Form):
    action = forms.ChoiceField(choices=[("withdraw", _("Withdraw this request"))])


class VerifyForm(forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        help_text=_("Printed on the letter, e.g. 7KQ2-M9XD-4HTC."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "data-verify-code": "",
            }
        ),
    )


# --- staff ----------------------------------------------------------------------------------

# Consents that may name a letter's recipient: to an employer, a court or probation, or
# someone else, covering both kinds of information a letter carries.
LETTER_RECIPIENT_KINDS = {kind for kind, _purpose in GATE_TERMS.values()}
LETTER_INFORMATION = {InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE}


def letter_consents(consents: list[Any]) -> list[Any]:
    return [
        c
        for c in consents
        if c.recipient_kind in LETTER_RECIPIENT_KINDS and set(c.information) >= LETTER_INFORMATION
    ]


class StaffLetterForm(_PeriodForm):
    """Producing a letter (from a request, or from the chart). The recipient is picked from
    the consents in force or typed; the gate decides either way."""

    consent = forms.TypedChoiceField(
        label="Recipient named in a consent in force",
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    recipient_kind = forms.ChoiceField(
        label="Kind of recipient",
        choices=[
            ("", "—"),
            (LetterRecipient.EMPLOYER, "Employer (purpose: employment)"),
            (LetterRecipient.LEGAL, "Court, probation or parole (purpose: legal requirement)"),
            (LetterRecipient.OTHER, "Someone else (purpose: at the participant's request)"),
        ],
        required=False,
    )
    recipient_name = forms.CharField(
        label="Recipient's name", max_length=NAME_LENGTH, required=False
    )
    recipient_address = forms.CharField(
        label="Recipient's address", max_length=ADDRESS_LENGTH, required=False
    )
    period_start = forms.DateField(label="Attendance from", widget=DATE)
    period_end = forms.DateField(label="Attendance to", widget=DATE)

    def __init__(self, *args: Any, consents: list[Any], today: dt.date, **kwargs: Any):
        super().__init__(*args, today=today, **kwargs)
        self.consents = {c.pk: c for c in letter_consents(consents)}
        field = self.fields["consent"]
        assert isinstance(field, forms.TypedChoiceField)  # noqa: S101
        field.choices = [("", "Another recipient (type below)")] + [
            (c.pk, f"{c.recipient_name} — {c.get_recipient_kind_display()}")
            for c in self.consents.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        consent_pk = data.get("consent")
        if consent_pk is not None:
            consent = self.consents.get(consent_pk)
            if consent is None:
                self.add_error("consent", "Choose one of the consents listed.")
            else:
                data["recipient_kind"] = letter_kind_of(consent.recipient_kind)
                data["recipient_name"] = consent.recipient_name
                data["recipient_address"] = (
                    data.get("recipient_address") or consent.recipient_address
                )
        else:
            if not data.get("recipient_kind"):
                self.add_error("recipient_kind", "Choose the kind of recipient.")
            if not (data.get("recipient_name") or "").strip():
                self.add_error("recipient_name", "Name the recipient.")
        return data


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Why the request is declined",
        max_length=NOTE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The participant sees this in the portal.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the request is declined.")
        return reason
