"""Lifecycle steps that another area carries out with its own form.

Moving an episode to Assessed needs a signed assessment, and to Admitted needs the
admission form (diagnoses, consents): the intake area registers those pages here, the
chart links to them, and the generic status-change page refuses those steps and points
to the right form instead.

    register_guided(EpisodeStatus.ADMITTED, "intake:admit", "Admit")
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class GuidedStep:
    url_name: str  # takes `episode_pk` (the participant's `pk` when `by_participant`)
    label: str
    by_participant: bool = False
    perm: str = ""  # the permission the step's page needs (shown only to its holders)

    def url(self, episode_pk: int, participant_pk: int | None = None) -> str:
        if self.by_participant:
            return reverse(self.url_name, kwargs={"pk": participant_pk})
        return reverse(self.url_name, kwargs={"episode_pk": episode_pk})


GUIDED: dict[str, GuidedStep] = {}


def register_guided(
    status: str, url_name: str, label: str, *, by_participant: bool = False, perm: str = ""
) -> None:
    GUIDED[str(status)] = GuidedStep(url_name, label, by_participant, perm)
