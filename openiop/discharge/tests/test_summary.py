"""The facts of the summary on hand-made data: known hours, screens, scores, goals."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.discharge import summary
from openiop.discharge.models import AftercarePlan, AftercareReferral, Discharge
from openiop.testing import give, make_signed_plan

from .conftest import attend, diagnose, past_sessions, screen

pytestmark = pytest.mark.django_db


def fake_discharge(world, participant, **changes):
    today = world.program.today()
    values = {
        "episode": participant.current_episode,
        "participant": participant,
        "program": world.program,
        "discharge_date": today,
        "last_contact_date": today,
        "reason": "completed",
        "level_at_discharge": "3:2.1",
    }
    values.update(changes)
    return Discharge(**values)


def test_attendance_hours_and_sessions(world, leaver):
    sessions = past_sessions(world, 6)
    attend(
        leaver,
        sessions,
        [
            ("present", 180),
            ("late", 150),
            ("telehealth", 180),
            ("left_early", 90),
            ("absent_excused", 0),
            ("absent_unexcused", 0),
        ],
    )
    facts = summary.attendance_facts(leaver.current_episode)
    assert facts == {
        "sessions_attended": 4,
        "sessions_missed": 2,
        "sessions_excused": 1,
        "hours_attended": "10.0",  # 600 minutes
        "attendance_pct": 67,
    }
    assert summary.last_attended_day(leaver.current_episode) == sessions[3].date


def test_no_attendance(world, leaver):
    facts = summary.attendance_facts(leaver.current_episode)
    assert facts["hours_attended"] == "0.0" and facts["attendance_pct"] is None
    assert summary.last_attended_day(leaver.current_episode) is None


def test_screens_negative_and_unexpected(world, leaver):
    for _ in range(3):
        screen(world, leaver)
    screen(world, leaver, unexpected=True)
    screen(world, leaver, validity="dilute")
    screen(world, leaver, status="refused")
    screen(world, leaver, status="open")  # not a screen yet
    assert summary.screen_facts(leaver.current_episode) == {
        "screens": 5,
        "negative": 3,
        "unexpected_positive": 1,
        "invalid": 1,
        "refused": 1,
        "no_show": 0,
    }


def test_instruments_first_last_change_and_reliable_change(world, leaver):
    today = world.program.today()
    give(
        leaver, world.counsellor, "PHQ-9", [2, 2, 2, 2, 2, 2, 2, 2, 0], day=today - dt.timedelta(20)
    )
    give(
        leaver, world.counsellor, "PHQ-9", [1, 1, 1, 1, 1, 1, 1, 1, 0], day=today - dt.timedelta(10)
    )
    give(leaver, world.counsellor, "PHQ-9", [1, 1, 0, 0, 0, 0, 0, 0, 0], day=today)
    give(leaver, world.counsellor, "GAD-7", [2, 2, 2, 1, 1, 1, 1], day=today - dt.timedelta(20))
    give(leaver, world.counsellor, "GAD-7", [2, 2, 1, 1, 1, 1, 1], day=today)
    rows = {r["code"]: r for r in summary.instrument_facts(leaver.current_episode)}
    phq = rows["PHQ-9"]
    assert (phq["first"], phq["last"], phq["change"], phq["times"]) == (16, 2, -14, 3)
    assert phq["verdict"] == "Reliable improvement"
    gad = rows["GAD-7"]
    assert (gad["first"], gad["last"], gad["change"]) == (10, 9, -1)
    assert gad["verdict"] == "No reliable change"


def test_goals_of_the_latest_signed_plan(world, leaver):
    make_signed_plan(leaver, world.counsellor)
    facts = summary.plan_facts(leaver.current_episode)
    assert facts["number"] == 1
    assert [(g["text"], g["status"]) for g in facts["goals"]] == [
        ("Get through a work week without using.", "active")
    ]


def test_assemble_has_every_section(world, leaver):
    diagnose(leaver)
    plan = AftercarePlan.objects.create(episode=leaver.current_episode, participant=leaver)
    AftercareReferral.objects.create(
        plan=plan, kind="therapy", provider="Dr Lee", responsible="participant"
    )
    record = fake_discharge(world, leaver)
    facts = summary.assemble(leaver.current_episode, record)
    assert facts["dates"]["length_of_stay_days"] == 28
    assert facts["discharge"]["teds_reason"] == 1
    assert facts["diagnoses"] == [
        {"code": "F10.20", "description": "Alcohol dependence, uncomplicated", "primary": True}
    ]
    assert facts["aftercare"][0]["provider"] == "Dr Lee"
    assert facts["plan"] is None
    text = summary.prefilled_text(leaver.current_episode, facts)
    assert text["recommendations"] == "Outpatient therapy: Dr Lee"


def test_open_items_are_warnings(world, leaver):
    assert summary.open_items(leaver.current_episode) == ["No aftercare plan has been started."]
    screen(world, leaver, status="open")
    AftercarePlan.objects.create(episode=leaver.current_episode, participant=leaver)
    assert summary.open_items(leaver.current_episode) == [
        "The aftercare plan has not been given to the participant yet.",
        "1 drug-screen order still to collect.",
    ]


def test_open_items_count_unsigned_notes(world):
    # world.active has a draft note (add_notes).
    items = summary.open_items(world.active.current_episode)
    assert any("unsigned note" in i for i in items)


def test_the_facts_take_a_fixed_number_of_queries(world, leaver, django_assert_max_num_queries):
    sessions = past_sessions(world, 4)
    attend(leaver, sessions, [("present", 180)] * 4)
    for _ in range(4):
        screen(world, leaver)
    make_signed_plan(leaver, world.counsellor)
    record = fake_discharge(world, leaver)
    with django_assert_max_num_queries(8):
        summary.assemble(leaver.current_episode, record)
