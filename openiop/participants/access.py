"""The one way to reach participant data: scoped to the user, permission-checked, audited.

    participant = get_participant_for(request, pk)                   # view the chart
    participant = get_participant_for(request, pk, Perm.SCREENING_VIEW, what="screens")

Out of the user's programs → 404. In their program but outside their care teams (where
the program narrows counsellors to them) → the emergency-access page: the user may break
the glass with a stated reason for a limited time (issue 8, ONC 170.315(d)(6)); while a
grant runs, every access is audited with the grant's number. In scope but the role may
not see this kind of data → 403 with an explanation. Otherwise one audit event records
the access.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import timezone

from openiop.core import audit
from openiop.core.access import EmergencyAccessRequired, StaffRequest, require_perm
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm, Role

from .models import Episode, Participant


def is_narrowed(user: Any) -> bool:
    """A counsellor whose reach a care-team-only program narrows to their care teams.
    Roles that oversee the whole program see all of it."""
    oversees = user.role_codes & {Role.DIRECTOR, Role.SUPERVISOR, Role.INTAKE}
    return user.has_role(Role.COUNSELLOR) and not oversees


def _active_grants(user: Any) -> QuerySet:
    """The user's emergency-access grants that have not expired or ended, per participant."""
    grant = apps.get_model("privacy", "EmergencyAccess")
    return grant.objects.filter(
        user=user,
        participant=OuterRef("pk"),
        ended_at__isnull=True,
        started_at__lte=timezone.now(),
        expires_at__gt=timezone.now(),
    )


def visible_participants(user: Any) -> QuerySet[Participant]:
    """Participants in the user's programs; counsellors narrowed where the program says so
    (plus the participants of their running emergency-access grants)."""
    qs = Participant.objects.filter(voided=False, program_id__in=user.program_ids)
    if is_narrowed(user):
        qs = qs.filter(
            Q(program__counsellors_see_care_team_only=False)
            | Exists(_on_team(user))
            | Exists(_active_grants(user))
        )
    return qs


def _on_team(user: Any) -> QuerySet:
    return Episode.objects.filter(participant=OuterRef("pk")).filter(on_care_team(user))


def on_care_team(user: Any, via: str = "") -> Q:
    """Episodes whose primary counsellor is `user` or whose care team includes them; `via`
    reaches the episode from another model ("episode__").

    The care team is asked as a subquery on its own table (indexed by user), not joined:
    a join with an OR across it reads the whole care-team table, which grows with every
    episode ever admitted, and needs a DISTINCT over wide rows (issue 13).
    """
    team = Episode.care_team.through.objects.filter(user_id=user.pk).values("episode_id")
    if via:
        return Q(**{f"{via}primary_counsellor": user}) | Q(**{f"{via}id__in": team})
    return Q(primary_counsellor=user) | Q(pk__in=team)


def get_participant_for(
    request: StaffRequest,
    pk: int,
    perm: str = Perm.PARTICIPANT_VIEW,
    *,
    action: str = AuditAction.VIEW,
    what: str = "",
    queryset: QuerySet | None = None,
) -> Participant:
    user = request.user
    qs = queryset if queryset is not None else visible_participants(user)
    narrowed = is_narrowed(user)
    if narrowed:
        # Which grant (if any) this access runs under, in the same query.
        qs = qs.annotate(
            emergency_grant=Subquery(_active_grants(user).values("pk")[:1]),
            by_care_team=Exists(_on_team(user)),
            care_team_only=F("program__counsellors_see_care_team_only"),
        )
    try:
        participant = qs.get(pk=pk)
    except (Participant.DoesNotExist, ValueError, TypeError):
        if narrowed and user.has_perm_code(Perm.EMERGENCY_ACCESS) and _in_programs(user, pk):
            raise EmergencyAccessRequired(int(pk)) from None
        raise Http404("No such participant in your programs") from None
    require_perm(request, perm, what=what or "participants.participant")
    reason = ""
    grant = getattr(participant, "emergency_grant", None)
    on_team = getattr(participant, "by_care_team", True)
    if grant and not on_team and getattr(participant, "care_team_only", False):
        reason = f"emergency access #{grant}"
    audit.record(action, actor=user, obj=participant, object_type=what or "", reason=reason)
    return participant


def _in_programs(user: Any, pk: Any) -> bool:
    try:
        return Participant.objects.filter(
            pk=int(pk), voided=False, program_id__in=user.program_ids
        ).exists()
    except (ValueError, TypeError):
        return False


def get_episode_for(request: HttpRequest, participant: Participant, episode_pk: int) -> Episode:
    """An episode of a participant already fetched through `get_participant_for`."""
    try:
        return Episode.objects.select_related("program", "track", "primary_counsellor").get(
            pk=episode_pk, participant=participant, voided=False
        )
    except Episode.DoesNotExist:
        raise Http404("No such episode for this participant") from None
