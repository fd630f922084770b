"""The lab's forms: ordering a for-cause test, collecting a specimen, its chain of custody,
refusals and no-shows, cancelling, and entering results by hand.

Times are typed in the program's time zone: the views validate these forms inside
`timezone.override(program.tz)`, so a `datetime-local` value means the clock on the wall.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils import timezone

from .choices import CustodyStep, ResultMethod, ResultOutcome, SpecimenType, TestMethod, Validity
from .models import Panel, PanelAnalyte
from .services import MAX_NOTE, MAX_SPECIMEN_ID

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# A time before this year is a typing mistake (and the ends of the calendar overflow in UTC).
EARLIEST_YEAR = 2000
# A for-cause test is for today or a program day soon after.
ORDER_AHEAD_DAYS = 60

ACTIONS = [
    ("collect", "Record the collection"),
    ("refuse", "Refused"),
    ("no_show", "No-show"),
    ("cancel", "Cancel"),
    ("custody", "Add a custody step"),
    ("results", "Record results"),
]
TEMPERATURE = [
    ("yes", "Yes, 32–38 °C within 4 minutes"),
    ("no", "No, out of range"),
    ("na", "Not applicable (not urine)"),
]
# Steps a person records after the collection (collected and resulted are written by the
# services; DOMAIN.md §5.5: each transfer, the lab's receipt with the seal intact or not).
CUSTODY_STEPS = [
    (s.value, s.label)
    for s in (
        CustodyStep.SEALED,
        CustodyStep.SENT,
        CustodyStep.RECEIVED,
        CustodyStep.SEAL_BROKEN,
        CustodyStep.DISPOSED,
    )
]


def local_now(tz: Any) -> str:
    """Now on the program's clock, as a `datetime-local` value."""
    return timezone.localtime(timezone.now(), tz).strftime("%Y-%m-%dT%H:%M")


def _not_before_2000(value: dt.datetime) -> None:
    if value.year < EARLIEST_YEAR:
        raise forms.ValidationError("Enter a time after 2000.", code="out_of_range")


class LocalDateTimeField(forms.DateTimeField):
    """A `datetime-local` value. Django parses it with `fromisoformat`, which lets a
    trailing NUL through: refuse it like the other fields do."""

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def _time_field(label: str, **kwargs: Any) -> forms.DateTimeField:
    return LocalDateTimeField(label=label, widget=DATETIME, validators=[_not_before_2000], **kwargs)


class ActionForm(forms.Form):
    """Which of the order page's forms was posted."""

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)


class ForCauseForm(forms.Form):
    panel: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Panel")
    day = forms.DateField(label="Day to collect", widget=DATE)
    reason_detail = forms.CharField(
        label="Why the test is ordered",
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What was seen or said; kept with the order.",
    )

    def __init__(self, *args: Any, today: dt.date, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["day"].initial = today
        field = cast(forms.ModelChoiceField, self.fields["panel"])
        field.queryset = Panel.objects.filter(retired=False).order_by("name")

    def clean_day(self) -> dt.date:
        day: dt.date = self.cleaned_data["day"]
        if day < self.today:
            raise forms.ValidationError("A test is ordered for today or a later day.")
        if day > self.today + dt.timedelta(days=ORDER_AHEAD_DAYS):
            raise forms.ValidationError(f"Order at most {ORDER_AHEAD_DAYS} days ahead.")
        return day


class CollectForm(forms.Form):
    """The collection record (DOMAIN.md §5.5): specimen id, time, observed and why,
    temperature within 4 minutes (urine), validity, remarks."""

    specimen_id = forms.CharField(
        label="Specimen id", max_length=MAX_SPECIMEN_ID, help_text="The barcode on the label."
    )
    collected_at = _time_field("Collected at")
    observed = forms.BooleanField(label="Observed collection", required=False)
    observed_reason = forms.CharField(
        label="Why observed", max_length=300, required=False, help_text="Needed if observed."
    )
    temperature = forms.ChoiceField(
        label="Temperature in range",
        choices=TEMPERATURE,
        widget=forms.RadioSelect,
        help_text="Urine: read within 4 minutes of the void.",
    )
    validity = forms.ChoiceField(label="Specimen validity", choices=Validity.choices)
    remarks = forms.CharField(
        label="Remarks",
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Colour, foreign matter, anything unusual.",
    )

    def __init__(self, *args: Any, specimen_type: str, tz: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.specimen_type = specimen_type
        self.fields["collected_at"].initial = local_now(tz)
        urine = specimen_type == SpecimenType.URINE
        self.fields["temperature"].initial = "yes" if urine else "na"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("observed") and not (data.get("observed_reason") or "").strip():
            self.add_error("observed_reason", "Say why the collection was observed.")
        temperature = data.get("temperature")
        if self.specimen_type == SpecimenType.URINE and temperature == "na":
            self.add_error("temperature", "A urine specimen's temperature is read.")
        if self.specimen_type != SpecimenType.URINE and temperature in ("yes", "no"):
            self.add_error("temperature", "Temperature is read for urine only.")
        return data

    def temperature_in_range(self) -> bool | None:
        return {"yes": True, "no": False}.get(self.cleaned_data["temperature"])


class NoteForm(forms.Form):
    """A refusal or a no-show, with an optional note."""

    note = forms.CharField(
        label="Note", max_length=MAX_NOTE, required=False, widget=forms.TextInput
    )


class CancelForm(forms.Form):
    reason = forms.CharField(label="Why the test is cancelled", max_length=MAX_NOTE)


class CustodyForm(forms.Form):
    step = forms.ChoiceField(label="Step", choices=CUSTODY_STEPS)
    at = _time_field("When")
    by_name = forms.CharField(
        label="Who",
        max_length=150,
        required=False,
        help_text="Blank: you. Otherwise the courier or the lab's receiver.",
    )
    detail = forms.CharField(
        label="Detail",
        max_length=300,
        required=False,
        help_text="Courier or shipping id, lab accession, seal number.",
    )

    def __init__(self, *args: Any, tz: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["at"].initial = local_now(tz)


def default_method(panel: Panel) -> str:
    """Cups, analyzers and breathalysers are presumptive; a send-out lab is definitive
    (DOMAIN.md §5.3)."""
    return ResultMethod.DEFINITIVE if panel.method == TestMethod.LAB else ResultMethod.PRESUMPTIVE


class ResultsForm(forms.Form):
    """One row per analyte of the order's panel: an outcome (blank: not reported) and an
    optional measured value. Fields are named by analyte code (`outcome_COC`)."""

    method = forms.ChoiceField(label="Method", choices=ResultMethod.choices)
    accession = forms.CharField(label="Lab accession", max_length=60, required=False)

    def __init__(self, *args: Any, lines: list[PanelAnalyte], panel: Panel, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lines = lines
        self.fields["method"].initial = default_method(panel)
        for line in lines:
            code = line.analyte.code
            self.fields[f"outcome_{code}"] = forms.ChoiceField(
                label=line.analyte.name,
                choices=ResultOutcome.choices,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[f"value_{code}"] = forms.DecimalField(
                label=f"{line.analyte.name} value ({line.unit})",
                required=False,
                min_value=Decimal(0),
                max_digits=12,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
            )

    def rows(self) -> list[dict[str, Any]]:
        """For the template: each analyte's line with its two bound fields."""
        return [
            {
                "line": line,
                "outcome": self[f"outcome_{line.analyte.code}"],
                "value": self[f"value_{line.analyte.code}"],
            }
            for line in self.lines
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = False
        for line in self.lines:
            code = line.analyte.code
            outcome = data.get(f"outcome_{code}")
            if outcome:
                given = True
            elif data.get(f"value_{code}") is not None:
                self.add_error(f"outcome_{code}", "Give the outcome for a value.")
        if not given and not self.errors:
            raise forms.ValidationError("Give at least one result.")
        return data

    def entries(self) -> list[tuple[PanelAnalyte, str, Decimal | None]]:
        out = []
        for line in self.lines:
            code = line.analyte.code
            outcome = self.cleaned_data.get(f"outcome_{code}")
            if outcome:
                out.append((line, outcome, self.cleaned_data.get(f"value_{code}")))
        return out
