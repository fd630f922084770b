"""The chart's "Drug screens" section (days since the last known use, reviews to do, the
latest screens) and the today board's "Screens to review" panel."""

from __future__ import annotations

from typing import Any

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm
from openiop.participants.chart import Section, register_section
from openiop.participants.models import Participant

from . import queries

CHART_SCREENS = 5
CHART_EVENTS = 6
PANEL_LIMIT = 8


def screens_context(request: StaffRequest, participant: Participant) -> dict[str, Any] | None:
    """Two queries (orders with specimens, results), two more for clinical readers
    (reviews, check-ins reporting use): `queries.screening_history`."""
    program = participant.program
    today = program.today()
    history = queries.screening_history(
        participant,
        user=request.user,
        today=today,
        tz=program.tz,
        clinical=request.user.has_perm_code(Perm.CLINICAL_VIEW),
    )
    return {
        "history": history,
        "latest": history.screens[:CHART_SCREENS],
        "events": history.timeline[:CHART_EVENTS],
        "more": len(history.timeline) > CHART_EVENTS or len(history.screens) > CHART_SCREENS,
        "can_review": request.user.has_perm_code(Perm.SCREENING_REVIEW),
    }


register_section(
    Section(
        "screens",
        "Drug screens",
        Perm.SCREENING_VIEW,
        "screening/clinical_chart_section.html",
        screens_context,
        order=31,
    )
)


def reviews_panel_context(request: StaffRequest) -> dict[str, Any] | None:
    """One query: the first open reviews for this user and how many there are."""
    rows, total = queries.review_panel(request.user, PANEL_LIMIT)
    if not total:
        return None
    return {"rows": rows, "total": total, "more": total > len(rows)}


register_panel(
    Panel(
        "screens_to_review",
        "Screens to review",
        Perm.SCREENING_REVIEW,
        "screening/clinical_panel_reviews.html",
        reviews_panel_context,
        order=9,
    )
)
