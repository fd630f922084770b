from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone

from openiop.attendance.models import Attendance
from openiop.intake.models import Diagnosis
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling.models import Session
from openiop.testing import make_participant


@pytest.fixture
def leaver(world):
    """A participant of the counsellor's caseload, active, admitted 28 days ago."""
    return make_participant(
        world.program, world.intake, last="Leaver", status=S.ACTIVE, counsellor=world.counsellor
    )


def attend(participant, sessions, statuses_minutes):
    """Attendance of `participant` at `sessions`, one (status, minutes) each."""
    episode = participant.current_episode
    for session, (status, minutes) in zip(sessions, statuses_minutes, strict=False):
        Attendance.objects.create(
            session=session,
            episode=episode,
            participant=participant,
            status=status,
            minutes_attended=minutes,
        )


def past_sessions(world, n):
    today = world.program.today()
    sessions = list(
        Session.objects.filter(program=world.program, date__lt=today, status="scheduled").order_by(
            "date", "pk"
        )[:n]
    )
    assert len(sessions) == n
    return sessions


def diagnose(participant, code="F10.20", primary=True):
    return Diagnosis.objects.create(
        episode=participant.current_episode,
        participant=participant,
        code=code,
        description="Alcohol dependence, uncomplicated",
        primary=primary,
        noted_on=participant.current_episode.admission_date or dt.date.today(),
    )


_SCREENS = itertools.count(1)


def screen(world, participant, *, unexpected=False, validity="valid", status="collected"):
    """A screen of the participant: an order, its collection and a result."""
    from openiop.screening.models import Analyte, Collection, Order, Panel, Result
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    n = next(_SCREENS)
    order = Order.objects.create(
        participant=participant,
        episode=participant.current_episode,
        program=world.program,
        day=world.program.today() - dt.timedelta(days=n % 20),
        reason="random",
        panel=Panel.objects.get(name="12-panel urine cup"),
        status=status,
    )
    if status != "collected":
        return order
    collection = Collection.objects.create(
        order=order,
        participant=participant,
        specimen_id=f"T-{n:04d}",
        specimen_type="urine",
        collected_at=timezone.now(),
        collected_by=world.lab,
        validity=validity,
    )
    Result.objects.create(
        collection=collection,
        participant=participant,
        analyte=Analyte.objects.get(code="THC"),
        method="presumptive",
        outcome="positive" if unexpected else "negative",
        interpretation="unexpected" if unexpected else "negative",
    )
    return order
