"""The one way to reach participant data: scoped to the user, permission-checked, audited.

    participant = get_participant_for(request, pk)                   # view the chart
    participant = get_participant_for(request, pk, Perm.SCREENING_VIEW, what="screens")

Out of the user's scope (another program, or outside their care teams where the program
narrows counsellors to them) → 404. In scope but the role may not see this kind of
data → 403 with an explanation. Otherwise one audit event records the access.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest

from openiop.core import audit
from openiop.core.access import StaffRequest, require_perm
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm, Role

from .models import Episode, Participant


def visible_participants(user: Any) -> QuerySet[Participant]:
    """Participants in the user's programs; counsellors narrowed where the program says so."""
    qs = Participant.objects.filter(voided=False, program_id__in=user.program_ids)
    # Roles that oversee the whole program see all of it, even where counsellors are narrowed.
    oversees = user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR, Role.INTAKE}
    if user.has_role(Role.COUNSELLOR) and not oversees:
        on_team = Episode.objects.filter(participant=OuterRef("pk")).filter(
            Q(primary_counsellor=user) | Q(care_team=user)
        )
        qs = qs.filter(Q(program__counsellors_see_care_team_only=False) | Exists(on_team))
    return qs


def get_participant_for(
    request: StaffRequest,
    pk: int,
    perm: str = Perm.PARTICIPANT_VIEW,
    *,
    action: str = AuditAction.VIEW,
    what: str = "",
    queryset: QuerySet | None = None,
) -> Participant:
    qs = queryset if queryset is not None else visible_participants(request.user)
    try:
        participant = qs.get(pk=pk)
    except (Participant.DoesNotExist, ValueError, TypeError):
        raise Http404("No such participant in your programs") from None
    require_perm(request, perm, what=what or "participants.participant")
    audit.record(action, actor=request.user, obj=participant, object_type=what or "")
    return participant


def get_episode_for(request: HttpRequest, participant: Participant, episode_pk: int) -> Episode:
    """An episode of a participant already fetched through `get_participant_for`."""
    try:
        return Episode.objects.select_related("program", "track", "primary_counsellor").get(
            pk=episode_pk, participant=participant, voided=False
        )
    except Episode.DoesNotExist:
        raise Http404("No such episode for this participant") from None
