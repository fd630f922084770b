"""The chart sections this app owns: the current episode and care team, contact details,
and the history of episodes with every status change."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm

from . import lifecycle
from .chart import Section, register_section
from .models import Episode, EpisodeTransition, Participant


def episode_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    episode = participant.current_episode
    care_team = list(episode.care_team.all()) if episode else []
    can_move = request.user.has_perm_code(Perm.EPISODE_TRANSITION)
    next_steps = []
    if episode is not None and can_move:
        next_steps = [(s, lifecycle.label(s)) for s in lifecycle.next_statuses(episode.status)]
    return {"episode": episode, "care_team": care_team, "next_steps": next_steps}


def contact_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    return {}


def history_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    episodes = (
        Episode.objects.filter(participant=participant, voided=False)
        .select_related("program", "track", "primary_counsellor")
        .prefetch_related(
            Prefetch("transitions", queryset=EpisodeTransition.objects.order_by("at", "pk"))
        )
    )
    return {"episodes": episodes}


register_section(
    Section(
        "episode",
        "Current episode",
        Perm.PARTICIPANT_VIEW,
        "participants/sections/episode.html",
        episode_context,
        order=10,
    )
)
register_section(
    Section(
        "contact",
        "Identity and contact",
        Perm.PARTICIPANT_VIEW,
        "participants/sections/contact.html",
        contact_context,
        order=20,
    )
)
register_section(
    Section(
        "history",
        "Episodes and status history",
        Perm.PARTICIPANT_VIEW,
        "participants/sections/history.html",
        history_context,
        order=90,
    )
)
