"""Today-board panel for intake staff: the pipeline at a glance."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from openiop.core.access import StaffRequest
from openiop.core.board import Panel, register_panel
from openiop.core.roles import Perm, Role
from openiop.participants.access import visible_participants
from openiop.participants.choices import PRE_ADMISSION, EpisodeStatus
from openiop.participants.models import Episode


def pipeline_context(request: StaffRequest) -> dict[str, Any] | None:
    user = request.user
    if not user.has_role(Role.INTAKE):
        return None
    counts = dict(
        Episode.objects.filter(
            status__in=PRE_ADMISSION, voided=False, participant__in=visible_participants(user)
        )
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "rows": [(s.label, counts.get(s.value, 0)) for s in EpisodeStatus if s in PRE_ADMISSION],
        "total": sum(counts.values()),
    }


register_panel(
    Panel(
        "pipeline",
        "Referral pipeline",
        Perm.INTAKE_VIEW,
        "intake/panels/pipeline.html",
        pipeline_context,
        order=15,
    )
)
