"""The schedule's services against the database: generation with closures and daylight
saving, every kind of conflict, and rolling enrolment on tracks (issue 5, points 1–4).

Every refusal names what clashes and saves nothing."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from openiop.attendance.services import mark_all_present, roster
from openiop.core.models import AuditEvent
from openiop.participants import services as participant_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling import services
from openiop.scheduling.choices import BookingReason, SessionKind, SessionStatus
from openiop.scheduling.conflicts import Refused
from openiop.scheduling.models import Booking, Closure, Enrolment, Session, TemplateSlot
from openiop.testing import admit, build_world, make_participant

pytestmark = pytest.mark.django_db

UTC = dt.UTC


# ---------------------------------------------------------------- helpers


def morning(world):
    return world.program.tracks.get(name="Morning")


def evening(world):
    return world.program.tracks.get(name="Evening")


def group_room(world):
    return world.program.site.rooms.get(name="Group Room")


def process_group(world):
    return world.program.session_types.get(name="Process group")


def fresh_monday(world) -> dt.date:
    """A Monday after the world's generated range (today-14 … today+7) and before its
    closure (today+40): two weeks from it have no sessions yet."""
    day = world.program.today() + dt.timedelta(days=8)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def episode_of(participant):
    participant.refresh_from_db()
    return participant.current_episode


def one_off(world, day, start, end, *, title="One-off group", actor=None, episodes=None, **kw):
    kind = kw.pop("kind", SessionKind.GROUP)
    override = kw.pop("capacity_override", "")
    return services.create_session(
        services.SessionInput(
            program=world.program,
            session_type=process_group(world),
            kind=kind,
            title=title,
            day=day,
            start=dt.time(*start) if isinstance(start, tuple) else dt.time(start),
            end=dt.time(*end) if isinstance(end, tuple) else dt.time(end),
            **kw,
        ),
        actor=actor or world.director,
        episodes=episodes,
        capacity_override=override,
    )


def past_sessions(world):
    """The Morning track's sessions before today, oldest first."""
    today = world.program.today()
    return list(Session.objects.filter(track=morning(world), date__lt=today).order_by("starts_at"))


def roster_ids(session) -> set[int]:
    return {row.episode.pk for row in roster(session)}


# ---------------------------------------------------------------- 1. recurrence and closures


def test_generate_skips_closure_days(world):
    monday = fresh_monday(world)
    track = morning(world)
    services.add_closure(
        world.program,
        first_day=monday + dt.timedelta(days=1),
        last_day=monday + dt.timedelta(days=1),
        reason="Staff retreat",
        actor=world.director,
    )
    result = services.generate(track, monday, monday + dt.timedelta(days=13), actor=world.director)
    days = sorted(s.date for s in result.created)
    offsets = [(d - monday).days for d in days]
    assert offsets == [0, 3, 7, 8, 10]  # Tue of week one closed
    assert result.closed_days == [monday + dt.timedelta(days=1)]
    assert result.existing == 0
    assert not Session.objects.filter(track=track, date=monday + dt.timedelta(days=1)).exists()
    for session in result.created:
        assert session.local_start().time() == dt.time(9)
        assert session.local_end().time() == dt.time(12)
        assert session.facilitator == world.counsellor
        assert session.room == group_room(world)


def test_generate_is_idempotent_and_reports_existing(world):
    monday = fresh_monday(world)
    track = morning(world)
    last = monday + dt.timedelta(days=13)
    first_run = services.generate(track, monday, last, actor=world.director)
    assert len(first_run.created) == 6
    before = set(Session.objects.values_list("pk", flat=True))
    second = services.generate(track, monday, last, actor=world.director)
    assert second.created == []
    assert second.existing == 6
    assert set(Session.objects.values_list("pk", flat=True)) == before
    # The run is audited with what it did.
    event = AuditEvent.objects.filter(object_type="scheduling.generate").order_by("-id").first()
    assert event is not None
    assert event.changes["created"] == 0
    assert event.changes["existing"] == 6


def test_generate_never_recreates_a_cancelled_or_attended_session(world):
    track = morning(world)
    today = world.program.today()
    future = world.future_session
    services.cancel_session(future, actor=world.director, reason="Facilitator ill")
    count = Session.objects.count()
    result = services.generate(
        track, today - dt.timedelta(days=14), today + dt.timedelta(days=7), actor=world.director
    )
    assert result.created == []
    assert Session.objects.count() == count
    assert Session.objects.filter(template_slot=future.template_slot, date=future.date).count() == 1
    future.refresh_from_db()
    assert future.status == SessionStatus.CANCELLED
    # The session with attendance keeps its marks: it is the same row.
    world.session.refresh_from_db()
    assert world.session.attendance_taken_at is not None
    assert world.session.attendance.count() >= 1


def test_generate_refuses_more_than_366_days(world):
    track = morning(world)
    first = fresh_monday(world)
    count = Session.objects.count()
    with pytest.raises(services.ScheduleError, match="at most 366 days"):
        services.generate(track, first, first + dt.timedelta(days=366), actor=world.director)
    assert Session.objects.count() == count


def test_generate_accepts_exactly_366_days(world):
    """The limit is inclusive: a year of 366 days is allowed (one weekly slot, a new track)."""
    track = evening(world)
    TemplateSlot.objects.create(
        track=track,
        weekday=2,
        start_time=dt.time(18),
        end_time=dt.time(21),
        session_type=process_group(world),
    )
    first = fresh_monday(world)
    result = services.generate(track, first, first + dt.timedelta(days=365), actor=world.director)
    assert len(result.created) in (52, 53)


def test_generate_refuses_end_before_start(world):
    first = fresh_monday(world)
    with pytest.raises(services.ScheduleError, match="before the start"):
        services.generate(morning(world), first, first - dt.timedelta(days=1), actor=world.director)


def test_generate_refuses_a_track_without_template(world):
    first = fresh_monday(world)
    count = Session.objects.count()
    with pytest.raises(services.ScheduleError, match="no weekly template"):
        services.generate(evening(world), first, first + dt.timedelta(days=6), actor=world.director)
    assert Session.objects.count() == count


def test_a_retired_slot_makes_no_new_sessions(world):
    slot = world.slot  # Mondays
    slot.retired = True
    slot.save(update_fields=["retired"])
    monday = fresh_monday(world)
    result = services.generate(
        morning(world), monday, monday + dt.timedelta(days=13), actor=world.director
    )
    assert len(result.created) == 4
    assert {s.date.weekday() for s in result.created} == {1, 3}
    assert not Session.objects.filter(template_slot=slot, date__gte=monday).exists()
    # Sessions it made before are kept.
    assert Session.objects.filter(template_slot=slot, date__lt=monday).exists()


def test_add_closure_cancels_generated_sessions_but_not_attended_ones(world):
    attended, future = world.session, world.future_session
    first, last = attended.date, future.date
    to_cancel = set(
        Session.objects.filter(
            program=world.program,
            date__gte=first,
            date__lte=last,
            status=SessionStatus.SCHEDULED,
            attendance_taken_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    assert future.pk in to_cancel and attended.pk not in to_cancel
    count = Session.objects.count()
    other = Session.objects.filter(date__gt=last).exclude(status=SessionStatus.CANCELLED).count()
    closure, cancelled = services.add_closure(
        world.program, first_day=first, last_day=last, reason="Snow", actor=world.director
    )
    assert cancelled == len(to_cancel)
    assert Session.objects.count() == count  # cancelled, never deleted
    future.refresh_from_db()
    assert future.status == SessionStatus.CANCELLED
    assert future.cancel_reason == "Program closed: Snow"
    attended.refresh_from_db()
    assert attended.status == SessionStatus.SCHEDULED
    assert Session.objects.filter(date__gt=last).exclude(status="cancelled").count() == other
    assert str(closure).startswith("Snow")
    # Generating over the closed days makes nothing new.
    result = services.generate(morning(world), first, last, actor=world.director)
    assert result.created == []


@pytest.mark.parametrize(
    ("first", "last", "reason", "message"),
    [
        (0, -1, "Snow", "before the first day"),
        (0, 93, "Snow", "at most 93 days"),
        (0, 0, "   ", "Name the closure"),
    ],
)
def test_add_closure_refusals(world, first, last, reason, message):
    day = fresh_monday(world)
    count = Closure.objects.count()
    with pytest.raises(services.ScheduleError, match=message):
        services.add_closure(
            world.program,
            first_day=day + dt.timedelta(days=first),
            last_day=day + dt.timedelta(days=last),
            reason=reason,
            actor=world.director,
        )
    assert Closure.objects.count() == count


def test_remove_closure_reopens_the_days(world):
    monday = fresh_monday(world)
    tuesday = monday + dt.timedelta(days=1)
    closure, _ = services.add_closure(
        world.program, first_day=tuesday, last_day=tuesday, reason="Retreat", actor=world.director
    )
    track = morning(world)
    first = services.generate(track, monday, monday + dt.timedelta(days=6), actor=world.director)
    assert len(first.created) == 2
    services.remove_closure(closure, actor=world.director)
    closure.refresh_from_db()
    assert closure.retired
    assert Closure.objects.filter(pk=closure.pk).exists()  # retired, not deleted
    again = services.generate(track, monday, monday + dt.timedelta(days=6), actor=world.director)
    assert [s.date for s in again.created] == [tuesday]
    assert again.existing == 2
    assert again.closed_days == []
    with pytest.raises(services.ScheduleError, match="already removed"):
        services.remove_closure(closure, actor=world.director)


# ---------------------------------------------------------------- 2. daylight saving


@pytest.fixture
def winter_world(db):
    """The world built in January 2026: its sessions end well before March."""
    with time_machine.travel(dt.datetime(2026, 1, 14, 17, tzinfo=UTC)):
        yield build_world()


@pytest.mark.parametrize(
    ("first", "utc_before", "utc_after", "change"),
    [
        # 2026-03-08: clocks go forward (EST UTC−5 → EDT UTC−4).
        (dt.date(2026, 3, 2), 14, 13, dt.date(2026, 3, 8)),
        # 2026-11-01: clocks go back (EDT UTC−4 → EST UTC−5).
        (dt.date(2026, 10, 26), 13, 14, dt.date(2026, 11, 1)),
    ],
)
def test_sessions_stay_at_nine_across_daylight_saving(
    winter_world, first, utc_before, utc_after, change
):
    world = winter_world
    result = services.generate(
        morning(world), first, first + dt.timedelta(days=11), actor=world.director
    )
    sessions = sorted(result.created, key=lambda s: s.starts_at)
    assert len(sessions) == 6
    before = [s for s in sessions if s.date < change]
    after = [s for s in sessions if s.date > change]
    assert len(before) == 3 and len(after) == 3
    for session in sessions:
        session.refresh_from_db()
        assert session.local_start().hour == 9 and session.local_start().minute == 0
        assert session.local_end().hour == 12
        assert session.local_start().date() == session.date
        assert session.minutes == 180
    assert {s.starts_at.astimezone(UTC).hour for s in before} == {utc_before}
    assert {s.starts_at.astimezone(UTC).hour for s in after} == {utc_after}


# ---------------------------------------------------------------- 3. conflicts


def test_facilitator_double_booked_is_refused_and_named(world):
    busy = world.future_session  # the counsellor, 09:00–12:00
    count = Session.objects.count()
    with pytest.raises(Refused) as refused:
        one_off(world, busy.date, 10, 11, title="Extra group", facilitator=world.counsellor)
    assert [c.kind for c in refused.value.conflicts] == ["facilitator"]
    message = refused.value.conflicts[0].message
    assert world.counsellor.display_name in message
    assert f"“{busy.title}”" in message and "09:00–12:00" in message
    assert Session.objects.count() == count


def test_room_double_booked_is_refused_and_named(world):
    busy = world.future_session
    count = Session.objects.count()
    with pytest.raises(Refused) as refused:
        one_off(world, busy.date, 11, 13, facilitator=world.director, room=group_room(world))
    assert [c.kind for c in refused.value.conflicts] == ["room"]
    assert "Room Group Room is already booked" in refused.value.conflicts[0].message
    assert busy.title in refused.value.conflicts[0].message
    assert Session.objects.count() == count


def test_participant_double_booked_by_an_appointment_is_refused(world):
    busy = world.future_session  # world.active is enrolled on the Morning track
    active = episode_of(world.active)
    count, bookings = Session.objects.count(), Booking.objects.count()
    with pytest.raises(Refused) as refused:
        one_off(
            world,
            busy.date,
            (11, 30),
            (12, 30),
            kind=SessionKind.INDIVIDUAL,
            title="Individual session",
            facilitator=world.director,
            episodes=[active],
        )
    assert [c.kind for c in refused.value.conflicts] == ["participant"]
    message = refused.value.conflicts[0].message
    assert world.active.display_name in message and busy.title in message
    assert Session.objects.count() == count
    assert Booking.objects.count() == bookings


def test_booking_into_an_overlapping_session_is_refused(world):
    busy = world.future_session
    extra = one_off(world, busy.date, 10, 11, title="Family group", facilitator=world.director)
    active = episode_of(world.active)
    with pytest.raises(Refused) as refused:
        services.book(extra, active, reason=BookingReason.EXTRA, actor=world.counsellor)
    assert [c.kind for c in refused.value.conflicts] == ["participant"]
    assert world.active.display_name in refused.value.conflicts[0].message
    assert not Booking.objects.filter(session=extra).exists()


def test_generation_clashing_with_one_off_sessions_is_refused_with_every_clash(world):
    monday = fresh_monday(world)
    one_off(world, monday, 10, 11, title="Staff huddle", facilitator=world.counsellor)
    one_off(
        world,
        monday + dt.timedelta(days=1),
        (8, 30),
        (9, 30),
        title="Case review",
        facilitator=world.counsellor,
    )
    one_off(
        world,
        monday + dt.timedelta(days=3),
        (11, 30),
        (13, 0),
        title="Family night",
        facilitator=world.director,
        room=group_room(world),
    )
    count = Session.objects.count()
    with pytest.raises(Refused) as refused:
        services.generate(
            morning(world), monday, monday + dt.timedelta(days=6), actor=world.director
        )
    conflicts = refused.value.conflicts
    assert sorted(c.kind for c in conflicts) == ["facilitator", "facilitator", "room"]
    text = " ".join(c.message for c in conflicts)
    for title in ("Staff huddle", "Case review", "Family night"):
        assert title in text
    assert Session.objects.count() == count  # nothing half-made
    assert not Session.objects.filter(track=morning(world), date__gte=monday).exists()


def test_capacity_refused_without_reason_and_accepted_with_one(world):
    day = world.future_session.date
    small = one_off(world, day, 13, 14, title="Small group", facilitator=world.director, capacity=1)
    first = episode_of(world.active)
    booking = services.book(
        small, first, reason=BookingReason.EXTRA, actor=world.counsellor, capacity_override="x"
    )
    assert booking.capacity_override == ""  # not past capacity: no override kept
    second = episode_of(
        make_participant(
            world.program, world.intake, last="Second", status=S.ACTIVE, counsellor=world.counsellor
        )
    )
    with pytest.raises(Refused) as refused:
        services.book(small, second, reason=BookingReason.EXTRA, actor=world.counsellor)
    assert [c.kind for c in refused.value.conflicts] == ["capacity"]
    assert "is full" in refused.value.conflicts[0].message
    assert "capacity 1" in refused.value.conflicts[0].message
    assert not Booking.objects.filter(session=small, episode=second).exists()
    over = services.book(
        small,
        second,
        reason=BookingReason.EXTRA,
        actor=world.counsellor,
        capacity_override="  Sponsor came with them  ",
    )
    over.refresh_from_db()
    assert over.capacity_override == "Sponsor came with them"
    event = AuditEvent.objects.get(object_type="scheduling.booking", object_id=str(over.pk))
    assert event.reason == "Sponsor came with them"


def test_capacity_of_a_new_appointment_counts_its_participants(world):
    day = world.future_session.date
    second = episode_of(
        make_participant(
            world.program, world.intake, last="Second", status=S.ACTIVE, counsellor=world.counsellor
        )
    )
    episodes = [episode_of(world.active), second]
    with pytest.raises(Refused) as refused:
        one_off(
            world,
            day,
            13,
            14,
            kind=SessionKind.FAMILY,
            facilitator=world.director,
            capacity=1,
            episodes=episodes,
        )
    assert [c.kind for c in refused.value.conflicts] == ["capacity"]
    session = one_off(
        world,
        day,
        13,
        14,
        kind=SessionKind.FAMILY,
        facilitator=world.director,
        capacity=1,
        episodes=episodes,
        capacity_override="Both parents",
    )
    assert set(session.bookings.values_list("capacity_override", flat=True)) == {"Both parents"}


def test_back_to_back_sessions_are_not_conflicts(world):
    busy = world.future_session  # 09:00–12:00, the counsellor, the Group Room
    after = one_off(
        world, busy.date, 12, 13, facilitator=world.counsellor, room=group_room(world), title="B"
    )
    before = one_off(
        world, busy.date, 8, 9, facilitator=world.counsellor, room=group_room(world), title="A"
    )
    assert after.starts_at == busy.ends_at
    assert before.ends_at == busy.starts_at
    # The participant at the 09:00 group may be booked into the 12:00 one.
    booking = services.book(
        after, episode_of(world.active), reason=BookingReason.EXTRA, actor=world.counsellor
    )
    assert booking.pk


def test_cancelled_sessions_do_not_conflict(world):
    busy = world.future_session
    services.cancel_session(busy, actor=world.director, reason="Facilitator ill")
    replacement = one_off(
        world,
        busy.date,
        9,
        12,
        title="Replacement group",
        facilitator=world.counsellor,
        room=group_room(world),
    )
    booking = services.book(
        replacement, episode_of(world.active), reason=BookingReason.EXTRA, actor=world.counsellor
    )
    assert booking.session == replacement


def test_cancel_session_needs_a_reason_and_happens_once(world):
    busy = world.future_session
    with pytest.raises(services.ScheduleError, match="Say why"):
        services.cancel_session(busy, actor=world.director, reason="  ")
    services.cancel_session(busy, actor=world.director, reason="Snow")
    with pytest.raises(services.ScheduleError, match="already cancelled"):
        services.cancel_session(busy, actor=world.director, reason="Snow")
    with pytest.raises(services.ScheduleError, match="Attendance was taken"):
        services.cancel_session(world.session, actor=world.director, reason="Snow")


def test_booking_someone_from_another_program_is_refused(world):
    foreign = episode_of(world.foreign)
    extra = one_off(world, world.future_session.date, 13, 14, facilitator=world.director)
    with pytest.raises(services.ScheduleError, match="another program"):
        services.book(extra, foreign, reason=BookingReason.EXTRA, actor=world.director)


def test_set_topic_refuses_a_topic_of_another_program(world):
    session = world.future_session
    foreign_topic = world.other_program.topics.first()
    with pytest.raises(services.ScheduleError, match="another program"):
        services.set_topic(
            session, foreign_topic, actor=world.counsellor, expected_version=session.version
        )


# ---------------------------------------------------------------- 4. rolling enrolment


def test_admission_enrols_on_the_track_from_the_admission_date(world):
    day = world.session.date
    earlier = [s for s in past_sessions(world) if s.date < day][-1]
    count = Session.objects.count()
    admit(world.assessed, world.counsellor, day=day, counsellor=world.counsellor)
    episode = episode_of(world.assessed)
    enrolment = Enrolment.objects.get(episode=episode)
    assert enrolment.track == morning(world)
    assert enrolment.start_date == day == episode.admission_date
    assert enrolment.end_date is None
    assert episode.pk in roster_ids(world.session)
    assert episode.pk in roster_ids(world.future_session)
    assert episode.pk not in roster_ids(earlier)
    assert Session.objects.count() == count


def test_track_change_ends_the_old_enrolment_and_keeps_history(world):
    track, other = morning(world), evening(world)
    TemplateSlot.objects.create(
        track=other,
        weekday=2,
        start_time=dt.time(18),
        end_time=dt.time(21),
        session_type=process_group(world),
    )
    today = world.program.today()
    services.generate(
        other, today - dt.timedelta(days=14), today + dt.timedelta(days=14), actor=world.director
    )
    sessions_before = set(Session.objects.values_list("pk", flat=True))
    episode = episode_of(world.active)
    old = Enrolment.objects.get(episode=episode, end_date=None)
    participant_services.update_episode(
        episode,
        actor=world.counsellor,
        changes={"track": other},
        care_team=None,
        expected_version=episode.version,
        effective_date=today,
    )
    enrolments = list(Enrolment.objects.filter(episode=episode).order_by("start_date", "pk"))
    assert len(enrolments) == 2
    old.refresh_from_db()
    assert old.track == track
    assert old.end_date == today - dt.timedelta(days=1)
    assert old.ended_by == world.counsellor
    new = enrolments[-1]
    assert (new.track, new.start_date, new.end_date) == (other, today, None)
    # Earlier Morning sessions (no marks there) still list the participant; later ones don't.
    unmarked = past_sessions(world)[0]
    assert not unmarked.attendance.exists()
    assert episode.pk in roster_ids(unmarked)
    assert episode.pk not in roster_ids(world.future_session)
    evening_sessions = Session.objects.filter(track=other).order_by("date")
    assert evening_sessions.exists()
    for session in evening_sessions:
        assert (episode.pk in roster_ids(session)) == (session.date >= today)
    # No session was created or deleted by the roster change.
    assert set(Session.objects.values_list("pk", flat=True)) == sessions_before


def test_discharge_ends_the_enrolment_on_the_discharge_date(world):
    past = past_sessions(world)
    last_day, after = past[-3], past[-2]  # neither has marks
    count = Session.objects.count()
    episode = episode_of(world.active)
    participant_services.transition_episode(
        episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=last_day.date,
        reason="Completed the program",
    )
    enrolment = Enrolment.objects.get(episode=episode)
    assert enrolment.end_date == last_day.date
    assert enrolment.ended_at is not None
    assert episode.pk in roster_ids(last_day)  # the discharge day itself is covered
    assert episode.pk not in roster_ids(after)
    assert episode.pk not in roster_ids(world.future_session)
    assert Session.objects.count() == count


def test_roster_changes_never_touch_sessions(world):
    """Admitting, changing track and discharging: the Session rows stay exactly the same."""
    before = list(Session.objects.order_by("pk").values_list("pk", "status", "version"))
    newcomer = make_participant(
        world.program, world.intake, last="Newcomer", status=S.ACTIVE, counsellor=world.counsellor
    )
    episode = episode_of(newcomer)
    episode = participant_services.update_episode(
        episode,
        actor=world.counsellor,
        changes={"track": evening(world)},
        care_team=None,
        expected_version=episode.version,
        effective_date=world.program.today(),
    )
    participant_services.transition_episode(
        episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=world.program.today(),
        reason="Moved away",
    )
    assert list(Session.objects.order_by("pk").values_list("pk", "status", "version")) == before
    assert Enrolment.objects.filter(episode=episode, end_date=None).count() == 0


def test_mark_all_present_uses_the_enrolled_roster(world):
    """The roster comes from enrolment on the session's day, not from the session."""
    session = past_sessions(world)[0]
    count = mark_all_present(session, actor=world.counsellor)
    assert count == 1  # world.active is the only one enrolled on the Morning track
    assert session.attendance.get().episode_id == episode_of(world.active).pk
