"""The dashboard's filters (GET): program, date range, track and referral source."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from openiop.participants.choices import ReferralSource
from openiop.programs.models import Program, Track

# Bad input gives a form error, never a 500 (acceptance 6): ten years at most, nothing
# before 1900 and nothing more than a year ahead (date arithmetic stays far from year 9999).
MAX_YEARS = 10
EARLIEST = dt.date(1900, 1, 1)
LATEST_DAYS = 366


def default_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months up to today: the same day a year ago (28 Feb for 29 Feb)."""
    try:
        first = today.replace(year=today.year - 1)
    except ValueError:
        first = today.replace(year=today.year - 1, day=28)
    return first + dt.timedelta(days=1), today


class OutcomesFilterForm(forms.Form):
    date_from = forms.DateField(label="From", required=False)
    date_to = forms.DateField(label="To", required=False)
    track = forms.ChoiceField(label="Track", required=False)
    source = forms.ChoiceField(
        label="Referral source",
        required=False,
        choices=[("", "All referral sources"), *ReferralSource.choices],
    )

    def __init__(
        self, *args: Any, program: Program, tracks: list[Track], today: dt.date, **kw: Any
    ):
        super().__init__(*args, **kw)
        self.program = program
        self.today = today
        self.tracks = tracks
        # A track of another program is "not one of the available choices".
        self.fields["track"].choices = [("", "All tracks"), *((str(t.pk), t.name) for t in tracks)]  # type: ignore[attr-defined]

    def clean_track(self) -> Track | None:
        value = self.cleaned_data.get("track")
        return next((t for t in self.tracks if str(t.pk) == value), None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        first, last = default_range(self.today)
        first = data.get("date_from") or first
        last = data.get("date_to") or last
        if "date_from" in self.errors or "date_to" in self.errors:
            return data
        if first > last:
            raise forms.ValidationError("“From” is after “To”: choose a start before the end.")
        if first < EARLIEST:
            raise forms.ValidationError(
                "The range starts too far in the past (1900 at the earliest)."
            )
        if last > self.today + dt.timedelta(days=LATEST_DAYS):
            raise forms.ValidationError("The range ends more than a year ahead.")
        try:
            ten_years_later = first.replace(year=first.year + MAX_YEARS)
        except ValueError:  # 29 February
            ten_years_later = first.replace(year=first.year + MAX_YEARS, day=28)
        if last > ten_years_later:
            raise forms.ValidationError(f"Choose a range of {MAX_YEARS} years at most.")
        data["date_from"], data["date_to"] = first, last
        return data
