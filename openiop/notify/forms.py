"""The participant's notification preferences (portal page, translated)."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from .choices import Status
from .models import Preference
from .render import TEMPLATES

# Quiet hours by the half hour: a select is easier on a phone than typing a time.
MAX_QUIET_HOURS = 16
HALF_HOURS = [dt.time(h, m) for h in range(24) for m in (0, 30)]


def _time_choices() -> list[tuple[str, str]]:
    # Labels in the active language's time format (9:00 p.m. / 21:00).
    return [(t.strftime("%H:%M"), formats.time_format(t)) for t in HALF_HOURS]


class PreferenceForm(forms.ModelForm):
    quiet_start = forms.TypedChoiceField(
        label=_("Quiet from"),
        coerce=lambda v: dt.time.fromisoformat(v),
        choices=[],
    )
    quiet_end = forms.TypedChoiceField(
        label=_("Quiet until"),
        coerce=lambda v: dt.time.fromisoformat(v),
        choices=[],
    )

    class Meta:
        model = Preference
        fields = [
            "sms_on",
            "email_on",
            "reminders_on",
            "check_in_links_on",
            "quiet_start",
            "quiet_end",
            "show_program_name",
        ]
        labels = {
            "sms_on": _("Text messages"),
            "email_on": _("Email"),
            "reminders_on": _("Reminders: appointments the day before, questionnaires when due"),
            "check_in_links_on": _("A daily check-in link each morning"),
            "show_program_name": _("Sign messages with the program's name"),
        }
        help_texts = {
            "show_program_name": _(
                "Off: messages are signed “Your care team”, so anyone who sees your phone "
                "learns nothing. On: they carry the program's name."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = _time_choices()
        for name in ("quiet_start", "quiet_end"):
            field = cast(forms.TypedChoiceField, self.fields[name])
            field.choices = choices
            value = getattr(self.instance, name, None)
            if isinstance(value, dt.time):
                self.initial[name] = value.strftime("%H:%M")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("quiet_start"), data.get("quiet_end")
        if isinstance(start, dt.time) and isinstance(end, dt.time):
            # A span over midnight wraps (21:00 → 08:00 is 11 hours); equal: none.
            minutes = (end.hour * 60 + end.minute - start.hour * 60 - start.minute) % (24 * 60)
            if minutes > MAX_QUIET_HOURS * 60:
                raise forms.ValidationError(
                    _("Quiet hours can last at most 16 hours, so reminders still reach you."),
                    code="too_long",
                )
        return data


class OutboxFilterForm(forms.Form):
    """The staff outbox's filters: only values that identify no one (no PHI in URLs)."""

    status = forms.ChoiceField(required=False, choices=[("", "Any"), *Status.choices])
    template = forms.ChoiceField(
        required=False,
        label="Kind",
        choices=[("", "Any"), *[(name, name.replace("_", " ")) for name in TEMPLATES]],
    )
