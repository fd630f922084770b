"""Forms of the panel set-up pages: a panel's details, its analyte lines and cut-offs, and
the analytes. Ranges and uniqueness are checked again by `panel_services`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from . import panel_services as ps
from .choices import SpecimenType, SubstanceClass, TestMethod
from .models import Analyte, Panel, PanelAnalyte
from .services import ScreeningInputError

PANEL_ACTIONS = [
    ("details", "Save the details"),
    ("line", "Change a line"),
    ("add", "Add an analyte"),
    ("remove", "Remove a line"),
    ("retire", "Retire"),
    ("unretire", "Put back in use"),
]


def plain(value: Decimal | None) -> str:
    """A cut-off without trailing zeros or an exponent: 50, 0.02, 2000."""
    return "" if value is None else format(value.normalize(), "f")


class PanelActionForm(forms.Form):
    """Which of the panel page's forms was posted."""

    action = forms.ChoiceField(choices=PANEL_ACTIONS, widget=forms.HiddenInput)


class PanelForm(forms.Form):
    name = forms.CharField(max_length=ps.MAX_PANEL_NAME)
    specimen_type = forms.ChoiceField(label="Specimen type", choices=SpecimenType.choices)
    method = forms.ChoiceField(choices=TestMethod.choices)
    cpt_code = forms.CharField(
        label="Billing code",
        max_length=ps.MAX_BILLING_CODE,
        required=False,
        help_text="80305 cup read by eye, 80306 instrument-assisted, 80307 analyzer.",
    )
    device = forms.CharField(
        label="Device or laboratory",
        max_length=ps.MAX_DEVICE,
        required=False,
        help_text="The cup or lab whose cut-offs these are.",
    )
    description = forms.CharField(
        max_length=ps.MAX_DESCRIPTION,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    @classmethod
    def initial_of(cls, panel: Panel) -> dict[str, Any]:
        return {name: getattr(panel, name) for name in ps.PANEL_FIELDS}


def _cutoff_field(label: str, *, required: bool = True) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        max_digits=10,
        decimal_places=3,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 8}),
    )


class LineValuesForm(forms.Form):
    """A line's cut-off, unit and definitive cut-off, checked as the services check them."""

    cutoff = _cutoff_field("Cut-off")
    unit = forms.CharField(max_length=ps.MAX_UNIT, widget=forms.TextInput(attrs={"size": 7}))
    confirm_cutoff = _cutoff_field("Definitive cut-off", required=False)

    def _checked(self, name: str, label: str) -> Decimal | None:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        try:
            return ps.check_cutoff(value, label)
        except ScreeningInputError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_cutoff(self) -> Decimal | None:
        return self._checked("cutoff", "The cut-off")

    def clean_confirm_cutoff(self) -> Decimal | None:
        return self._checked("confirm_cutoff", "The definitive cut-off")


class LineForm(LineValuesForm):
    """Change one line; its inputs sit in the line's table row (the HTML `form` attribute)."""

    line = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)

    def __init__(self, *args: Any, line: PanelAnalyte | None = None, **kwargs: Any):
        if line is not None:
            kwargs.setdefault("auto_id", f"line{line.pk}_%s")
            kwargs.setdefault(
                "initial",
                {
                    "line": line.pk,
                    "cutoff": plain(line.cutoff),
                    "unit": line.unit,
                    "confirm_cutoff": plain(line.confirm_cutoff),
                },
            )
        super().__init__(*args, **kwargs)
        self.line_obj = line
        if line is not None:
            for field in self.fields.values():
                field.widget.attrs["form"] = f"line-{line.pk}"
                field.widget.attrs["aria-label"] = f"{field.label} of {line.analyte.code}"


class AddLineForm(LineValuesForm):
    analyte: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Analyte")

    field_order = ["analyte", "cutoff", "unit", "confirm_cutoff"]

    def __init__(self, *args: Any, panel: Panel, **kwargs: Any):
        kwargs.setdefault("initial", {"unit": "ng/mL"})
        kwargs.setdefault("auto_id", "add_%s")
        super().__init__(*args, **kwargs)
        field = self.fields["analyte"]
        field.queryset = (  # type: ignore[attr-defined]
            Analyte.objects.filter(retired=False)
            .exclude(pk__in=PanelAnalyte.objects.filter(panel=panel).values("analyte_id"))
            .order_by("name")
        )


class RemoveLineForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**63 - 1)


class AnalyteForm(forms.Form):
    code = forms.CharField(
        max_length=ps.MAX_ANALYTE_CODE,
        help_text="Upper-case letters and digits, as the labs report it (e.g. THC, 6AM).",
    )
    name = forms.CharField(max_length=ps.MAX_ANALYTE_NAME)
    substance = forms.ChoiceField(label="Substance class", choices=SubstanceClass.choices)
    loinc = forms.CharField(label="LOINC code", max_length=20, required=False)
