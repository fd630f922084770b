"""Forms of a participant's coverage and authorisations. The rules live in
`coverage_services` (the forms report them beside the fields). Django's CharField refuses
NUL characters with a form error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms

from . import coverage_services as services
from .choices import CoverageKind, Priority, Relationship, ServiceCode, Sex
from .models import Authorisation, Coverage

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
VERSION = {"widget": forms.HiddenInput, "min_value": 0, "max_value": 2**31 - 1}
MAX_INCOME = 99_999_999


def _day_in_range(day: dt.date) -> None:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise forms.ValidationError(
            f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
        )


def _date(label: str | None = None, *, required: bool = True, help_text: str = "") -> Any:
    return forms.DateField(
        label=label,
        required=required,
        widget=DATE,
        validators=[_day_in_range],
        help_text=help_text,
    )


class PayerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.payer_id})"


class CoverageForm(forms.Form):
    version = forms.IntegerField(required=False, **VERSION)  # type: ignore[arg-type]
    kind = forms.ChoiceField(choices=CoverageKind.choices, initial=CoverageKind.INSURANCE)
    payer = PayerChoice(queryset=None, required=False, help_text="For insurance.")
    priority = forms.TypedChoiceField(
        choices=Priority.choices, coerce=int, initial=Priority.PRIMARY
    )
    member_id = forms.CharField(label="Member id", max_length=30, required=False)
    group_number = forms.CharField(max_length=30, required=False)
    plan_name = forms.CharField(max_length=60, required=False)
    relationship = forms.ChoiceField(
        label="Participant is the subscriber's",
        choices=Relationship.choices,
        initial=Relationship.SELF,
        help_text="When not Self, give the subscriber below.",
    )
    subscriber_first_name = forms.CharField(max_length=35, required=False)
    subscriber_last_name = forms.CharField(max_length=60, required=False)
    subscriber_date_of_birth = _date("Subscriber's date of birth", required=False)
    subscriber_sex = forms.ChoiceField(
        label="Subscriber's sex", choices=[("", "—"), *Sex.choices], required=False
    )
    patient_sex = forms.ChoiceField(
        label="Participant's sex on the plan's record", choices=Sex.choices, initial=Sex.UNKNOWN
    )
    start_date = _date("Starts")
    end_date = _date("Ends", required=False, help_text="Blank while it runs.")
    verified = forms.BooleanField(
        label="Benefits verified with the payer",
        required=False,
        help_text="Records who verified them and when.",
    )
    household_size = forms.IntegerField(
        label="People in the household",
        required=False,
        min_value=1,
        max_value=20,
        help_text="For self-pay: the sliding fee.",
    )
    annual_income = forms.IntegerField(
        label="Household income a year ($)", required=False, min_value=0, max_value=MAX_INCOME
    )
    full_fee = forms.BooleanField(
        label="Household not assessed: the full charge applies", required=False
    )

    def __init__(
        self,
        *args: Any,
        payers: Any,
        others: list[Coverage],
        today: dt.date,
        keep_payer_id: int | None = None,
        editing: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["payer"]).queryset = payers
        self.others = others
        self.today = today
        self.keep_payer_id = keep_payer_id
        if editing:
            self.fields["version"].required = True

    def clean_member_id(self) -> str:
        return self.cleaned_data["member_id"].strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        income = data.get("annual_income")
        values = {
            **self.values(),
            "annual_income": Decimal(income) if income is not None else None,
        }
        problems = services.coverage_problems(
            values,
            others=self.others,
            full_fee=bool(data.get("full_fee")),
            today=self.today,
            keep_payer_id=self.keep_payer_id,
        )
        for name, problem in problems.items():
            self.add_error(name, problem)
        return data

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {name: data.get(name) for name in services.COVERAGE_FIELDS}
        income = out.get("annual_income")
        if income is not None:
            out["annual_income"] = Decimal(income)
        return out


class VoidForm(forms.Form):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
    reason = forms.CharField(label="Why is it voided?", max_length=500)

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why.")
        return reason


class CoverageChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        end = f" to {obj.end_date:%Y-%m-%d}" if obj.end_date else ""
        when = f"from {obj.start_date:%Y-%m-%d}{end}"
        return f"{obj.payer} {obj.member_id} ({obj.get_priority_display()}, {when})"


class AuthorisationForm(forms.Form):
    version = forms.IntegerField(required=False, **VERSION)  # type: ignore[arg-type]
    coverage = CoverageChoice(queryset=None, empty_label=None, label="Insurance")
    service_code = forms.ChoiceField(label="Service", choices=ServiceCode.choices)
    units = forms.IntegerField(
        label="Units (days) authorised", min_value=1, max_value=services.MAX_UNITS
    )
    start_date = _date("From")
    end_date = _date("To")
    reference_number = forms.CharField(label="Authorisation number", max_length=50)
    next_review_on = _date("Next concurrent review", required=False)
    reviewer = forms.CharField(label="Payer's reviewer", max_length=120, required=False)
    notes = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self, *args: Any, coverages: Any, used: int = 0, editing: bool = False, **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["coverage"]).queryset = coverages
        self.used = used
        self.editing = editing
        if editing:
            self.fields["version"].required = True

    def clean_reference_number(self) -> str:
        value = self.cleaned_data["reference_number"].strip()
        if not value:
            raise forms.ValidationError("Give the payer's authorisation number.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        problems = services.authorisation_problems(
            self.values(), used=self.used, editing=self.editing
        )
        for name, problem in problems.items():
            self.add_error(name, problem)
        return data

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in services.AUTHORISATION_FIELDS}


def authorisation_initial(auth: Authorisation) -> dict[str, Any]:
    return {
        "version": auth.version,
        **{name: getattr(auth, name) for name in services.AUTHORISATION_FIELDS},
        "coverage": auth.coverage_id,
    }


def coverage_initial(coverage: Coverage) -> dict[str, Any]:
    initial = {name: getattr(coverage, name) for name in services.COVERAGE_FIELDS}
    initial["payer"] = coverage.payer_id
    initial["version"] = coverage.version
    initial["verified"] = coverage.verified_on is not None
    if coverage.annual_income is not None:
        initial["annual_income"] = int(coverage.annual_income)
    initial["full_fee"] = coverage.kind == CoverageKind.SELF_PAY and coverage.household_size is None
    return initial
