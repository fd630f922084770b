"""Form fields shared by every app."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError

# The largest id any supported database stores (a 64-bit signed integer).
MAX_ID = 2**63 - 1


class ModelMultipleIdsField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses an out-of-range id as a form error.

    Django guards single-id lookups against integer overflow (ticket #27397) but not the
    `pk__in` query this field runs: on SQLite an id beyond 64 bits raises OverflowError,
    a 500. Use this instead of ModelMultipleChoiceField for integer primary keys.
    """

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # not a number: Django reports it as an invalid value
            if not -MAX_ID <= number <= MAX_ID:
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        # A private Django method (the one to extend here), absent from django-stubs.
        return super()._check_values(value)  # type: ignore[misc]


def posted(request: Any) -> Any:
    """The data to bind a form to: the POST body on a POST (even an empty one, so missing
    fields are reported as errors), nothing on a GET."""
    return request.POST if request.method == "POST" else None


# --- the audit log's filters (issue 8, point 6; ONC 170.315(d)(3)) ------------------------

# ?sort= values: each recorded element of an event, ascending or (with "-") descending.
# ONC (d)(3) asks for reports "sorted by each recorded element". Whitelisted: the value
# reaches order_by only through this table.
AUDIT_SORTS: dict[str, str] = {
    "at": "Time",
    "seq": "Chain position",
    "actor_username": "User",
    "action": "Action",
    "object_type": "Object type",
    "object_id": "Object id",
    "object_repr": "Object",
    "participant_id": "Participant",
    "client_ip": "IP address",
    "path": "Page",
    "source": "Source",
    "request_id": "Request id",
    "reason": "Reason",
    "changes": "Changes",
}
AUDIT_DEFAULT_SORT = "-at"
# Dates a filter may name: the database's time conversions stay in range.
AUDIT_FIRST_DAY = dt.date(1970, 1, 1)
AUDIT_LAST_DAY = dt.date(2999, 12, 31)


def audit_sort_choices() -> list[tuple[str, str]]:
    out = []
    for key, label in AUDIT_SORTS.items():
        first, last = ("newest", "oldest") if key == "at" else ("A–Z", "Z–A")
        if key in ("seq", "participant_id"):
            first, last = ("lowest", "highest")
        if key == "at":
            out += [(f"-{key}", f"{label}, {first} first"), (key, f"{label}, {last} first")]
        else:
            out += [(key, f"{label}, {first}"), (f"-{key}", f"{label}, {last}")]
    return out


class AuditFilterForm(forms.Form):
    """Who, which participant, what, when, in which order.

    The participant is typed as a record number in the POSTed form (so it never reaches
    a URL, where server logs would keep it); the page's address then carries the
    participant's internal id (`participant_is="id"`).
    """

    participant = forms.CharField(required=False, max_length=40, label="Participant record no.")
    user = forms.CharField(required=False, max_length=150, label="User")
    action = forms.ChoiceField(required=False, label="Action")
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")
    sort = forms.ChoiceField(required=False, label="Sort by")

    def __init__(self, *args: Any, participant_is: str = "record_number", **kwargs: Any):
        super().__init__(*args, **kwargs)
        from .choices import AuditAction

        self.participant_is = participant_is
        self.record_number = ""
        action = cast(forms.ChoiceField, self.fields["action"])
        sort = cast(forms.ChoiceField, self.fields["sort"])
        action.choices = [("", "Any"), *AuditAction.choices]
        # Blank (the default) is time, newest first: the first choice, shown selected.
        sort.choices = audit_sort_choices()

    def clean_participant(self) -> int | None:
        from django.apps import apps

        text = self.cleaned_data["participant"].strip()
        if not text:
            return None
        # Looked up by name: core does not import the participants app.
        participants = apps.get_model("participants", "Participant").objects
        if self.participant_is == "id":
            if not text.isascii() or not text.isdigit() or len(text) > 18:
                raise ValidationError("No participant has that id.")
            row = participants.filter(pk=int(text)).values_list("pk", "record_number").first()
            if row is None:
                raise ValidationError("No participant has that id.")
        else:
            if "\x00" in text:
                raise ValidationError("A record number has no control characters.")
            row = (
                participants.filter(record_number__iexact=text)
                .values_list("pk", "record_number")
                .first()
            )
            if row is None:
                raise ValidationError("No participant has that record number (e.g. OI-000123-4).")
        self.record_number = row[1]
        return int(row[0])

    def clean_user(self) -> str:
        text = self.cleaned_data["user"].strip()
        if "\x00" in text:
            raise ValidationError("A username has no control characters.")
        return text

    def _clean_day(self, name: str) -> dt.date | None:
        day = self.cleaned_data[name]
        if day is not None and not AUDIT_FIRST_DAY <= day <= AUDIT_LAST_DAY:
            raise ValidationError(
                f"Give a date between {AUDIT_FIRST_DAY.isoformat()} and "
                f"{AUDIT_LAST_DAY.isoformat()}."
            )
        return day

    def clean_date_from(self) -> dt.date | None:
        return self._clean_day("date_from")

    def clean_date_to(self) -> dt.date | None:
        return self._clean_day("date_to")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "“To” is before “From”.")
        return data

    def query(self) -> dict[str, str]:
        """The cleaned filters as the page's address carries them (no record number)."""
        data = self.cleaned_data
        params = {
            "participant": str(data["participant"]) if data.get("participant") else "",
            "user": data.get("user") or "",
            "action": data.get("action") or "",
            "date_from": data["date_from"].isoformat() if data.get("date_from") else "",
            "date_to": data["date_to"].isoformat() if data.get("date_to") else "",
            "sort": data.get("sort") or "",
        }
        return {k: v for k, v in params.items() if v}
