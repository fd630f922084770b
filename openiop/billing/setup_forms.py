"""Forms of billing set-up: payers, the program's billing profile and its sliding fee.

Text fields are Django CharFields, which refuse NUL characters (PostgreSQL cannot store
them) with a form error; the identifiers a claim carries are checked here beside their
fields (NPI check digit, EIN, ZIP+4, state)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from .choices import PayerKind, TelehealthModifier
from .models import BillingProfile, Payer, SlidingFeeTier

# A stamp of the row as the form was opened (Payer is reference data, without a version):
# its updated_at in microseconds. A save by someone else moves it on.
STAMP = {"widget": forms.HiddenInput, "min_value": 0, "max_value": 2**63 - 1}
VERSION = {"widget": forms.HiddenInput, "min_value": 0, "max_value": 2**31 - 1}

# The largest household a sliding-fee assessment takes, and the largest income.
MAX_HOUSEHOLD = 20
MAX_INCOME = Decimal("99999999.99")
# A sliding-fee tier's limit (% of the poverty guideline) and the largest fee a day.
MAX_PERCENT = 1000
MAX_FEE = Decimal("9999.99")


def bound(field: Any, low: Any, high: Any) -> None:
    """Limit a number field made from a model field (the limits a form field takes as
    arguments become validators only when given to its constructor)."""
    field.min_value, field.max_value = low, high
    field.validators.extend([MinValueValidator(low), MaxValueValidator(high)])
    field.widget.attrs.update({"min": str(low), "max": str(high)})


def stamp_of(row: Any) -> int:
    return int(row.updated_at.timestamp() * 1_000_000)


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit (CMS, "Requirements for the NPI check digit"): the Luhn
    formula over the nine-digit identifier prefixed with 80840 (the card issuer
    prefix of health applications in the US), whose check digit is the tenth digit.
    1234567893 is CMS's worked example of a valid NPI."""
    if not re.fullmatch(r"[0-9]{10}", npi or ""):
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    # Luhn: from the rightmost digit of the payload, every other digit doubled.
    for i, digit in enumerate(reversed(digits)):
        if i % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    check = (10 - total % 10) % 10
    return check == int(npi[9])


def _digits(value: str, count: int, what: str, *, allowed: str = r"[\s\-().]") -> str:
    cleaned = re.sub(allowed, "", value or "")
    if not re.fullmatch(rf"[0-9]{{{count}}}", cleaned):
        raise forms.ValidationError(f"{what}: {count} digits.")
    return cleaned


def clean_state(value: str, *, required: bool = True) -> str:
    state = (value or "").strip().upper()
    if not state and not required:
        return ""
    if not re.fullmatch(r"[A-Z]{2}", state):
        raise forms.ValidationError("Two letters, e.g. ME.")
    return state


class PayerForm(forms.ModelForm):
    program: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, empty_label=None)
    stamp = forms.IntegerField(required=False, **STAMP)  # type: ignore[arg-type]
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)

    class Meta:
        model = Payer
        fields = [
            "name",
            "payer_id",
            "kind",
            "address_line",
            "city",
            "state",
            "postal_code",
            "phone",
            "units_per_day",
            "telehealth_modifier",
            "covers_telehealth",
            "requires_authorisation",
            "timely_filing_days",
        ]

    def __init__(self, *args: Any, programs: Any, editing: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        program = cast(forms.ModelChoiceField, self.fields["program"])
        program.queryset = programs
        self.editing = editing
        if editing:
            # A payer stays with its program; the stamp is needed to save.
            del self.fields["program"]
            self.fields["stamp"].required = True
        else:
            del self.fields["stamp"]
        cast(forms.ChoiceField, self.fields["kind"]).choices = PayerKind.choices
        cast(
            forms.ChoiceField, self.fields["telehealth_modifier"]
        ).choices = TelehealthModifier.choices

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the payer's name.")
        return name

    def clean_payer_id(self) -> str:
        value = self.cleaned_data["payer_id"].strip().upper()
        if not re.fullmatch(r"[A-Z0-9]{2,20}", value):
            raise forms.ValidationError("Letters and digits only, as the clearinghouse lists it.")
        return value

    def clean_state(self) -> str:
        return clean_state(self.cleaned_data.get("state", ""), required=False)

    def clean_postal_code(self) -> str:
        value = re.sub(r"[\s\-]", "", self.cleaned_data.get("postal_code") or "")
        if value and not re.fullmatch(r"[0-9]{5}|[0-9]{9}", value):
            raise forms.ValidationError("A ZIP code: 5 or 9 digits.")
        return value

    def clean_phone(self) -> str:
        value = (self.cleaned_data.get("phone") or "").strip()
        if value and not re.fullmatch(r"[0-9\s\-().+x]{7,20}", value):
            raise forms.ValidationError("A phone number, e.g. 800-555-0100.")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        program = data.get("program") if not self.editing else self.instance.program
        name = data.get("name")
        if program is not None and name:
            clash = Payer.objects.filter(program=program, name__iexact=name)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("name", "The program already has a payer of that name.")
        return data

    def validate_unique(self) -> None:
        # The program is not a model field of the form; clean() checks the name.
        return None


class RetireForm(forms.Form):
    stamp = forms.IntegerField(**STAMP)  # type: ignore[arg-type]


class ProfileForm(forms.ModelForm):
    version = forms.IntegerField(**VERSION)  # type: ignore[arg-type]
    # Typed with the usual punctuation (12-3456789, 04101-1234, (207) 555-0100); stored
    # as digits.
    npi = forms.CharField(
        label="NPI", max_length=12, help_text="Ten digits; the last is a check digit."
    )
    tax_id = forms.CharField(label="EIN", max_length=12, help_text="Nine digits.")
    postal_code = forms.CharField(
        label="ZIP+4",
        max_length=12,
        help_text="Nine digits: a billing provider's ZIP code needs its +4 on an 837P.",
    )
    phone = forms.CharField(max_length=20, help_text="Ten digits.")

    class Meta:
        model = BillingProfile
        fields = [
            "billing_name",
            "npi",
            "tax_id",
            "taxonomy_code",
            "address_line",
            "city",
            "state",
            "postal_code",
            "phone",
            "contact_name",
            "submitter_id",
            "receiver_id",
            "receiver_name",
            "production",
            "service_code",
            "place_of_service",
            "telehealth_at_home",
            "billable_minimum_minutes",
            "daily_charge",
            "alert_remaining_days",
            "alert_end_days",
            "poverty_base",
            "poverty_per_person",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        bound(self.fields["billable_minimum_minutes"], 15, 720)
        bound(self.fields["daily_charge"], Decimal("0.01"), MAX_FEE)
        for name in ("poverty_base", "poverty_per_person"):
            bound(self.fields[name], 1, 1_000_000)

    def clean_npi(self) -> str:
        npi = _digits(self.cleaned_data["npi"], 10, "The NPI")
        if not npi_is_valid(npi):
            raise forms.ValidationError("This is not a valid NPI: its check digit is wrong.")
        return npi

    def clean_tax_id(self) -> str:
        return _digits(self.cleaned_data["tax_id"], 9, "The EIN")

    def clean_postal_code(self) -> str:
        return _digits(self.cleaned_data["postal_code"], 9, "The ZIP+4 (ZIP code and its +4)")

    def clean_phone(self) -> str:
        return _digits(self.cleaned_data["phone"], 10, "The phone number")

    def clean_state(self) -> str:
        return clean_state(self.cleaned_data["state"])

    def clean_taxonomy_code(self) -> str:
        value = self.cleaned_data["taxonomy_code"].strip().upper()
        if not re.fullmatch(r"[0-9]{3}[0-9A-Z]{6}X", value):
            raise forms.ValidationError(
                "A provider taxonomy code: ten characters, e.g. 261QR0405X."
            )
        return value

    def _identifier(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        if not re.fullmatch(r"[A-Za-z0-9 ]+", value):
            raise forms.ValidationError("Letters, digits and spaces only.")
        return value

    def clean_submitter_id(self) -> str:
        return self._identifier("submitter_id")

    def clean_receiver_id(self) -> str:
        return self._identifier("receiver_id")

    def _text(self, name: str) -> str:
        value = self.cleaned_data[name].strip()
        if not value:
            raise forms.ValidationError("This field is required.")
        # A claim file separates its elements with * ~ : and ^: they cannot be in a name.
        if re.search(r"[*~:^|]", value):
            raise forms.ValidationError("A claim file cannot carry * ~ : ^ or |.")
        return value

    def clean_billing_name(self) -> str:
        return self._text("billing_name")

    def clean_address_line(self) -> str:
        return self._text("address_line")

    def clean_city(self) -> str:
        return self._text("city")

    def clean_contact_name(self) -> str:
        return self._text("contact_name")

    def clean_receiver_name(self) -> str:
        return self._text("receiver_name")


class TierForm(forms.ModelForm):
    class Meta:
        model = SlidingFeeTier
        fields = ["up_to_percent", "fee_per_day"]
        labels = {
            "up_to_percent": "Up to (% of the poverty guideline)",
            "fee_per_day": "Fee per program day ($)",
        }

    def __init__(self, *args: Any, tiers: list[SlidingFeeTier], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        bound(self.fields["up_to_percent"], 1, MAX_PERCENT)
        bound(self.fields["fee_per_day"], Decimal("0"), MAX_FEE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "up_to_percent" in self.errors:
            return data
        limit = data.get("up_to_percent")
        same = [t for t in self.tiers if t.up_to_percent == limit]
        if same:
            if limit is None:
                self.add_error(
                    "up_to_percent",
                    f"The program already has a tier for every other income ({same[0]}): "
                    "retire it first.",
                )
            else:
                self.add_error(
                    "up_to_percent", f"A tier up to {limit}% exists ({same[0]}): retire it first."
                )
            return data
        fee = data.get("fee_per_day")
        if fee is None:
            return data
        # Tiers are monotone: a household with less income never pays more.
        problem = tier_order_problem(self.tiers, limit, fee)
        if problem:
            self.add_error("fee_per_day", problem)
        return data


def tier_order_problem(tiers: list[Any], limit: int | None, fee: Decimal) -> str:
    """Why a tier (limit, fee) would let a lower income pay more than a higher one; ""."""

    def rank(percent: int | None) -> float:
        return float("inf") if percent is None else percent

    for tier in tiers:
        if rank(tier.up_to_percent) < rank(limit) and Decimal(tier.fee_per_day) > fee:
            return (
                f"Lower incomes pay ${tier.fee_per_day} ({tier}): a higher tier cannot cost less."
            )
        if rank(tier.up_to_percent) > rank(limit) and Decimal(tier.fee_per_day) < fee:
            return (
                f"Higher incomes pay ${tier.fee_per_day} ({tier}): a lower tier cannot cost more."
            )
    return ""


class TierRetireForm(forms.Form):
    tier = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class CalculatorForm(forms.Form):
    household_size = forms.IntegerField(
        label="People in the household", min_value=1, max_value=MAX_HOUSEHOLD
    )
    annual_income = forms.DecimalField(
        label="Household income a year ($)",
        min_value=Decimal("0"),
        max_value=MAX_INCOME,
        decimal_places=2,
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "calc_%s")
        super().__init__(*args, **kwargs)
