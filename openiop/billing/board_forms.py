"""Filters of the billing board's pages (days of service, days at risk): GET forms whose
bad input answers 400 with the form's errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from .choices import Risk

DATE = forms.DateInput(attrs={"type": "date"})
EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
# A period longer than this is refused: the pages derive every day of it on request.
MAX_PERIOD_DAYS = 366

SHOW_CHOICES = [
    ("all", "Every day"),
    ("not_billable", "Only days not billable"),
    ("at_risk", "Only days at risk"),
]


class PeriodForm(forms.Form):
    start = forms.DateField(label="From", widget=DATE)
    end = forms.DateField(label="To", widget=DATE)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        for name, day in (("start", start), ("end", end)):
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                self.add_error(
                    name, f"Enter a date between {EARLIEST_DAY.year} and {LATEST_DAY.year}."
                )
                return data
        if start and end:
            if end < start:
                self.add_error("end", "The end of the period is before its start.")
            elif (end - start).days >= MAX_PERIOD_DAYS:
                self.add_error("end", f"Choose a period of at most {MAX_PERIOD_DAYS} days.")
        return data


class DaysFilterForm(PeriodForm):
    show = forms.ChoiceField(label="Show", choices=SHOW_CHOICES, required=False)


class RiskFilterForm(PeriodForm):
    reason = forms.ChoiceField(
        label="Reason", choices=[("", "Every reason"), *Risk.choices], required=False
    )
