"""EpisodeOfCare, Encounter and Appointment: the episode, the sessions attended and the
participant's places in sessions (DOMAIN.md §7)."""

from __future__ import annotations

import datetime as dt
import itertools
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from openiop.attendance import services as attendance
from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.models import Attendance
from openiop.fhir.api import instant
from openiop.fhir.models import ClientKind
from openiop.fhir.resources.episodes import EPISODE_STATUS, status_history
from openiop.fhir.testing import get, ids, resources, token_for, validate
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode, EpisodeTransition
from openiop.scheduling import services as schedule
from openiop.scheduling.choices import SessionKind
from openiop.scheduling.models import Booking, Session
from openiop.testing import add_privacy

pytestmark = pytest.mark.django_db

UCUM = "http://unitsofmeasure.org"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def pid(obj: Any) -> str:
    return str(obj.uuid)


@pytest.fixture
def story(world):
    """world.active's other two weeks: each past group session before `world.session`
    marked with another status, an individual appointment cancelled by the program, and
    one whose booking was cancelled."""
    episode = world.active.current_episode
    counsellor = world.counsellor
    past = list(
        Session.objects.filter(track=world.session.track, date__lt=world.session.date)
        .exclude(pk=world.session.pk)
        .order_by("-starts_at")
    )
    marks = [
        attendance.Entry(A.LATE, 30),
        attendance.Entry(A.LEFT_EARLY, 45),
        attendance.Entry(A.TELEHEALTH),
        attendance.Entry(A.ABSENT_EXCUSED, note="Sick child"),
        attendance.Entry(A.ABSENT_UNEXCUSED),
    ]
    assert len(past) >= len(marks)
    rows = {}
    for session, entry in zip(past, marks, strict=False):
        attendance.record_attendance(session, {episode.pk: entry}, actor=counsellor)
        rows[entry.status] = Attendance.objects.get(session=session, episode=episode)
    rows[A.PRESENT] = Attendance.objects.get(session=world.session, episode=episode)
    today = world.program.today()
    made = []
    for days in (3, 4):
        made.append(
            schedule.create_session(
                schedule.SessionInput(
                    program=world.program,
                    session_type=world.session.session_type,
                    kind=SessionKind.INDIVIDUAL,
                    title=f"Check-in {days}",
                    day=today + dt.timedelta(days=days),
                    start=dt.time(14),
                    end=dt.time(15),
                    facilitator=counsellor,
                ),
                actor=counsellor,
                episodes=[episode],
            )
        )
    cancelled_session = schedule.cancel_session(made[0], actor=counsellor, reason="Staff out")
    booking = Booking.objects.get(session=made[1])
    schedule.cancel_booking(booking, actor=counsellor, reason="Asked to move it")
    return SimpleNamespace(
        episode=episode,
        marks=rows,
        booked=Booking.objects.get(session=world.appointment),
        program_cancelled=Booking.objects.get(session=cancelled_session),
        booking_cancelled=booking,
    )


# --- EpisodeOfCare ----------------------------------------------------------------------


def test_the_active_episode_maps_status_level_period_and_history(world):
    token = token_for(world)
    episode = Episode.objects.get(pk=world.active.current_episode.pk)
    [resource] = resources(get("EpisodeOfCare", token, patient=pid(world.active)))
    assert resource["id"] == pid(episode)
    assert resource["status"] == "active"
    assert resource["patient"] == {"reference": f"Patient/{pid(world.active)}"}
    assert resource["managingOrganization"] == {"display": "Harbor IOP"}
    assert resource["careManager"] == {"display": world.counsellor.display_name}
    assert resource["period"] == {"start": episode.admission_date.isoformat()}
    [level] = resource["type"]
    assert level["coding"] == [
        {
            "system": "urn:openiop:asam-level-of-care",
            "code": "3:2.1",
            "display": "2.1 Intensive Outpatient (ASAM 3rd ed.)",
        }
    ]
    # referred → screening → assessed is one planned stretch, then admitted → active.
    assert resource["statusHistory"] == [
        {
            "status": "planned",
            "period": {
                "start": episode.referral_date.isoformat(),
                "end": episode.admission_date.isoformat(),
            },
        },
        {"status": "active", "period": {"start": episode.admission_date.isoformat()}},
    ]
    # A referral not admitted: planned, its period from the referral, no level, no manager.
    [referred] = resources(get("EpisodeOfCare", token, patient=pid(world.referred)))
    ref_episode = world.referred.current_episode
    assert referred["status"] == "planned"
    assert referred["period"] == {"start": ref_episode.referral_date.isoformat()}
    assert "type" not in referred and "careManager" not in referred
    assert get(f"EpisodeOfCare/{pid(ref_episode)}", token).data["id"] == pid(ref_episode)
    foreign = world.foreign.current_episode
    assert get(f"EpisodeOfCare/{pid(foreign)}", token).status_code == 404


def _old_episode(world: Any, *, status: str = S.DISCHARGED, days_ago: int = 400) -> Episode:
    """An earlier, closed episode of world.active (direct rows: services keep one open)."""
    admission = world.program.today() - dt.timedelta(days=days_ago)
    old = Episode.objects.create(
        participant=world.active,
        program=world.program,
        status=status,
        status_date=admission + dt.timedelta(days=60),
        referral_source="self",
        referral_date=admission - dt.timedelta(days=5),
        admission_date=admission if status == S.DISCHARGED else None,
        discharge_date=admission + dt.timedelta(days=60) if status == S.DISCHARGED else None,
    )
    steps = [("", S.REFERRED, old.referral_date)]
    if status == S.DISCHARGED:
        steps += [(S.REFERRED, S.ADMITTED, admission), (S.ADMITTED, S.DISCHARGED, old.status_date)]
    else:
        steps += [(S.REFERRED, status, old.status_date)]
    for i, (a, b, day) in enumerate(steps):
        EpisodeTransition.objects.create(
            episode=old,
            from_status=a,
            to_status=b,
            effective_date=day,
            at=timezone.now() - dt.timedelta(days=500 - i),
        )
    return old


def test_episode_status_and_date_searches(world):
    token = token_for(world)
    old = _old_episode(world)
    gone = _old_episode(world, status=S.NOT_ADMITTED, days_ago=600)
    current = world.active.current_episode
    mine = {"patient": f"Patient/{pid(world.active)}"}
    [finished] = resources(get("EpisodeOfCare", token, _id=pid(old)))
    assert finished["status"] == "finished"
    assert finished["period"] == {
        "start": old.admission_date.isoformat(),
        "end": old.discharge_date.isoformat(),
    }
    assert [h["status"] for h in finished["statusHistory"]] == ["planned", "active", "finished"]
    [cancelled] = resources(get("EpisodeOfCare", token, _id=pid(gone)))
    assert cancelled["status"] == "cancelled"
    assert cancelled["period"]["end"] == gone.status_date.isoformat()
    assert ids(get("EpisodeOfCare", token, status="finished", **mine)) == {pid(old)}
    assert ids(get("EpisodeOfCare", token, status="active,cancelled", **mine)) == {
        pid(current),
        pid(gone),
    }
    assert ids(get("EpisodeOfCare", token, status="onhold", **mine)) == set()
    # `date` is the period's start: the admission date, else the referral date.
    admitted = current.admission_date
    assert ids(get("EpisodeOfCare", token, date=f"eq{admitted}", **mine)) == {pid(current)}
    before = get("EpisodeOfCare", token, date=[f"ge{old.admission_date}", f"lt{admitted}"], **mine)
    assert ids(before) == {pid(old)}
    assert ids(get("EpisodeOfCare", token, date=f"sa{admitted}", **mine)) == set()
    assert ids(get("EpisodeOfCare", token, date=f"le{gone.referral_date}", **mine)) == {pid(gone)}
    # An episode of another program (the participant moved) stays with that program.
    Episode.objects.filter(pk=old.pk).update(program=world.other_program)
    assert pid(old) not in ids(get("EpisodeOfCare", token, **mine))


@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(S.values)), st.integers(min_value=-30, max_value=60)),
        max_size=12,
    )
)
def test_status_history_is_valid_for_any_sequence_of_transitions(steps):
    day = dt.date(2026, 1, 1)
    transitions = []
    for status, delta in steps:
        day = day + dt.timedelta(days=delta)
        transitions.append(SimpleNamespace(to_status=status, effective_date=day))
    history = status_history(transitions)
    statuses = [h["status"] for h in history]
    assert all(a != b for a, b in itertools.pairwise(statuses))
    for h in history[:-1]:
        assert h["period"]["end"] >= h["period"]["start"]
    if history:
        assert "end" not in history[-1]["period"]
        assert statuses[-1] == EPISODE_STATUS[steps[-1][0]]
    validate(
        {
            "resourceType": "EpisodeOfCare",
            "status": statuses[-1] if statuses else "planned",
            "patient": {"reference": "Patient/x"},
            **({"statusHistory": history} if history else {}),
        }
    )


# --- Encounter --------------------------------------------------------------------------


def test_encounters_are_the_sessions_attended(world, story):
    token = token_for(world)
    found = {r["id"]: r for r in resources(get("Encounter", token, patient=pid(world.active)))}
    attended = {A.PRESENT, A.LATE, A.LEFT_EARLY, A.TELEHEALTH}
    assert set(found) == {pid(story.marks[s]) for s in attended}  # absences are not encounters
    present = story.marks[A.PRESENT]
    session = world.session
    encounter = found[pid(present)]
    assert encounter["status"] == "finished"
    assert encounter["class"] == {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"}
    assert encounter["subject"] == {"reference": f"Patient/{pid(world.active)}"}
    assert encounter["episodeOfCare"] == [{"reference": f"EpisodeOfCare/{pid(story.episode)}"}]
    assert encounter["appointment"] == [{"reference": f"Appointment/att-{pid(present)}"}]
    assert encounter["period"] == {
        "start": instant(session.starts_at),
        "end": instant(session.ends_at),
    }
    assert encounter["length"] == {
        "value": present.minutes_attended,
        "unit": "min",
        "system": UCUM,
        "code": "min",
    }
    assert present.minutes_attended == session.minutes == 180
    assert encounter["serviceType"]["text"] == "Process group"
    assert encounter["type"][0]["coding"][0]["code"] == "group"
    assert encounter["participant"][0]["individual"] == {"display": world.counsellor.display_name}
    assert encounter["location"] == [{"location": {"display": "Group Room"}}]
    late = found[pid(story.marks[A.LATE])]
    assert late["length"]["value"] == story.marks[A.LATE].minutes_attended == 180 - 30
    remote = found[pid(story.marks[A.TELEHEALTH])]
    assert remote["class"]["code"] == "VR" and "location" not in remote
    # The appointment it points to exists and is fulfilled.
    appointment = get(encounter["appointment"][0]["reference"], token)
    assert appointment.status_code == 200 and appointment.data["status"] == "fulfilled"
    absent = story.marks[A.ABSENT_UNEXCUSED]
    assert get(f"Encounter/{pid(absent)}", token).status_code == 404


def test_encounter_date_status_id_and_paging(world, story):
    token = token_for(world)
    mine = {"patient": f"Patient/{pid(world.active)}"}
    late = story.marks[A.LATE].session
    left = story.marks[A.LEFT_EARLY].session
    assert left.starts_at < late.starts_at
    on_day = get("Encounter", token, date=late.date.isoformat(), **mine)
    assert ids(on_day) == {pid(story.marks[A.LATE])}
    window = get(
        "Encounter",
        token,
        date=[f"ge{left.starts_at.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%SZ}", f"lt{late.date}"],
        **mine,
    )
    expected = {
        pid(m)
        for s, m in story.marks.items()
        if m.attended and left.starts_at <= m.session.starts_at and m.session.date < late.date
    }
    assert ids(window) == expected and pid(story.marks[A.LEFT_EARLY]) in expected
    assert ids(get("Encounter", token, date=f"gt{world.program.today()}", **mine)) == set()
    assert len(ids(get("Encounter", token, status="finished", **mine))) == 4
    assert ids(get("Encounter", token, status="planned", **mine)) == set()
    one = pid(story.marks[A.TELEHEALTH])
    assert ids(get("Encounter", token, _id=one)) == {one}
    seen: list[str] = []
    response = get("Encounter", token, _count=3, **mine)
    while True:
        seen += [r["id"] for r in resources(response)]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
    assert len(seen) == len(set(seen)) == response.data["total"] == 4


# --- Appointment ------------------------------------------------------------------------


def test_appointments_from_marks_and_bookings(world, story):
    token = token_for(world)
    found = {r["id"]: r for r in resources(get("Appointment", token, patient=pid(world.active)))}
    marks, m = story.marks, lambda s: found[f"att-{pid(story.marks[s])}"]
    expected_ids = {f"att-{pid(a)}" for a in marks.values()} | {
        f"bk-{pid(b)}" for b in (story.booked, story.program_cancelled, story.booking_cancelled)
    }
    assert set(found) == expected_ids
    for status in (A.PRESENT, A.LATE, A.LEFT_EARLY, A.TELEHEALTH):
        assert m(status)["status"] == "fulfilled"
    assert m(A.ABSENT_UNEXCUSED)["status"] == "noshow"
    excused = m(A.ABSENT_EXCUSED)
    assert excused["status"] == "cancelled"
    assert excused["cancelationReason"]["coding"][0]["code"] == "pat"
    assert "Sick child" not in str(excused)  # the mark's free-text note is not sent
    assert excused["participant"][0]["status"] == "declined"
    present = m(A.PRESENT)
    assert present["start"] == instant(world.session.starts_at)
    assert present["end"] == instant(world.session.ends_at)
    assert present["minutesDuration"] == 180 and present["description"] == world.session.title
    assert present["participant"][0] == {
        "actor": {"reference": f"Patient/{pid(world.active)}"},
        "required": "required",
        "status": "accepted",
    }
    assert present["participant"][1]["actor"] == {"display": world.counsellor.display_name}
    booked = found[f"bk-{pid(story.booked)}"]
    assert booked["status"] == "booked"
    assert booked["description"] == "Individual session"
    assert booked["serviceCategory"][0]["coding"][0]["code"] == "individual"
    assert booked["start"] == instant(world.appointment.starts_at)
    program_cancelled = found[f"bk-{pid(story.program_cancelled)}"]
    assert program_cancelled["status"] == "cancelled"
    assert program_cancelled["cancelationReason"]["text"] == "Staff out"
    assert found[f"bk-{pid(story.booking_cancelled)}"]["status"] == "cancelled"


def test_appointment_status_date_and_paging_across_both_sources(world, story):
    token = token_for(world)
    mine = {"patient": f"Patient/{pid(world.active)}"}
    everything = resources(get("Appointment", token, **mine))
    by_status: dict[str, set[str]] = {}
    for r in everything:
        by_status.setdefault(r["status"], set()).add(r["id"])
    assert set(by_status) == {"fulfilled", "noshow", "cancelled", "booked"}
    for code, expected in by_status.items():
        assert ids(get("Appointment", token, status=code, **mine)) == expected, code
    assert ids(get("Appointment", token, status="proposed", **mine)) == set()
    today = world.program.today()
    future = {r["id"] for r in everything if r["start"] > instant(timezone.now())}
    assert ids(get("Appointment", token, date=f"gt{today}", **mine)) == future
    assert future == {
        f"bk-{pid(b)}" for b in (story.booked, story.program_cancelled, story.booking_cancelled)
    }
    soon = world.appointment.date
    assert ids(
        get("Appointment", token, date=[f"ge{soon}", f"lt{soon + dt.timedelta(days=1)}"], **mine)
    ) == {f"bk-{pid(story.booked)}"}
    assert ids(get("Appointment", token, _id=f"bk-{pid(story.booked)},att-x", **mine)) == {
        f"bk-{pid(story.booked)}"
    }
    assert get("Appointment", token, _id=pid(story.booked)).data["total"] == 0  # no prefix
    seen: list[str] = []
    response = get("Appointment", token, _count=4, **mine)
    while True:
        seen += [r["id"] for r in resources(response)]
        nxt = [link["url"] for link in response.data["link"] if link["relation"] == "next"]
        if not nxt:
            break
        response = get(nxt[0].split("/fhir/R4/", 1)[1], token)
    assert sorted(seen) == sorted(r["id"] for r in everything) and len(seen) == 9


def test_a_marked_booking_is_served_once_and_voided_marks_not_at_all(world, story):
    token = token_for(world)
    mine = {"patient": f"Patient/{pid(world.active)}"}
    late = story.marks[A.LATE]
    Attendance.objects.filter(pk=late.pk).update(voided=True, voided_at=timezone.now())
    assert pid(late) not in ids(get("Encounter", token, **mine))
    assert f"att-{pid(late)}" not in ids(get("Appointment", token, **mine))
    assert get(f"Encounter/{pid(late)}", token).status_code == 410
    assert get(f"Appointment/att-{pid(late)}", token).status_code == 410
    # A booked appointment that gets its mark: one Appointment, from the mark.
    session = world.appointment
    Session.objects.filter(pk=session.pk).update(
        date=world.program.today(),
        starts_at=timezone.now() - dt.timedelta(hours=2),
        ends_at=timezone.now() - dt.timedelta(hours=1),
    )
    session.refresh_from_db()
    attendance.record_attendance(
        session, {story.episode.pk: attendance.Entry(A.PRESENT)}, actor=world.counsellor
    )
    mark = Attendance.objects.get(session=session, episode=story.episode)
    served = ids(get("Appointment", token, **mine))
    assert f"att-{pid(mark)}" in served and f"bk-{pid(story.booked)}" not in served
    assert get(f"Appointment/bk-{pid(story.booked)}", token).status_code == 404
    # A voided session takes its marks and bookings with it.
    Session.objects.filter(pk=session.pk).update(voided=True)
    assert f"att-{pid(mark)}" not in ids(get("Appointment", token, **mine))
    assert pid(mark) not in ids(get("Encounter", token, **mine))


def _queries(path: str, token: str, **params: Any) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = get(path, token, **params)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.data["entry"])


def test_a_page_costs_the_same_queries_for_one_or_many(world, story):
    token = token_for(world)
    _old_episode(world)
    mine = {"patient": f"Patient/{pid(world.active)}"}
    one_day = world.session.date.isoformat()
    booked = [story.booked, story.program_cancelled, story.booking_cancelled]
    cases = [
        ("EpisodeOfCare", {}, {"_id": pid(story.episode)}),
        ("Encounter", {}, {"date": one_day}),
        ("Appointment", {"status": "fulfilled"}, {"date": one_day}),  # marks only
        ("Appointment", {"_id": ",".join(f"bk-{pid(b)}" for b in booked)}, {}),  # bookings
    ]
    for rtype, common, narrow in cases:
        get(rtype, token, **mine)  # warm up (the token's last use is written once)
        many, n_many = _queries(rtype, token, **mine, **common)
        narrowed = {**common, **narrow} if narrow else {"_id": f"bk-{pid(booked[0])}"}
        few, n_few = _queries(rtype, token, **mine, **narrowed)
        assert n_few == 1 and n_many >= 2, rtype
        assert few == many, (rtype, common, few, many)


# --- outside clients --------------------------------------------------------------------


def test_an_outside_client_without_consent_sees_nothing_of_the_referral(world, story):
    add_privacy(world)  # world.active: a TPO consent for providers; world.referred: none
    token = token_for(world, kind=ClientKind.OUTSIDE, name="Mercy Hospital")
    referred = world.referred.current_episode
    episodes = ids(get("EpisodeOfCare", token))
    assert pid(story.episode) in episodes and pid(referred) not in episodes
    assert get(f"EpisodeOfCare/{pid(referred)}", token).status_code == 403
    for rtype in ("EpisodeOfCare", "Encounter", "Appointment"):
        refused = get(rtype, token, patient=f"Patient/{pid(world.referred)}")
        assert refused.status_code == 403, rtype
        assert refused.data["issue"][0]["code"] == "suppressed"
        served = resources(get(rtype, token))
        patients = {
            (r.get("patient") or r.get("subject") or r["participant"][0]["actor"])["reference"]
            for r in served
        }
        assert patients == {f"Patient/{pid(world.active)}"}, rtype
