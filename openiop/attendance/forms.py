from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from openiop.scheduling.forms import EpisodeChoiceField

from . import rules
from .choices import AttendanceStatus


class CheckInForm(forms.Form):
    """The daily check-in. Reused by staff in group and (issue 9) by the participant."""

    mood = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(1, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Mood today (1 = worst, 10 = best)",
    )
    craving = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Craving (0 = none, 10 = strongest)",
    )
    used = forms.TypedChoiceField(
        choices=[("no", "No"), ("yes", "Yes")],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        label="Any use since the last session?",
    )
    substances = forms.CharField(
        required=False, max_length=200, label="What was used", help_text="If yes: what, roughly."
    )
    stress = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(0, 11)],
        coerce=int,
        widget=forms.RadioSelect,
        label="Stress (0 = none, 10 = extreme)",
    )
    sleep_hours = forms.DecimalField(
        min_value=Decimal("0"),
        max_value=Decimal("24"),
        decimal_places=1,
        max_digits=3,
        label="Hours slept last night",
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    note = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Anything else (optional)",
    )

    def values(self) -> rules.CheckInValues:
        d = self.cleaned_data
        return rules.CheckInValues(
            mood=d.get("mood"),
            craving=d.get("craving"),
            used=bool(d.get("used")),
            substances=d.get("substances", "") or "",
            stress=d.get("stress"),
            sleep_hours=d.get("sleep_hours"),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if all(k in data for k in ("mood", "craving", "used", "stress", "sleep_hours")):
            for name, message in rules.validate_check_in(self.values()).items():
                if name in self.fields:
                    self.add_error(name, message)
                else:
                    self.add_error(None, message)
        return data


class ResolveForm(forms.Form):
    note = forms.CharField(
        max_length=500,
        label="What was done",
        help_text="e.g. Called, left a message; reviewed the plan in individual session.",
    )


class WalkInForm(forms.Form):
    episode = EpisodeChoiceField(queryset=None, label="Participant")
    capacity_override = forms.CharField(
        required=False, max_length=300, label="Reason to go past capacity"
    )

    def __init__(self, *args: Any, episodes: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["episode"]
        field.queryset = episodes  # type: ignore[attr-defined]


STATUS_CHOICES = AttendanceStatus.choices
