"""Attendance, hours against the weekly minimum and check-ins through the services
(issue 5, points 5, 6 and 8). Every refusal says why and saves nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from openiop.attendance import services
from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.forms import CheckInForm
from openiop.attendance.hours import engagement_for
from openiop.attendance.models import Attendance, CheckIn, EngagementAlert
from openiop.attendance.rules import CheckInValues, week_start
from openiop.core.models import AuditEvent
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling import services as schedule
from openiop.scheduling.choices import BookingReason
from openiop.scheduling.models import Booking, Session
from openiop.testing import admit, make_participant

pytestmark = pytest.mark.django_db


def morning(world):
    return world.program.tracks.get(name="Morning")


def episode_of(participant):
    participant.refresh_from_db()
    return participant.current_episode


def quiet_session(world) -> Session:
    """The Morning track's oldest past session: on everyone's roster, no marks yet."""
    session = (
        Session.objects.filter(track=morning(world), date__lt=world.program.today())
        .order_by("starts_at")
        .first()
    )
    assert session is not None and not session.attendance.exists()
    return session


def newcomer(world, last: str, **kw):
    return make_participant(
        world.program,
        world.intake,
        last=last,
        status=kw.pop("status", S.ACTIVE),
        counsellor=world.counsellor,
        **kw,
    )


@pytest.fixture
def group(world):
    """Eleven more active participants on the Morning track: a roster of twelve."""
    episodes = [episode_of(world.active)]
    for n in range(11):
        episodes.append(episode_of(newcomer(world, f"Member{n:02d}")))
    return episodes


def entries(**by_episode: services.Entry) -> dict[int, services.Entry]:
    return {int(k.removeprefix("e")): v for k, v in by_episode.items()}


# ---------------------------------------------------------------- 5. attendance


def test_mark_all_present_marks_the_whole_roster(world, group):
    session = quiet_session(world)
    rows = services.roster(session)
    assert {r.episode.pk for r in rows} == {e.pk for e in group}
    assert len(rows) == 12
    marked = services.mark_all_present(session, actor=world.counsellor)
    assert marked == 12
    marks = list(Attendance.objects.filter(session=session))
    assert len(marks) == 12
    assert {m.status for m in marks} == {A.PRESENT}
    assert {m.minutes_attended for m in marks} == {session.minutes} == {180}
    assert {m.minutes_missed for m in marks} == {0}
    session.refresh_from_db()
    assert session.attendance_taken_at is not None
    assert session.attendance_taken_by == world.counsellor
    created = AuditEvent.objects.filter(
        object_type="attendance.attendance", action="create", object_id__in=[m.pk for m in marks]
    )
    assert created.count() == 12
    # Marks already made are kept: a second press marks nobody.
    assert services.mark_all_present(session, actor=world.counsellor) == 0


def test_record_attendance_late_and_absent_after_all_present(world, group):
    session = quiet_session(world)
    services.mark_all_present(session, actor=world.counsellor)
    late, absent = group[1], group[2]
    changed = services.record_attendance(
        session,
        {
            late.pk: services.Entry(A.LATE, 25, "Bus was late"),
            absent.pk: services.Entry(A.ABSENT_UNEXCUSED),
            group[3].pk: services.Entry(A.PRESENT),  # unchanged
        },
        actor=world.counsellor,
    )
    assert changed == 2
    late_mark = Attendance.objects.get(session=session, episode=late)
    assert (late_mark.status, late_mark.minutes_missed, late_mark.minutes_attended) == (
        A.LATE,
        25,
        155,
    )
    assert late_mark.note == "Bus was late"
    assert late_mark.version == 2
    absent_mark = Attendance.objects.get(session=session, episode=absent)
    assert (absent_mark.status, absent_mark.minutes_attended) == (A.ABSENT_UNEXCUSED, 0)
    # Each change is audited with what changed.
    event = AuditEvent.objects.get(
        object_type="attendance.attendance", action="change", object_id=str(late_mark.pk)
    )
    assert event.changes["status"] == [A.PRESENT, A.LATE]
    assert event.changes["minutes_attended"] == [180, 155]
    assert event.actor == world.counsellor
    assert AuditEvent.objects.filter(
        object_type="attendance.attendance", action="change", object_id=str(absent_mark.pk)
    ).exists()
    assert not AuditEvent.objects.filter(
        object_type="attendance.attendance",
        action="change",
        object_id=str(Attendance.objects.get(session=session, episode=group[3]).pk),
    ).exists()


@pytest.mark.parametrize("status", [A.LATE, A.LEFT_EARLY])
def test_late_or_left_early_without_minutes_is_refused(world, group, status):
    session = quiet_session(world)
    with pytest.raises(services.AttendanceError, match="how many minutes"):
        services.record_attendance(
            session,
            {group[0].pk: services.Entry(A.PRESENT), group[1].pk: services.Entry(status, 0)},
            actor=world.counsellor,
        )
    assert not Attendance.objects.filter(session=session).exists()  # all or nothing


@pytest.mark.parametrize("minutes", [180, 181, 5000])
def test_minutes_of_the_whole_session_or_more_are_refused(world, group, minutes):
    session = quiet_session(world)
    with pytest.raises(services.AttendanceError, match="mark absent") as refused:
        services.record_attendance(
            session, {group[1].pk: services.Entry(A.LATE, minutes)}, actor=world.counsellor
        )
    assert group[1].participant.display_name in str(refused.value)
    assert not Attendance.objects.filter(session=session).exists()


def test_unknown_status_is_refused(world, group):
    session = quiet_session(world)
    with pytest.raises(services.AttendanceError, match="not an attendance mark"):
        services.record_attendance(
            session,
            {group[0].pk: services.Entry(A.PRESENT), group[1].pk: services.Entry("asleep")},
            actor=world.counsellor,
        )
    assert not Attendance.objects.filter(session=session).exists()


def test_someone_not_on_the_roster_is_refused(world, group):
    session = quiet_session(world)
    outsider = episode_of(world.foreign)
    with pytest.raises(services.AttendanceError, match="not on this session's roster"):
        services.record_attendance(
            session,
            {group[0].pk: services.Entry(A.PRESENT), outsider.pk: services.Entry(A.PRESENT)},
            actor=world.counsellor,
        )
    assert not Attendance.objects.filter(session=session).exists()


def test_future_session_is_refused(world):
    future = world.future_session
    with pytest.raises(services.AttendanceError, match="can be taken from that day"):
        services.mark_all_present(future, actor=world.counsellor)
    with pytest.raises(services.AttendanceError, match="can be taken from that day"):
        services.record_attendance(
            future,
            {episode_of(world.active).pk: services.Entry(A.PRESENT)},
            actor=world.counsellor,
        )
    assert not Attendance.objects.filter(session=future).exists()
    future.refresh_from_db()
    assert future.attendance_taken_at is None


def test_cancelled_session_is_refused(world):
    session = quiet_session(world)
    schedule.cancel_session(session, actor=world.director, reason="Power cut")
    with pytest.raises(services.AttendanceError, match="cancelled"):
        services.mark_all_present(session, actor=world.counsellor)
    with pytest.raises(services.AttendanceError, match="cancelled"):
        services.record_attendance(
            session,
            {episode_of(world.active).pk: services.Entry(A.PRESENT)},
            actor=world.counsellor,
        )
    assert not Attendance.objects.filter(session=session).exists()


def test_walk_in_is_added_present_with_a_booking(world):
    session = quiet_session(world)
    admit(
        world.assessed,
        world.counsellor,
        day=world.program.today(),
        counsellor=world.counsellor,
        track_name="Evening",
    )
    walker = episode_of(world.assessed)
    assert walker.pk not in {r.episode.pk for r in services.roster(session)}
    mark = services.add_walk_in(session, walker, actor=world.counsellor)
    assert (mark.status, mark.walk_in, mark.minutes_attended) == (A.PRESENT, True, 180)
    booking = Booking.objects.get(session=session, episode=walker)
    assert booking.reason == BookingReason.WALK_IN
    row = next(r for r in services.roster(session) if r.episode.pk == walker.pk)
    assert row.walk_in and row.attendance == mark and row.booked == "Walk-in"
    session.refresh_from_db()
    assert session.attendance_taken_at is not None
    assert AuditEvent.objects.filter(
        object_type="attendance.attendance", object_id=str(mark.pk), action="create"
    ).exists()
    # Someone already on the roster is not a walk-in.
    with pytest.raises(schedule.ScheduleError, match="already expected"):
        services.add_walk_in(session, episode_of(world.active), actor=world.counsellor)


# ---------------------------------------------------------------- 6. hours per week


def test_hours_per_week_prorated_for_joining_mid_week_and_a_closure(world):
    """Two weeks before the world's sessions: joined on the first Tuesday (2 of 3 track
    days owed), and the second week's Thursday closed (2 of 3 again)."""
    program, track = world.program, morning(world)
    week1 = week_start(program.today()) - dt.timedelta(weeks=4)
    week2 = week1 + dt.timedelta(weeks=1)
    thursday2 = week2 + dt.timedelta(days=3)
    schedule.add_closure(
        program, first_day=thursday2, last_day=thursday2, reason="Holiday", actor=world.director
    )
    schedule.generate(track, week1, week2 + dt.timedelta(days=6), actor=world.director)
    # Admitted on the first Tuesday: make_participant admits two days after the referral.
    tuesday1 = week1 + dt.timedelta(days=1)
    joiner = episode_of(newcomer(world, "Joiner", days_ago=(program.today() - tuesday1).days + 2))
    assert joiner.admission_date == tuesday1

    def at(day):
        return Session.objects.get(track=track, date=day)

    marks = [
        (at(tuesday1), services.Entry(A.PRESENT)),
        (at(week1 + dt.timedelta(days=3)), services.Entry(A.LATE, 30)),
        (at(week2), services.Entry(A.PRESENT)),
        (at(week2 + dt.timedelta(days=1)), services.Entry(A.ABSENT_EXCUSED)),
    ]
    for session, entry in marks:
        services.record_attendance(session, {joiner.pk: entry}, actor=world.counsellor)

    sunday2 = week2 + dt.timedelta(days=6)
    info = engagement_for([joiner], sunday2, weeks=2)[joiner.pk]
    assert [w.week for w in info.weeks] == [week1, week2]
    assert [w.minutes for w in info.weeks] == [330, 180]
    assert [w.required_minutes for w in info.weeks] == [360, 360]  # 9 h * 2/3
    assert [w.below for w in info.weeks] == [True, True]
    assert (info.this_week, info.required_this_week) == (180, 360)
    assert info.this_week_hours == Decimal("3.0")
    assert info.required_hours == Decimal("6.0")
    assert info.rate == Decimal("0.750")  # 3 attended of 4 marked
    assert info.absences_in_a_row == 1

    # Without the closure the second week owes the full 9 hours.
    closure = program.closures.get(first_day=thursday2)
    schedule.remove_closure(closure, actor=world.director)
    info = engagement_for([joiner], sunday2, weeks=2)[joiner.pk]
    assert [w.required_minutes for w in info.weeks] == [360, 540]


def test_hours_for_a_full_week_meet_the_minimum(world, group):
    """Three 3-hour sessions in a full week: 9 h against a 9 h minimum, not below."""
    today = world.program.today()
    last_monday = week_start(today) - dt.timedelta(weeks=1)
    member = group[1]
    sessions = Session.objects.filter(
        track=morning(world), date__gte=last_monday, date__lt=last_monday + dt.timedelta(days=7)
    )
    assert sessions.count() == 3
    for session in sessions:
        services.record_attendance(
            session, {member.pk: services.Entry(A.PRESENT)}, actor=world.counsellor
        )
    info = engagement_for([member], today, weeks=2)[member.pk]
    last = info.weeks[0]
    assert last.week == last_monday
    assert (last.minutes, last.required_minutes, last.below) == (540, 540, False)
    assert info.rate == Decimal("1.000")


# ---------------------------------------------------------------- 8. check-ins


def values(**kw) -> CheckInValues:
    base = {
        "mood": 6,
        "craving": 2,
        "used": False,
        "substances": "",
        "stress": 4,
        "sleep_hours": Decimal("7.5"),
    }
    base.update(kw)
    return CheckInValues(**base)


def form_data(**kw) -> dict[str, str]:
    base = {
        "mood": "6",
        "craving": "2",
        "used": "no",
        "substances": "",
        "stress": "4",
        "sleep_hours": "7.5",
        "note": "",
    }
    base.update(kw)
    return base


def test_a_valid_check_in_is_saved_without_alert(world):
    episode = episode_of(world.active)
    alerts = EngagementAlert.objects.count()
    check_in = services.record_check_in(episode, values(), actor=world.counsellor, note=" ok ")
    check_in.refresh_from_db()
    assert (check_in.mood, check_in.craving, check_in.used, check_in.stress) == (6, 2, False, 4)
    assert check_in.sleep_hours == Decimal("7.5")
    assert check_in.note == "ok"
    assert check_in.day == world.program.today()
    assert EngagementAlert.objects.count() == alerts
    assert AuditEvent.objects.filter(
        object_type="attendance.checkin", object_id=str(check_in.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mood": 0}, "Mood"),
        ({"mood": 11}, "Mood"),
        ({"craving": -1}, "Craving"),
        ({"craving": 11}, "Craving"),
        ({"stress": 11}, "Stress"),
        ({"sleep_hours": Decimal("25")}, "Hours slept"),
        ({"sleep_hours": Decimal("-1")}, "Hours slept"),
        ({"sleep_hours": Decimal("7.25")}, "one decimal"),
        ({"used": True, "substances": "  "}, "Say what was used"),
        ({"used": False, "substances": "alcohol"}, "Leave what was used empty"),
        ({"mood": None}, "Answer mood"),
    ],
)
def test_check_in_service_refuses_out_of_range_values(world, changes, message):
    episode = episode_of(world.active)
    count = CheckIn.objects.count()
    with pytest.raises(services.AttendanceError, match=message):
        services.record_check_in(episode, values(**changes), actor=world.counsellor)
    assert CheckIn.objects.count() == count


def test_check_in_is_for_participants_in_care(world):
    episode = episode_of(world.referred)
    with pytest.raises(services.AttendanceError, match="in care"):
        services.record_check_in(episode, values(), actor=world.counsellor)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mood": "0"}, "mood"),
        ({"mood": "11"}, "mood"),
        ({"craving": "11"}, "craving"),
        ({"craving": "-1"}, "craving"),
        ({"stress": "12"}, "stress"),
        ({"sleep_hours": "25"}, "sleep_hours"),
        ({"sleep_hours": "-0.5"}, "sleep_hours"),
        ({"sleep_hours": "7.25"}, "sleep_hours"),
        ({"sleep_hours": "lots"}, "sleep_hours"),
        ({"used": "maybe"}, "used"),
        ({"used": "yes"}, "substances"),
        ({"used": "no", "substances": "cannabis"}, "substances"),
        ({"mood": ""}, "mood"),
    ],
)
def test_check_in_form_reports_out_of_range_values(changes, field):
    form = CheckInForm(data=form_data(**changes))
    assert not form.is_valid()
    assert field in form.errors


def test_check_in_form_accepts_the_edges():
    form = CheckInForm(
        data=form_data(mood="10", craving="0", stress="10", sleep_hours="24", used="yes")
        | {"substances": "alcohol"}
    )
    assert form.is_valid(), form.errors
    assert form.values() == CheckInValues(10, 0, True, "alcohol", 10, Decimal("24"))
