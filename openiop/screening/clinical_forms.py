"""Forms of the clinical screening pages: the review, expected medications, the policy
and the statistics' date range."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms

from openiop.core.forms import MAX_ID, ModelMultipleIdsField

from .choices import ReviewOutcome, ReviewReason
from .models import Analyte, Panel, ScreeningPolicy

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Dates further back or ahead than this are typing mistakes.
EARLIEST_YEARS = 50
LATEST_DAYS = 366
# The statistics cover at most two years at a time.
MAX_RANGE_DAYS = 731

# Which conclusions fit which reason (a refusal cannot be "expected medication"; only a
# positive is sent for definitive confirmation, DOMAIN.md §5.3).
OUTCOMES_FOR = {
    ReviewReason.UNEXPECTED_POSITIVE: [
        ReviewOutcome.USE,
        ReviewOutcome.EXPECTED,
        ReviewOutcome.INVALID,
        ReviewOutcome.DISPUTED,
    ],
    ReviewReason.REFUSAL: [ReviewOutcome.USE, ReviewOutcome.NOTED],
    ReviewReason.NO_SHOW: [ReviewOutcome.USE, ReviewOutcome.NOTED],
    ReviewReason.INVALID_SPECIMEN: [ReviewOutcome.USE, ReviewOutcome.INVALID, ReviewOutcome.NOTED],
}


def _check_day(day: dt.date | None, today: dt.date, what: str) -> None:
    if day is None:
        return
    if day < today - dt.timedelta(days=365 * EARLIEST_YEARS):
        raise forms.ValidationError(f"The {what} is too far in the past.")
    if day > today + dt.timedelta(days=LATEST_DAYS):
        raise forms.ValidationError(f"The {what} is more than a year ahead.")


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What the review concluded", choices=ReviewOutcome.choices, widget=forms.RadioSelect
    )
    plan_change = forms.CharField(
        label="What changed in the plan",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Say what changed, or why nothing did (“no change: discussed in session”).",
    )
    version = forms.IntegerField(min_value=0, max_value=MAX_ID, widget=forms.HiddenInput)

    def __init__(self, *args: Any, reason: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        allowed = OUTCOMES_FOR.get(ReviewReason(reason), list(ReviewOutcome))
        self.fields["outcome"].choices = [(o.value, o.label) for o in allowed]  # type: ignore[attr-defined]


class MedicationForm(forms.Form):
    name = forms.CharField(label="Medication", max_length=120)
    analytes = ModelMultipleIdsField(
        label="Shows up on a test as",
        queryset=Analyte.objects.filter(retired=False).order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text="A positive for one of these, while the medication is taken, is expected.",
    )
    start_date = forms.DateField(label="Taken since", widget=DATE)
    end_date = forms.DateField(
        label="Until", required=False, widget=DATE, help_text="Empty while ongoing."
    )
    prescriber = forms.CharField(max_length=120, required=False)
    note = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_start_date(self) -> dt.date:
        day = self.cleaned_data["start_date"]
        _check_day(day, self.today, "start date")
        return day

    def clean_end_date(self) -> dt.date | None:
        day = self.cleaned_data.get("end_date")
        _check_day(day, self.today, "end date")
        return day


class EndMedicationForm(forms.Form):
    end_date = forms.DateField(label="Last day taken", widget=DATE)
    version = forms.IntegerField(min_value=0, max_value=MAX_ID, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_end_date(self) -> dt.date:
        day = self.cleaned_data["end_date"]
        _check_day(day, self.today, "end date")
        return day


WEEKDAYS = [
    ("", "No weekly scheduled test"),
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class PolicyForm(forms.ModelForm):
    """Every setting of the program's screening policy (issue 7, point 2)."""

    scheduled_weekday = forms.TypedChoiceField(
        label="Scheduled test every week on",
        choices=WEEKDAYS,
        coerce=int,
        empty_value=None,
        required=False,
    )
    price_per_test = forms.DecimalField(
        label="Price per test",
        max_digits=8,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("5000"),
        help_text="For the cost estimate.",
    )

    class Meta:
        model = ScreeningPolicy
        fields = [
            "random_rate",
            "draw_days_per_week",
            "random_panel",
            "test_at_admission",
            "scheduled_weekday",
            "scheduled_every_days",
            "minimum_per_week",
            "handling",
            "refusal_counts_as",
            "no_show_counts_as",
            "dilute_counts_as",
            "adulterated_counts_as",
            "price_per_test",
        ]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        panel = self.fields["random_panel"]
        panel.queryset = Panel.objects.filter(retired=False).order_by("name")  # type: ignore[attr-defined]
        panel.label = "Panel for random and scheduled tests"
        panel.required = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rate, days = data.get("random_rate"), data.get("draw_days_per_week")
        if rate is not None and days and rate > days:
            self.add_error(
                "random_rate",
                f"A draw picks a participant at most once a program day: at most {days} a week.",
            )
        return data


class RangeForm(forms.Form):
    """The statistics' date range (GET)."""

    first = forms.DateField(label="From")
    last = forms.DateField(label="To")

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first is None or last is None:
            return data
        if last < first:
            raise forms.ValidationError("The end of the range is before its start.")
        if (last - first).days > MAX_RANGE_DAYS:
            raise forms.ValidationError("Choose a range of two years at most.")
        if first < self.today - dt.timedelta(days=365 * EARLIEST_YEARS):
            raise forms.ValidationError("The range starts too far in the past.")
        if first > self.today + dt.timedelta(days=LATEST_DAYS):
            raise forms.ValidationError("The range starts more than a year ahead.")
        return data
