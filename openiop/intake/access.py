"""Reaching an intake record goes through the participant's access check (scope, role,
audit) like every other participant page."""

from __future__ import annotations

from django.http import Http404

from openiop.core.access import StaffRequest
from openiop.participants.access import get_episode_for, get_participant_for
from openiop.participants.models import Episode, Participant

from .models import Assessment


def episode_for(
    request: StaffRequest, episode_pk: int, perm: str, *, what: str
) -> tuple[Participant, Episode]:
    participant_id = (
        Episode.objects.filter(pk=episode_pk, voided=False)
        .values_list("participant_id", flat=True)
        .first()
    )
    if participant_id is None:
        raise Http404("No such referral")
    participant = get_participant_for(request, participant_id, perm, what=what)
    return participant, get_episode_for(request, participant, episode_pk)


def assessment_for(
    request: StaffRequest, pk: int, perm: str
) -> tuple[Participant, Episode, Assessment]:
    try:
        assessment = Assessment.objects.select_related("episode", "episode__program").get(
            pk=pk, voided=False
        )
    except Assessment.DoesNotExist:
        raise Http404("No such assessment") from None
    participant = get_participant_for(
        request, assessment.participant_id, perm, what="intake.assessment"
    )
    return participant, assessment.episode, assessment
