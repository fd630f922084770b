"""The episode-of-care lifecycle as plain rules, tested without HTTP or a database.

    referred → screening → assessed → admitted → active → discharged → alumni
        ↘ not admitted / referred elsewhere (from any pre-admission step)

An admitted participant who never starts (or leaves before the first service) is
discharged from `admitted`. Closed episodes stay closed: a returning participant gets a
new episode, so each admission has its own history (TEDS counts one admission per
episode, DOMAIN.md §8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from .choices import EpisodeStatus as S

ALLOWED: dict[str, tuple[str, ...]] = {
    S.REFERRED: (S.SCREENING, S.NOT_ADMITTED, S.REFERRED_ELSEWHERE),
    S.SCREENING: (S.ASSESSED, S.NOT_ADMITTED, S.REFERRED_ELSEWHERE),
    S.ASSESSED: (S.ADMITTED, S.NOT_ADMITTED, S.REFERRED_ELSEWHERE),
    S.ADMITTED: (S.ACTIVE, S.DISCHARGED),
    S.ACTIVE: (S.DISCHARGED,),
    S.DISCHARGED: (S.ALUMNI,),
    S.ALUMNI: (),
    S.NOT_ADMITTED: (),
    S.REFERRED_ELSEWHERE: (),
}

# Leaving the path needs a written reason (why not admitted, to whom, why discharged).
REASON_REQUIRED = frozenset({S.NOT_ADMITTED, S.REFERRED_ELSEWHERE, S.DISCHARGED})

ORDER: list[str] = [
    S.REFERRED,
    S.SCREENING,
    S.ASSESSED,
    S.ADMITTED,
    S.ACTIVE,
    S.DISCHARGED,
    S.ALUMNI,
]


class TransitionRefused(Exception):
    """A transition the lifecycle does not allow; the message says why."""


class EpisodeLike(Protocol):
    status: str
    referral_date: dt.date
    admission_date: dt.date | None
    discharge_date: dt.date | None
    level_of_care: str
    track_id: int | None
    primary_counsellor_id: int | None


@dataclass(frozen=True)
class Request:
    to_status: str
    effective_date: dt.date
    reason: str = ""


def label(status: str) -> str:
    return S(status).label


def next_statuses(status: str) -> tuple[str, ...]:
    return ALLOWED.get(status, ())


def check(episode: EpisodeLike, req: Request, *, today: dt.date) -> None:
    """Raise TransitionRefused with a message a clinician can act on, or return."""
    current, target = episode.status, req.to_status
    if target not in S.values:
        raise TransitionRefused(f"“{target}” is not an episode status.")
    if target == current:
        raise TransitionRefused(f"The episode is already {label(current)}.")
    allowed = ALLOWED[current]
    if target not in allowed:
        if not allowed:
            raise TransitionRefused(
                f"This episode is closed ({label(current)}). To see the participant again, "
                "start a new episode with a new referral."
            )
        options = ", ".join(label(s) for s in allowed)
        if target in ORDER and current in ORDER and ORDER.index(target) < ORDER.index(current):
            why = "Episodes do not move backwards"
        else:
            why = "Steps cannot be skipped"
        raise TransitionRefused(
            f"{why}: an episode that is {label(current)} can next become {options}, "
            f"not {label(target)}."
        )
    if target in REASON_REQUIRED and not req.reason.strip():
        raise TransitionRefused(
            f"Say why the episode becomes {label(target)}: a reason is required."
        )
    if req.effective_date > today:
        raise TransitionRefused("The date of a status change cannot be in the future.")
    if req.effective_date < episode.referral_date:
        raise TransitionRefused(
            f"The date cannot be before the referral date ({episode.referral_date:%b %-d, %Y})."
        )
    if target == S.ADMITTED:
        missing = [
            name
            for name, value in (
                ("level of care", episode.level_of_care),
                ("track", episode.track_id),
                ("primary counsellor", episode.primary_counsellor_id),
            )
            if not value
        ]
        if missing:
            raise TransitionRefused(
                "Admission needs a " + ", ".join(missing) + ": set them on the admission form."
            )
    admitted_on = episode.admission_date
    if target in (S.ACTIVE, S.DISCHARGED) and admitted_on and req.effective_date < admitted_on:
        raise TransitionRefused(
            f"The date cannot be before the admission date ({admitted_on:%b %-d, %Y})."
        )
    discharged_on = episode.discharge_date
    if target == S.ALUMNI and discharged_on and req.effective_date < discharged_on:
        raise TransitionRefused("Alumni status cannot start before the discharge date.")


def apply_dates(episode: EpisodeLike, req: Request) -> list[str]:
    """Set the dates a transition implies; returns the names of the fields it set."""
    if req.to_status == S.ADMITTED:
        episode.admission_date = req.effective_date
        return ["admission_date"]
    if req.to_status == S.DISCHARGED:
        episode.discharge_date = req.effective_date
        return ["discharge_date"]
    return []
