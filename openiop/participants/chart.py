"""Chart sections: each app adds what it knows about a participant to the chart.

    register_section(Section("screens", "Drug screens", Perm.SCREENING_VIEW,
                             "screening/chart_section.html", context_for_chart, order=50))

A section whose context function returns None is not shown. A section whose permission
the user lacks is simply not shown (the chart itself needs
only `participant.view`), so lab staff see identity and screening, billing sees
coverage, and clinical staff see clinical sections. Each section's context function
must run a fixed number of queries, whatever the size of the record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

from openiop.core.access import StaffRequest

from .models import Participant


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    perm: str
    template: str
    context: Callable[[StaffRequest, Participant], dict[str, Any] | None]
    order: int = 100


SECTIONS: dict[str, Section] = {}


def register_section(section: Section) -> Section:
    SECTIONS[section.key] = section
    return section


def sections_for(
    request: StaffRequest, participant: Participant, base: dict[str, Any]
) -> list[dict[str, Any]]:
    """The sections this user may see, each rendered with the chart's context plus its own."""
    out = []
    for section in sorted(SECTIONS.values(), key=lambda s: (s.order, s.key)):
        if request.user.has_perm_code(section.perm):
            own = section.context(request, participant)
            if own is None:
                continue  # nothing to show for this participant
            context = {**base, **own}
            html = render_to_string(section.template, context, request=request)
            out.append({"section": section, "html": html})
    return out
