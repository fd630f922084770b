"""The TEDS export's period: from and to (program days, both included)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.core.forms import AUDIT_FIRST_DAY, AUDIT_LAST_DAY

# A state asks for a month or a quarter; two years covers a late catch-up.
LONGEST_DAYS = 2 * 366


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before `today`'s: the default period."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


class PeriodForm(forms.Form):
    date_from = forms.DateField(label="From")
    date_to = forms.DateField(label="To")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        for name, day in (("date_from", start), ("date_to", end)):
            if day is not None and not AUDIT_FIRST_DAY <= day <= AUDIT_LAST_DAY:
                self.add_error(name, "Choose a date between 1970 and 2999.")
        if self.errors or start is None or end is None:
            return cleaned
        if end < start:
            self.add_error("date_to", "The period ends before it starts.")
        elif (end - start).days > LONGEST_DAYS:
            self.add_error("date_to", "Choose a period of at most two years.")
        return cleaned


def period_form(data: Any, today: dt.date) -> PeriodForm:
    """Bound to the query string when it names a period, else to last month."""
    if data and ("date_from" in data or "date_to" in data):
        return PeriodForm(data)
    start, end = last_month(today)
    return PeriodForm({"date_from": start.isoformat(), "date_to": end.isoformat()})
