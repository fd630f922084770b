from __future__ import annotations

from typing import Any, cast

from django import forms

from .choices import NoteFormat
from .services import MAX_MINUTES


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.date:%a %b %-d} {obj.local_start():%H:%M} · {obj.title}"


class NewNoteForm(forms.Form):
    # Group entries are written on the group-note screen, not one by one.
    format = forms.ChoiceField(
        choices=[c for c in NoteFormat.choices if c[0] != NoteFormat.GROUP],
        initial=NoteFormat.DAP,
    )
    session = SessionChoiceField(
        queryset=None,
        required=False,
        label="Appointment or session",
        help_text="What the note documents (the last two weeks). Blank: a contact outside "
        "the schedule, such as a phone call.",
    )
    service_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES, label="Duration (minutes)")

    def __init__(self, *args: Any, sessions: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["session"]).queryset = sessions

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        session = data.get("session")
        if session is not None and data.get("service_date") not in (None, session.date):
            self.add_error("service_date", "The date must be the date of the session chosen.")
        return data


class AddendumForm(forms.Form):
    text = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Addendum",
        help_text="A correction or addition; signed with your name and the time when saved.",
    )
