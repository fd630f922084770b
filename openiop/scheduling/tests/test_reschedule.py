"""Changing one session: time, place and people, with the same clash checks as booking."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.core.records import StaleEdit
from openiop.scheduling import services
from openiop.scheduling.conflicts import Refused
from openiop.scheduling.models import Session


def change(world, session, **over):
    local = session.local_start()
    values = {
        "program": session.program,
        "session_type": session.session_type,
        "kind": session.kind,
        "title": session.title,
        "day": session.date,
        "start": local.time().replace(tzinfo=None),
        "end": session.local_end().time().replace(tzinfo=None),
        "facilitator": session.facilitator,
        "room": session.room,
        "modality": session.modality,
        "join_link": session.join_link,
        "capacity": session.capacity,
    }
    values.update(over)
    return services.SessionInput(**values)


def test_a_session_moves_later_and_keeps_its_day_and_wall_clock(world):
    session = world.future_session
    changed = services.reschedule(
        session,
        change(world, session, start=dt.time(9, 30)),
        actor=world.counsellor,
        expected_version=session.version,
    )
    assert changed.local_start().time() == dt.time(9, 30)
    assert changed.minutes == 150
    assert changed.version == session.version + 1


def test_a_template_session_cannot_change_day_but_an_appointment_can(world):
    session = world.future_session
    with pytest.raises(services.ScheduleError, match="stays on its day"):
        services.reschedule(
            session,
            change(world, session, day=session.date + dt.timedelta(days=1)),
            actor=world.counsellor,
            expected_version=session.version,
        )
    appointment = world.appointment
    moved = services.reschedule(
        appointment,
        change(world, appointment, day=appointment.date + dt.timedelta(days=7)),
        actor=world.counsellor,
        expected_version=appointment.version,
    )
    assert moved.date == world.appointment.date + dt.timedelta(days=7)


def test_a_clash_with_the_facilitator_is_refused_and_named(world):
    appointment = world.appointment
    session = Session.objects.filter(
        track__name="Morning", date=appointment.date, track__program=world.program
    ).first()
    if session is None:  # the Morning track does not meet that day: put a group there
        session = services.create_session(
            services.SessionInput(
                program=world.program,
                session_type=appointment.session_type,
                kind="group",
                title="Skills group",
                day=appointment.date,
                start=dt.time(9),
                end=dt.time(10),
                facilitator=world.supervisor,
            ),
            actor=world.director,
        )
    with pytest.raises(Refused) as refused:
        services.reschedule(
            session,
            change(
                world, session, start=dt.time(14), end=dt.time(15), facilitator=world.counsellor
            ),
            actor=world.counsellor,
            expected_version=session.version,
        )
    assert any(c.kind == "facilitator" for c in refused.value.conflicts)
    assert "Counsellor Tester already facilitates" in str(refused.value)


def test_a_stale_form_and_a_session_that_took_place_are_refused(world):
    session = world.future_session
    with pytest.raises(StaleEdit):
        services.reschedule(
            session,
            change(world, session, start=dt.time(9, 15)),
            actor=world.counsellor,
            expected_version=session.version - 1,
        )
    taken = world.session
    with pytest.raises(services.ScheduleError, match="Attendance was taken"):
        services.reschedule(
            taken,
            change(world, taken, start=dt.time(9, 15)),
            actor=world.counsellor,
            expected_version=taken.version,
        )
