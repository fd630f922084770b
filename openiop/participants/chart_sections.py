"""The chart sections this app owns: the current episode and care team, contact details,
the participant's contacts (support people, emergency contact), and the history of
episodes with every status change."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch
from django.urls import reverse

from openiop.core.access import StaffRequest
from openiop.core.roles import Perm

from . import lifecycle
from .chart import Section, register_section
from .choices import EpisodeStatus as S
from .models import Contact, Episode, EpisodeTransition, Participant
from .steps import GUIDED

STEP_LABELS: dict[str, str] = {
    S.SCREENING: "Start screening",
    S.ASSESSED: "Mark assessed",
    S.ADMITTED: "Admit",
    S.ACTIVE: "Start attending (active)",
    S.DISCHARGED: "Discharge",
    S.ALUMNI: "Move to alumni",
}
SECONDARY_STEPS = {S.NOT_ADMITTED, S.REFERRED_ELSEWHERE, S.DISCHARGED}


def episode_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    episode = participant.current_episode
    care_team = list(episode.care_team.all()) if episode else []
    can_move = request.user.has_perm_code(Perm.EPISODE_TRANSITION)
    next_steps = []
    if episode is not None and can_move:
        for status in lifecycle.next_statuses(episode.status):
            guided = GUIDED.get(status)
            if guided and guided.perm and not request.user.has_perm_code(guided.perm):
                continue  # e.g. intake may move episodes but does not discharge
            next_steps.append(
                {
                    "status": status,
                    "label": guided.label
                    if guided
                    else STEP_LABELS.get(status, lifecycle.label(status)),
                    "url": guided.url(episode.pk, participant.pk)
                    if guided
                    else reverse(
                        "participants:episode_transition",
                        kwargs={
                            "pk": participant.pk,
                            "episode_pk": episode.pk,
                            "to_status": status,
                        },
                    ),
                    "secondary": status in SECONDARY_STEPS,
                }
            )
    return {"episode": episode, "care_team": care_team, "next_steps": next_steps}


def contact_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    return {}


def contacts_context(request: StaffRequest, participant: Participant) -> dict[str, Any]:
    contacts = list(Contact.objects.filter(participant=participant, voided=False))
    return {"contacts": contacts}


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
        "contacts",
        "Contacts and support people",
        Perm.PARTICIPANT_VIEW,
        "participants/sections/contacts.html",
        contacts_context,
        order=21,
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
