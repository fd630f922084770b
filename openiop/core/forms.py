"""Form fields shared by every app."""

from __future__ import annotations

from typing import Any

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
