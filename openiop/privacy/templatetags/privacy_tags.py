"""`{% amendments_for obj %}`: what a record carries from amendment requests (ONC
170.315(d)(4), HIPAA §164.526(c)(1), (d)(4)-(5)): accepted amendments (text, date, who),
denied requests with the denial and any statement of disagreement, and a note of a
request still waiting. One query. `{% amendments_for obj pdf=True %}` is the printed form.

    {% load privacy_tags %}{% amendments_for note %}
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models
from django.template.loader import render_to_string

from openiop.privacy import amendment_services as services
from openiop.privacy.models import AmendmentRequest

register = template.Library()


def amendments_of(obj: models.Model) -> list[AmendmentRequest]:
    """The requests naming `obj` (not voided), oldest first: one query."""
    return list(
        AmendmentRequest.objects.filter(
            target_type=obj._meta.label_lower, target_id=str(obj.pk), voided=False
        )
        .select_related("decided_by")
        .order_by("received_on", "pk")
    )


@register.simple_tag(takes_context=True)
def amendments_for(context: template.Context, obj: Any, pdf: bool = False) -> str:
    if obj is None or getattr(obj, "pk", None) is None:
        return ""
    rows = amendments_of(obj)
    if not rows:
        return ""
    for r in rows:
        r.due_by = services.due_by(r)  # type: ignore[attr-defined]
    name = "privacy/amendments/for_record_pdf.html" if pdf else "privacy/amendments/for_record.html"
    # render_to_string returns a SafeString: the template escapes what it shows.
    return render_to_string(
        name, {"rows": rows, "participant_pk": getattr(obj, "participant_id", None)}
    )
