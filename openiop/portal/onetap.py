"""One-tap links (issue 9, point 1): a short-lived, single-purpose signed link in a text
message or email that opens one form — the day's check-in, or one due questionnaire —
without a password, and shows nothing else.

    path = issue(participant, purpose="check_in")                      # "/t/<token>"
    path = issue(participant, purpose="instrument", instrument_code="PHQ-9")

The token is 32 random bytes (URL-safe); only its SHA-256 is stored. A check-in link
lasts until the end of its program day (in the program's time zone), a questionnaire
link `INSTRUMENT_HOURS`. Each works once: the answer and the link's use are saved in
one transaction, so a second tap (or a forwarded message) finds it used. Opening a link
signs nobody in and makes no session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .models import OneTapLink
from .questionnaires import self_administered
from .services import in_care_episode, token_hash

Purpose = OneTapLink.Purpose
INSTRUMENT_HOURS = 48


def _end_of_day(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The first instant of the next program day, in the program's time zone."""
    following = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return following.astimezone(dt.UTC).astimezone(tz)


def issue(
    participant: Any,
    *,
    purpose: str,
    instrument_code: str = "",
    day: dt.date | None = None,
) -> str:
    """A new one-tap link for a participant in care; returns its path (`/t/<token>`).
    Raises ValueError when the link could not be used (not in care, a day already over,
    an instrument that is not self-administered or is switched off)."""
    episode = in_care_episode(participant)
    if episode is None:
        raise ValueError("One-tap links are for participants in care (admitted or active).")
    program = episode.program
    now = timezone.now()
    today = program.today(now)
    if purpose == Purpose.CHECK_IN:
        if instrument_code:
            raise ValueError("A check-in link names no instrument.")
        day = day or today
        if day < today:
            raise ValueError("That program day is over.")
        expires = _end_of_day(day, program.tz)
    elif purpose == Purpose.INSTRUMENT:
        if self_administered(program, instrument_code) is None:
            raise ValueError(f"{instrument_code!r} is not a questionnaire people answer alone.")
        day = today
        expires = now + dt.timedelta(hours=INSTRUMENT_HOURS)
    else:
        raise ValueError(f"Unknown one-tap purpose {purpose!r}.")
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = OneTapLink.objects.create(
            participant=participant,
            episode=episode,
            purpose=purpose,
            instrument_code=instrument_code,
            day=day,
            token_hash=token_hash(raw),
            created_at=now,
            expires_at=expires,
        )
        audit.record(
            AuditAction.CREATE,
            actor=None,
            obj=link,
            participant_id=participant.pk,
            changes={"purpose": purpose, "instrument": instrument_code, "day": day.isoformat()},
        )
    return reverse("onetap", args=[raw])


@dataclass(frozen=True)
class Found:
    link: OneTapLink | None
    problem: str  # "" (usable), "unknown", "used", "expired" or "ended"

    @property
    def usable(self) -> bool:
        return self.link is not None and not self.problem


def find(raw: str, *, lock: bool = False) -> Found:
    """The link of a token and whether it can still be used. `lock` (inside a
    transaction) holds the row until the answer is saved."""
    if not 20 <= len(raw) <= 100:
        return Found(None, "unknown")
    qs = OneTapLink.objects.select_related("participant", "episode", "episode__program")
    if lock:
        qs = qs.select_for_update(of=("self",))
    link = qs.filter(token_hash=token_hash(raw)).first()
    if link is None:
        return Found(None, "unknown")
    if link.used_at is not None:
        return Found(link, "used")
    if timezone.now() >= link.expires_at:
        return Found(link, "expired")
    episode = link.episode
    if episode.voided or episode.pk != link.participant.current_episode_id:
        return Found(link, "ended")
    if in_care_episode(link.participant) is None:
        return Found(link, "ended")
    return Found(link, "")


def mark_used(link: OneTapLink) -> None:
    """Inside the transaction that saved the answer (the link was found with lock=True)."""
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    audit.record(
        AuditAction.CHANGE,
        actor=None,
        obj=link,
        participant_id=link.participant_id,
        changes={"used": [False, True]},
    )
