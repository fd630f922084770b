"""The TEDS admission items form: one select per item with the TEDS code labels, grouped
as intake asks them, and the export's cross-field rules as form errors."""

from __future__ import annotations

from typing import Any

from django import forms

from openiop.participants import teds_codes as codes

from . import teds_services as rules
from .models import TedsAdmission

NOT_RECORDED = "Not recorded yet"

# (heading, fields) in the order the page shows them.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Demographics", tuple(f for f, _e, _c in rules.DEMOGRAPHICS)),
    *(
        (
            f"{rules.ORDINAL[n].capitalize()} substance",
            (f"sub{n}", f"route{n}", f"freq{n}", f"frstuse{n}"),
        )
        for n in rules.SUBSTANCE_NUMBERS
    ),
    (
        "Treatment history and mutual help",
        tuple(f for f, _e, _c in rules.HISTORY),
    ),
    ("Arrests", tuple(f for f, _e, _c in rules.LEGAL)),
    ("Mental health", tuple(f for f, _e, _c in rules.MENTAL_HEALTH)),
)

CODES: dict[str, type[Any]] = {
    **{f: c for f, _e, c in (*rules.DEMOGRAPHICS, *rules.HISTORY, *rules.LEGAL)},
    **{f: c for f, _e, c in rules.MENTAL_HEALTH},
    **{f"sub{n}": codes.Substance for n in rules.SUBSTANCE_NUMBERS},
    **{f"route{n}": codes.Route for n in rules.SUBSTANCE_NUMBERS},
    **{f"freq{n}": codes.Frequency for n in rules.SUBSTANCE_NUMBERS},
}


def label_for(field: str) -> str:
    verbose = str(getattr(TedsAdmission._meta.get_field(field), "verbose_name", field))
    return f"{verbose[0].upper()}{verbose[1:]} ({rules.ELEMENT[field]})"


class TedsItemsForm(forms.Form):
    """Every item is optional (intake saves what it knows; the chart and the export say
    what is missing); a combination the export would refuse is a form error."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, max_value=2**31 - 1)

    def __init__(self, *args: Any, age: int | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.age = age
        for field in rules.ITEM_FIELDS:
            if field.startswith("frstuse"):
                self.fields[field] = forms.IntegerField(
                    label=label_for(field),
                    required=False,
                    min_value=0,
                    max_value=rules.OLDEST,
                    help_text="Age in years (for alcohol, age at first intoxication).",
                )
            else:
                self.fields[field] = forms.TypedChoiceField(
                    label=label_for(field),
                    required=False,
                    choices=[("", NOT_RECORDED), *CODES[field].choices],
                    coerce=int,
                    empty_value=None,
                )
        if age is not None:
            for n in rules.SUBSTANCE_NUMBERS:
                self.fields[f"frstuse{n}"].help_text += f" At most {age}, the age at admission."

    def groups(self) -> list[dict[str, Any]]:
        return [
            {"title": title, "fields": [self[name] for name in names]} for title, names in GROUPS
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if any(f in self.errors for f in rules.ITEM_FIELDS):
            return cleaned  # a value that is not a code: that error first
        items = TedsAdmission(**{f: cleaned.get(f) for f in rules.ITEM_FIELDS})
        for problem in rules.check_items(items, age=self.age):
            if problem.missing or not problem.field or problem.field in self.errors:
                continue
            self.add_error(problem.field, f"{problem.element}: {problem.why}.")
        return cleaned
