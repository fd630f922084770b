"""The plan editor's forms. Each names the row it acts on by id in the POST body; the
view resolves ids within the plan (an id of another plan is a form error, not a 404
that would confirm it exists)."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from openiop.core.forms import MAX_ID

from .choices import GoalStatus, ObjectiveStatus, PlanReason
from .models import MAX_SIGNATURE_IMAGE, InterventionTemplate
from .services import MAX_FREQUENCY, MAX_NAME, MAX_TEXT

ACTIONS = [("add", "Add"), ("save", "Save"), ("remove", "Remove")]


def _textarea(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class RowForm(forms.Form):
    """Add, save or remove one row. `row` is the row's id (save, remove); `parent` the
    id of what it is added under (add)."""

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    row = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    parent = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )

    # Fields needed to add or save (not to remove).
    content_fields: tuple[str, ...] = ()
    needs_parent = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        action = data.get("action")
        if action in ("save", "remove") and not data.get("row"):
            raise forms.ValidationError("The form does not say which row: reload the page.")
        if action == "add" and self.needs_parent and not data.get("parent"):
            raise forms.ValidationError("The form does not say where to add: reload the page.")
        if action == "remove":
            # Nothing else is needed to remove; errors of the other fields do not count.
            for name in self.content_fields:
                self.errors.pop(name, None)
        return data


class PlanForm(forms.Form):
    participant_statement = forms.CharField(
        label="In the participant's own words",
        required=False,
        max_length=4000,
        widget=_textarea(3),
        help_text="What they want from treatment, as they say it.",
    )
    reason = forms.ChoiceField(label="Why this version", choices=PlanReason.choices)
    change_summary = forms.CharField(
        label="What prompted it",
        required=False,
        max_length=4000,
        widget=_textarea(2),
    )


class ProblemForm(RowForm):
    asam_dimension = forms.TypedChoiceField(
        label="ASAM dimension", coerce=int, choices=[(n, str(n)) for n in range(1, 7)]
    )
    statement = forms.CharField(label="Problem", max_length=MAX_TEXT, widget=_textarea())
    content_fields = ("asam_dimension", "statement")
    needs_parent = False

    def __init__(self, *args: Any, dimensions: list[tuple[int, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if dimensions:
            cast(forms.TypedChoiceField, self.fields["asam_dimension"]).choices = dimensions


class GoalForm(RowForm):
    text = forms.CharField(
        label="Goal, in the participant's words", max_length=MAX_TEXT, widget=_textarea()
    )
    status = forms.ChoiceField(choices=GoalStatus.choices, required=False)
    content_fields = ("text", "status")


class ObjectiveForm(RowForm):
    text = forms.CharField(
        label="Objective (measurable)",
        max_length=MAX_TEXT,
        widget=_textarea(),
        help_text="What, how often or how much, and how it will be known.",
    )
    target_date = forms.DateField(
        label="Target date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    status = forms.ChoiceField(choices=ObjectiveStatus.choices, required=False)
    content_fields = ("text", "target_date", "status")


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.name


class InterventionForm(RowForm):
    template = TemplateChoiceField(
        label="From the library",
        queryset=InterventionTemplate.objects.none(),
        required=False,
        help_text="Or leave empty and describe a custom intervention.",
    )
    description = forms.CharField(
        label="Description",
        max_length=MAX_TEXT,
        required=False,
        widget=_textarea(),
        help_text="Prefilled from the library; change it to fit.",
    )
    frequency = forms.CharField(
        max_length=MAX_FREQUENCY, help_text='For example "3 groups a week".'
    )
    responsible: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label="Responsible staff", queryset=None, required=False
    )
    content_fields = ("template", "description", "frequency", "responsible")

    def __init__(self, *args: Any, staff: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["template"]
        ).queryset = InterventionTemplate.objects.filter(active=True, retired=False).order_by(
            "modality", "name"
        )
        cast(forms.ModelChoiceField, self.fields["responsible"]).queryset = staff

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (
            data.get("action") in ("add", "save")
            and not data.get("template")
            and not (data.get("description") or "").strip()
            and "description" not in self.errors
        ):
            self.add_error("description", "Pick an intervention from the library or describe one.")
        return data


class ParticipantSignForm(forms.Form):
    typed_name = forms.CharField(
        label="Type your name",
        max_length=MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "words"}),
    )
    image = forms.CharField(
        required=False, max_length=MAX_SIGNATURE_IMAGE, widget=forms.HiddenInput
    )
    agree = forms.BooleanField(
        label="I have read this plan, it was explained to me, and I agree to take part in it."
    )


class NewVersionForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why a new version",
        choices=[c for c in PlanReason.choices if c[0] != PlanReason.INITIAL],
        initial=PlanReason.REVIEW,
    )
    change_summary = forms.CharField(
        label="What prompted it", required=False, max_length=4000, widget=_textarea(2)
    )


class SignForm(forms.Form):
    """Signing names the version of the row that was reviewed: if the draft changed
    since the page was opened, the signature is refused and the page shows it again."""

    version = forms.IntegerField(min_value=0, max_value=MAX_ID, widget=forms.HiddenInput)
