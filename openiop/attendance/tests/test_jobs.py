"""The engagement-alert rules (issue 5, point 7): absences in a row, a finished week below
the hour minimum, reported use and high craving at check-in, and answering an alert."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from openiop.attendance import services
from openiop.attendance.choices import AlertKind
from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.jobs import raise_engagement_alerts
from openiop.attendance.models import EngagementAlert
from openiop.attendance.rules import CheckInValues, week_start
from openiop.core.models import AuditEvent
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling.models import Session
from openiop.testing import make_participant

pytestmark = pytest.mark.django_db


def episode_of(participant):
    participant.refresh_from_db()
    return participant.current_episode


def member(world, last="Member"):
    """An active participant on the Morning track since long before the world's sessions,
    with no attendance marks."""
    return episode_of(
        make_participant(
            world.program,
            world.intake,
            last=last,
            status=S.ACTIVE,
            counsellor=world.counsellor,
            days_ago=60,
        )
    )


def past_sessions(world) -> list[Session]:
    track = world.program.tracks.get(name="Morning")
    return list(
        Session.objects.filter(track=track, date__lt=world.program.today()).order_by("starts_at")
    )


def mark(session, episode, status, actor, minutes=0):
    services.record_attendance(session, {episode.pk: services.Entry(status, minutes)}, actor=actor)


def alerts(episode, kind):
    return list(EngagementAlert.objects.filter(episode=episode, kind=kind))


def run():
    return raise_engagement_alerts(now=timezone.now())


# ---------------------------------------------------------------- absences


def test_two_absences_in_a_row_raise_one_alert(world):
    episode = member(world)
    past = past_sessions(world)
    assert len(past) >= 5
    mark(past[0], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    assert run() >= 0
    assert alerts(episode, AlertKind.ABSENCES) == []  # one absence is not a run
    mark(past[1], episode, A.ABSENT_EXCUSED, world.counsellor)
    run()
    [alert] = alerts(episode, AlertKind.ABSENCES)
    assert alert.key == f"run-{past[0].starts_at:%Y%m%dT%H%M}"
    assert alert.message.startswith("2 absences in a row")
    assert alert.participant_id == episode.participant_id
    assert alert.resolved_at is None
    assert AuditEvent.objects.filter(
        object_type="attendance.engagementalert", object_id=str(alert.pk), action="create"
    ).exists()
    # Idempotent: a second run raises nothing at all.
    assert run() == 0
    assert len(alerts(episode, AlertKind.ABSENCES)) == 1
    # A third absence in the same run does not add another alert.
    mark(past[2], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    assert run() == 0
    assert len(alerts(episode, AlertKind.ABSENCES)) == 1


def test_a_new_run_of_absences_raises_a_new_alert(world):
    episode = member(world)
    past = past_sessions(world)
    mark(past[0], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    mark(past[1], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    run()
    mark(past[2], episode, A.PRESENT, world.counsellor)
    mark(past[3], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    mark(past[4], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    run()
    keys = sorted(a.key for a in alerts(episode, AlertKind.ABSENCES))
    assert keys == sorted(
        [f"run-{past[0].starts_at:%Y%m%dT%H%M}", f"run-{past[3].starts_at:%Y%m%dT%H%M}"]
    )


def test_attendance_ends_the_run(world):
    episode = member(world)
    past = past_sessions(world)
    mark(past[0], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    mark(past[1], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    mark(past[2], episode, A.LATE, world.counsellor, minutes=10)
    run()
    assert alerts(episode, AlertKind.ABSENCES) == []


def test_program_threshold_of_three_does_not_alert_at_two(world):
    world.program.absence_alert_after = 3
    world.program.save(update_fields=["absence_alert_after"])
    episode = member(world)
    past = past_sessions(world)
    mark(past[0], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    mark(past[1], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    run()
    assert alerts(episode, AlertKind.ABSENCES) == []
    mark(past[2], episode, A.ABSENT_UNEXCUSED, world.counsellor)
    run()
    [alert] = alerts(episode, AlertKind.ABSENCES)
    assert alert.message.startswith("3 absences in a row (alert after 3)")


# ---------------------------------------------------------------- below the minimum


def test_a_finished_week_below_the_minimum_alerts_once(world):
    today = world.program.today()
    last_monday = week_start(today) - dt.timedelta(weeks=1)
    short, full = member(world, "Short"), member(world, "Full")
    last_week = [s for s in past_sessions(world) if last_monday <= s.date < week_start(today)]
    assert len(last_week) == 3
    for session in last_week:
        mark(session, full, A.PRESENT, world.counsellor)
    mark(last_week[0], short, A.PRESENT, world.counsellor)
    raised = run()
    [alert] = alerts(short, AlertKind.BELOW_MINIMUM)
    assert alert.key == f"week-{last_monday}"
    assert "3.0 h attended, minimum 9.0 h" in alert.message
    assert alerts(full, AlertKind.BELOW_MINIMUM) == []
    assert raised >= 1
    assert run() == 0
    assert len(alerts(short, AlertKind.BELOW_MINIMUM)) == 1


def test_no_below_minimum_alerts_when_the_program_turns_them_off(world):
    world.program.below_minimum_alerts = False
    world.program.save(update_fields=["below_minimum_alerts"])
    member(world)  # attended nothing last week
    run()
    assert not EngagementAlert.objects.filter(
        episode__program=world.program, kind=AlertKind.BELOW_MINIMUM
    ).exists()


# ---------------------------------------------------------------- check-ins


def check_in(world, episode, **kw):
    values = {
        "mood": 5,
        "craving": 2,
        "used": False,
        "substances": "",
        "stress": 3,
        "sleep_hours": Decimal("7"),
    }
    values.update(kw)
    return services.record_check_in(episode, CheckInValues(**values), actor=world.counsellor)


def test_check_in_with_reported_use_alerts(world):
    episode = member(world)
    saved = check_in(world, episode, used=True, substances="cannabis")
    [alert] = alerts(episode, AlertKind.REPORTED_USE)
    assert alert.key == f"checkin-{saved.pk}"
    assert "cannabis" in alert.message
    assert alerts(episode, AlertKind.HIGH_CRAVING) == []


@pytest.mark.parametrize(
    ("threshold", "craving", "alerted"),
    [(7, 7, True), (7, 6, False), (4, 4, True), (4, 3, False), (7, 10, True)],
)
def test_craving_at_the_threshold_alerts(world, threshold, craving, alerted):
    world.program.craving_alert_at = threshold
    world.program.save(update_fields=["craving_alert_at"])
    episode = member(world)
    check_in(world, episode, craving=craving)
    found = alerts(episode, AlertKind.HIGH_CRAVING)
    assert bool(found) is alerted
    if alerted:
        assert found[0].message == f"Craving {craving}/10 (alert threshold {threshold})."
    assert alerts(episode, AlertKind.REPORTED_USE) == []


# ---------------------------------------------------------------- answering an alert


def test_resolve_alert_requires_a_note_and_happens_once(world):
    alert = world.engagement_alert
    for blank in ("", "   "):
        with pytest.raises(services.AttendanceError, match="Say what was done"):
            services.resolve_alert(alert, actor=world.counsellor, note=blank)
    alert.refresh_from_db()
    assert alert.resolved_at is None
    resolved = services.resolve_alert(alert, actor=world.counsellor, note=" Called; plan set ")
    assert resolved.resolved_by == world.counsellor
    assert resolved.resolution == "Called; plan set"
    event = AuditEvent.objects.get(
        object_type="attendance.engagementalert", object_id=str(alert.pk), action="change"
    )
    assert event.reason == "Called; plan set"
    with pytest.raises(services.AttendanceError, match="already answered"):
        services.resolve_alert(alert, actor=world.director, note="Again")
    alert.refresh_from_db()
    assert alert.resolved_by == world.counsellor
