"""Forms of the claim pages. The state rules live in `claims` (the views report them);
the forms check the input: dates in range, amounts in cents, a reason where one is due.
Django's text fields refuse NUL characters (which PostgreSQL cannot store) as a form
error, like every other form of the project."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms

from openiop.core.forms import ModelMultipleIdsField

from .choices import ClaimStatus, DenialReason
from .claims import REASON_LENGTH
from .models import Claim, Payer

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
# A claim period longer than a year is a typing error (payers want monthly claims).
LONGEST_PERIOD_DAYS = 366
VERSION_MAX = 2**31
VOIDED = "voided"


def _in_range(day: dt.date | None) -> None:
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
        )


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def payers_for(user: Any) -> Any:
    return (
        Payer.objects.filter(program_id__in=user.program_ids, retired=False)
        .select_related("program")
        .order_by("name", "pk")
    )


class PayerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.payer_id})"


class ClaimFilterForm(forms.Form):
    """The claims list's filters (GET)."""

    status = forms.ChoiceField(required=False)
    payer = PayerChoice(queryset=Payer.objects.none(), required=False, empty_label="Any payer")
    start = forms.DateField(
        label="Service from", required=False, widget=DATE, validators=[_in_range]
    )
    end = forms.DateField(label="Service to", required=False, widget=DATE, validators=[_in_range])
    # A claim number, not a name: what identifies a person never goes in a URL (a
    # participant's claims are on their billing page).
    number = forms.CharField(label="Claim number", required=False, max_length=20)

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = [("", "Any status"), *ClaimStatus.choices, (VOIDED, "Voided")]
        cast(forms.ModelChoiceField, self.fields["payer"]).queryset = Payer.objects.filter(
            program_id__in=user.program_ids
        ).order_by("name", "pk")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", "“Service to” is before “Service from”.")
        return data


class PeriodForm(forms.Form):
    """The build page: a payer and a period of service."""

    payer = PayerChoice(queryset=Payer.objects.none(), empty_label=None)
    start = forms.DateField(label="First day", widget=DATE, validators=[_in_range])
    end = forms.DateField(label="Last day", widget=DATE, validators=[_in_range])

    def __init__(self, *args: Any, user: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today
        cast(forms.ModelChoiceField, self.fields["payer"]).queryset = payers_for(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day is before the first.")
            elif (end - start).days >= LONGEST_PERIOD_DAYS:
                self.add_error("end", "Claim at most a year at a time.")
            elif end > self.today:
                self.add_error("end", "Claims are for days that have happened: end by today.")
        return data


class SubmitForm(forms.Form):
    """Claims chosen on the list (or the submit page) to send as one file."""

    claims = ModelMultipleIdsField(
        queryset=Claim.objects.none(),
        label="Claims to submit",
        error_messages={"required": "Choose at least one claim to submit."},
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.drafts = (
            Claim.objects.filter(
                program_id__in=user.program_ids, voided=False, status=ClaimStatus.DRAFT
            )
            .select_related("participant", "payer")
            .order_by("payer__name", "number")
        )
        field = cast(forms.ModelMultipleChoiceField, self.fields["claims"])
        field.queryset = self.drafts
        field.widget = forms.CheckboxSelectMultiple()

    def clean_claims(self) -> Any:
        chosen = self.cleaned_data["claims"]
        if len({c.payer_id for c in chosen}) > 1:
            raise forms.ValidationError(
                "Claims go out in one file per payer: choose claims of one payer."
            )
        return chosen


class VersionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=VERSION_MAX)

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "id_submit_%s")
        super().__init__(*args, **kwargs)


class PaidForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=VERSION_MAX)
    amount = forms.DecimalField(
        label="Amount paid ($)",
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
    )
    paid_on = forms.DateField(label="Paid on", widget=DATE, validators=[_in_range])
    payer_claim_number = forms.CharField(
        label="Payer's claim number", max_length=50, required=False, help_text="From the ERA."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "id_paid_%s")
        super().__init__(*args, **kwargs)


class DeniedForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=VERSION_MAX)
    code = forms.ChoiceField(label="Reason code (CARC)", choices=DenialReason.choices)
    reason = forms.CharField(
        label="What the payer said",
        max_length=REASON_LENGTH,
        required=False,
        help_text="Needed when the code is “Other”.",
    )
    denied_on = forms.DateField(label="Denied on", widget=DATE, validators=[_in_range])

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "id_denied_%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        reason = (data.get("reason") or "").strip()
        data["reason"] = reason
        if data.get("code") == DenialReason.OTHER and not reason and "reason" not in self.errors:
            self.add_error("reason", "Say why the payer denied it when the code is “Other”.")
        return data


class VoidForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=VERSION_MAX)
    reason = forms.CharField(
        label="Why void it", max_length=REASON_LENGTH, help_text="E.g. “Built in error”."
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "id_void_%s")
        super().__init__(*args, **kwargs)
