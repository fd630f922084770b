"""Alumni follow-ups and events: the rules, scheduling from a discharge, attempts and
closing, the job that gives up on follow-ups tried and long overdue, events and
attendance."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from openiop.alumni import services
from openiop.alumni.choices import FOLLOW_UP_DAYS, FollowUpStatus
from openiop.alumni.models import AlumniAttendance, FollowUp, FollowUpAttempt
from openiop.core.models import AuditEvent
from openiop.core.records import StaleEdit
from openiop.discharge import hooks
from openiop.testing import add_discharged, make_discharged

pytestmark = pytest.mark.django_db

REACHED = {
    "use_since_discharge": "none",
    "days_used_past_30": None,
    "occupation": "full_time",
    "housing": "stable",
    "readmitted": False,
    "readmitted_where": "",
    "quality_of_life": 8,
    "in_aftercare": True,
    "notes": "Doing well; goes to SMART meetings.",
}


# --- the rules (no database) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"use_since_discharge": ""}, "use_since_discharge"),
        ({"use_since_discharge": "bogus"}, "use_since_discharge"),
        ({"use_since_discharge": "relapse", "days_used_past_30": None}, "days_used_past_30"),
        ({"use_since_discharge": "lapse", "days_used_past_30": 0}, "days_used_past_30"),
        ({"use_since_discharge": "relapse", "days_used_past_30": 31}, "days_used_past_30"),
        ({"use_since_discharge": "relapse", "days_used_past_30": -1}, "days_used_past_30"),
        ({"use_since_discharge": "none", "days_used_past_30": 3}, "days_used_past_30"),
        ({"occupation": ""}, "occupation"),
        ({"housing": ""}, "housing"),
        ({"readmitted": None}, "readmitted"),
        ({"readmitted": True, "readmitted_where": "  "}, "readmitted_where"),
        ({"quality_of_life": None}, "quality_of_life"),
        ({"quality_of_life": 11}, "quality_of_life"),
        ({"quality_of_life": -1}, "quality_of_life"),
    ],
)
def test_outcome_rules(changes, field):
    assert field in services.outcome_problems({**REACHED, **changes})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"use_since_discharge": "none", "days_used_past_30": 0},
        {"use_since_discharge": "lapse", "days_used_past_30": 1},
        {"use_since_discharge": "relapse", "days_used_past_30": 30},
        {"use_since_discharge": "declined", "days_used_past_30": None},
        {"quality_of_life": 0},
        {"quality_of_life": 10},
        {"readmitted": True, "readmitted_where": "Harbor residential"},
        {"in_aftercare": None},
    ],
)
def test_outcomes_that_are_fine(changes):
    assert services.outcome_problems({**REACHED, **changes}) == {}


def test_no_use_means_zero_days_and_no_treatment_means_no_place():
    cleaned = services.clean_outcomes(
        {**REACHED, "days_used_past_30": None, "readmitted_where": "somewhere"}
    )
    assert cleaned["days_used_past_30"] == 0
    assert cleaned["readmitted_where"] == ""


@pytest.mark.parametrize(
    ("status", "attempts", "note", "ok"),
    [
        (FollowUpStatus.NOT_REACHED, 0, "", False),
        (FollowUpStatus.NOT_REACHED, 1, "", True),
        (FollowUpStatus.DECLINED, 0, "", False),
        (FollowUpStatus.DECLINED, 0, "Said no thanks at discharge", True),
        (FollowUpStatus.CANCELLED, 3, " ", False),
        (FollowUpStatus.CANCELLED, 0, "Readmitted here", True),
        (FollowUpStatus.REACHED, 1, "x", False),
        (FollowUpStatus.PENDING, 1, "x", False),
        ("bogus", 1, "x", False),
    ],
)
def test_close_rules(status, attempts, note, ok):
    assert (services.close_problems(status, attempts=attempts, note=note) == "") is ok


def test_due_dates_and_who_gets_follow_ups():
    day = dt.date(2026, 1, 31)
    assert services.due_dates(day) == [
        (30, dt.date(2026, 3, 2)),
        (60, dt.date(2026, 4, 1)),
        (90, dt.date(2026, 5, 1)),
        (180, dt.date(2026, 7, 30)),
        (365, dt.date(2027, 1, 31)),
    ]
    assert services.wants_follow_ups("completed")
    assert services.wants_follow_ups("against_advice")
    assert not services.wants_follow_ups("died")


# --- scheduling ------------------------------------------------------------------------------


def test_a_discharge_gets_its_follow_ups_assigned_to_the_counsellor(world):
    discharge = make_discharged(world, last="Kent", days_ago=10)
    rows = list(FollowUp.objects.filter(discharge=discharge).order_by("day_mark"))
    assert [r.day_mark for r in rows] == list(FOLLOW_UP_DAYS)
    assert [r.due_date for r in rows] == [
        d for _m, d in services.due_dates(discharge.discharge_date)
    ]
    assert {r.assigned_to_id for r in rows} == {world.counsellor.pk}
    assert {r.status for r in rows} == {FollowUpStatus.PENDING}
    assert {r.program_id for r in rows} == {world.program.pk}
    assert AuditEvent.objects.filter(
        action="create", object_type="alumni.followup", participant_id=discharge.participant_id
    ).count() == len(FOLLOW_UP_DAYS)


def test_scheduling_is_idempotent(world):
    discharge = make_discharged(world, last="Kent", days_ago=10)
    FollowUp.objects.filter(discharge=discharge, day_mark=365).delete()
    assert [f.day_mark for f in services.schedule_follow_ups(discharge, world.counsellor)] == [365]
    assert services.schedule_follow_ups(discharge, world.counsellor) == []
    assert FollowUp.objects.filter(discharge=discharge).count() == len(FOLLOW_UP_DAYS)


def test_nobody_calls_after_a_death(world):
    discharge = make_discharged(world, last="Kent", days_ago=10, reason="died")
    assert not FollowUp.objects.filter(discharge=discharge).exists()


def test_the_alumni_app_listens_to_discharges(world):
    assert services.schedule_follow_ups in hooks._HOOKS
    discharge = make_discharged(world, last="Kent", days_ago=10)
    FollowUp.objects.filter(discharge=discharge).delete()
    hooks.discharged(discharge, actor=world.counsellor)
    assert FollowUp.objects.filter(discharge=discharge).count() == len(FOLLOW_UP_DAYS)


# --- attempts and closing --------------------------------------------------------------------


def test_an_attempt_without_reaching_keeps_the_follow_up_open(world):
    add_discharged(world)
    item = world.follow_up
    after = services.log_attempt(
        item,
        actor=world.counsellor,
        method="phone",
        reached=False,
        note="Voicemail",
        expected_version=item.version,
    )
    assert after.status == FollowUpStatus.PENDING
    assert after.version == item.version + 1
    attempt = FollowUpAttempt.objects.get(follow_up=item)
    assert (attempt.reached, attempt.note, attempt.by_id) == (
        False,
        "Voicemail",
        world.counsellor.pk,
    )
    assert AuditEvent.objects.filter(
        action="create", object_type="alumni.followupattempt", participant_id=item.participant_id
    ).exists()


def test_reaching_records_the_outcomes_and_closes(world):
    add_discharged(world)
    item = world.follow_up
    after = services.log_attempt(
        item,
        actor=world.counsellor,
        method="phone",
        reached=True,
        outcomes={**REACHED, "days_used_past_30": None},
        expected_version=item.version,
    )
    after.refresh_from_db()
    assert after.status == FollowUpStatus.REACHED
    assert after.days_used_past_30 == 0
    assert after.quality_of_life == 8
    assert after.readmitted is False
    assert after.completed_by_id == world.counsellor.pk
    assert after.completed_at is not None
    event = AuditEvent.objects.filter(action="change", object_type="alumni.followup").latest("id")
    assert event.changes["status"] == ["pending", "reached"]


def test_reached_without_outcomes_is_refused_and_changes_nothing(world):
    add_discharged(world)
    item = world.follow_up
    with pytest.raises(services.FollowUpError, match="quality of life"):
        services.log_attempt(
            item,
            actor=world.counsellor,
            method="phone",
            reached=True,
            outcomes={**REACHED, "quality_of_life": None},
            expected_version=item.version,
        )
    assert not FollowUpAttempt.objects.filter(follow_up=item).exists()
    item.refresh_from_db()
    assert item.status == FollowUpStatus.PENDING


def test_a_stale_version_and_a_closed_follow_up_are_refused(world):
    add_discharged(world)
    item = world.follow_up
    with pytest.raises(StaleEdit):
        services.log_attempt(
            item, actor=world.counsellor, method="phone", reached=False, expected_version=99
        )
    services.log_attempt(
        item,
        actor=world.counsellor,
        method="phone",
        reached=True,
        outcomes=REACHED,
        expected_version=item.version,
    )
    item.refresh_from_db()
    with pytest.raises(services.FollowUpError, match="already closed"):
        services.log_attempt(
            item,
            actor=world.counsellor,
            method="phone",
            reached=False,
            expected_version=item.version,
        )


def test_closing_as_not_reached_needs_an_attempt(world):
    add_discharged(world)
    item = world.follow_up
    with pytest.raises(services.FollowUpError, match="at least one attempt"):
        services.close_follow_up(
            item,
            actor=world.counsellor,
            status=FollowUpStatus.NOT_REACHED,
            note="",
            expected_version=item.version,
        )
    item = services.log_attempt(
        item, actor=world.counsellor, method="text", reached=False, expected_version=item.version
    )
    item = services.close_follow_up(
        item,
        actor=world.counsellor,
        status=FollowUpStatus.NOT_REACHED,
        note="",
        expected_version=item.version,
    )
    assert item.status == FollowUpStatus.NOT_REACHED


def test_cancelling_keeps_the_reason(world):
    add_discharged(world)
    item = world.follow_up
    item = services.close_follow_up(
        item,
        actor=world.counsellor,
        status=FollowUpStatus.CANCELLED,
        note="Readmitted to our program",
        expected_version=item.version,
    )
    assert item.status == FollowUpStatus.CANCELLED
    assert "Readmitted" in item.notes
    event = AuditEvent.objects.filter(action="change", object_type="alumni.followup").latest("id")
    assert event.reason == "Readmitted to our program"


# --- the job ---------------------------------------------------------------------------------


def test_the_job_closes_only_follow_ups_tried_and_30_days_overdue(world):
    add_discharged(world)
    tried, untried = world.follow_up, world.later_follow_up
    services.log_attempt(
        tried, actor=world.counsellor, method="phone", reached=False, expected_version=1
    )
    recent = world.due_follow_up
    services.log_attempt(
        recent, actor=world.counsellor, method="phone", reached=False, expected_version=1
    )
    # 30 days after the 30-day follow-up was due: not yet (the day itself counts).
    day = tried.due_date + dt.timedelta(days=services.GIVE_UP_AFTER_DAYS - 1)
    assert services.close_overdue(day) == 0
    day = tried.due_date + dt.timedelta(days=services.GIVE_UP_AFTER_DAYS)
    assert untried.due_date <= day  # due too, but never tried
    assert services.close_overdue(day) == 1
    tried.refresh_from_db()
    untried.refresh_from_db()
    recent.refresh_from_db()
    assert tried.status == FollowUpStatus.NOT_REACHED
    assert tried.completed_by_name == "Closed automatically"
    assert untried.status == FollowUpStatus.PENDING  # never tried: stays overdue
    assert recent.status == FollowUpStatus.PENDING  # tried, but not 30 days overdue
    # Idempotent.
    assert services.close_overdue(day) == 0


def test_the_job_is_registered():
    from openiop.alumni import jobs
    from openiop.core.worker import REGISTRY

    assert REGISTRY["alumni.close_overdue_follow_ups"].func is jobs.close_overdue_follow_ups
    assert "closed" in jobs.close_overdue_follow_ups("2026-01-01")


# --- events and attendance -------------------------------------------------------------------


def event_values(world, **changes):
    tz = world.program.tz
    day = world.program.today() + dt.timedelta(days=3)
    return {
        "title": "Alumni potluck",
        "starts_at": dt.datetime.combine(day, dt.time(18), tzinfo=tz),
        "ends_at": dt.datetime.combine(day, dt.time(20), tzinfo=tz),
        "location": "Hall",
        "description": "",
        "facilitator": world.counsellor,
        **changes,
    }


def test_an_event_is_created_and_cancelled_with_a_reason(world):
    event = services.create_event(world.program, actor=world.director, values=event_values(world))
    assert event.title == "Alumni potluck"
    with pytest.raises(services.EventError):
        services.cancel_event(event, actor=world.director, reason=" ")
    event = services.cancel_event(event, actor=world.director, reason="Snow")
    assert event.cancelled
    with pytest.raises(services.EventError, match="already"):
        services.cancel_event(event, actor=world.director, reason="Again")


def test_an_event_ends_after_it_starts(world):
    values = event_values(world)
    values["ends_at"] = values["starts_at"]
    with pytest.raises(services.EventError, match="end after"):
        services.create_event(world.program, actor=world.director, values=values)


def test_attendance_is_for_alumni_of_the_program_once_per_event(world):
    add_discharged(world)
    event = world.alumni_event
    eligible = services.eligible_alumni(event)
    names = {p.legal_last_name for p in eligible}
    assert names == {"Alumnus", "Alumna"}  # not the active participant, not another program
    assert services.record_attendance(
        event, [world.alumnus], actor=world.counsellor, eligible=eligible
    ) == (1, 0)
    # Again: nothing new (a participant is listed once per event).
    assert services.record_attendance(
        event, [world.alumnus], actor=world.counsellor, eligible=eligible
    ) == (0, 0)
    assert AlumniAttendance.objects.filter(event=event).count() == 1
    # Unticked: marked absent, kept.
    assert services.record_attendance(event, [], actor=world.counsellor, eligible=eligible) == (
        0,
        1,
    )
    row = AlumniAttendance.objects.get(event=event)
    assert row.attended is False
    with pytest.raises(services.EventError, match="discharged"):
        services.record_attendance(event, [world.active], actor=world.counsellor, eligible=eligible)


def test_no_attendance_before_the_day_or_for_a_cancelled_event(world):
    add_discharged(world)
    future = services.create_event(world.program, actor=world.director, values=event_values(world))
    eligible = services.eligible_alumni(future)
    with pytest.raises(services.EventError, match="day of the event"):
        services.record_attendance(future, [], actor=world.counsellor, eligible=eligible)
    services.cancel_event(future, actor=world.director, reason="Snow")
    future.refresh_from_db()
    with pytest.raises(services.EventError, match="cancelled"):
        services.record_attendance(future, [], actor=world.counsellor, eligible=eligible)


def test_an_event_people_came_to_cannot_be_cancelled(world):
    add_discharged(world)
    event = world.alumni_event
    services.record_attendance(
        event,
        [world.alumnus],
        actor=world.counsellor,
        eligible=services.eligible_alumni(event),
    )
    with pytest.raises(services.EventError, match="People came"):
        services.cancel_event(event, actor=world.director, reason="Oops")


def test_days_overdue(world):
    add_discharged(world)
    today = timezone.localdate()
    assert services.days_overdue(world.follow_up, today) == 5
    assert services.days_overdue(world.later_follow_up, today) == 0
