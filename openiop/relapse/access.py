"""Plans are reached through their participant (scoped, permission-checked, audited)."""

from __future__ import annotations

from django.http import Http404

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm
from openiop.participants.access import get_participant_for, visible_participants
from openiop.participants.models import Participant

from .models import RelapsePlan
from .queries import with_support


def participant_for(request: StaffRequest, pk: int, perm: str, what: str) -> Participant:
    """The participant (with program and current episode) for a plan page."""
    queryset = visible_participants(request.user).select_related(
        "program", "current_episode", "current_episode__program"
    )
    return get_participant_for(request, pk, perm, what=what, queryset=queryset)


def plan_for(
    request: StaffRequest, pk: int, plan_pk: int, perm: str = Perm.CLINICAL_VIEW, what: str = ""
) -> tuple[Participant, RelapsePlan]:
    participant = participant_for(request, pk, perm, what or "relapse.plan")
    try:
        plan = (
            with_support(RelapsePlan.objects.all())
            .select_related("signed_by", "episode", "program")
            .get(pk=plan_pk, participant=participant, voided=False)
        )
    except RelapsePlan.DoesNotExist:
        raise Http404("No such plan for this participant") from None
    return participant, plan
