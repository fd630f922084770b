"""The psychoeducation curriculum (issue 5, point 8): topics rotate through a track's
curriculum sessions in order, each session records its topic, and each participant's
chart shows topics attended, remaining and missed, with the make-up at the topic's next
run or individual work instead."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from openiop.attendance import services as attendance
from openiop.attendance.chart_sections import curriculum_context
from openiop.scheduling import services as schedule
from openiop.scheduling.choices import BookingReason
from openiop.scheduling.models import Session, TemplateSlot


def topics(world):
    program = world.program
    return [
        program.topics.get(title=t)
        for t in ("Understanding addiction", "Coping with cravings", "Relapse prevention")
    ]


def rotation(track, **filters):
    return list(
        Session.objects.filter(track=track, from_curriculum=True, **filters)
        .order_by("starts_at")
        .values_list("topic__title", flat=True)
    )


def test_topics_rotate_in_order_and_a_later_generation_continues_the_cycle(world):
    track = world.program.tracks.get(name="Morning")
    titles = [t.title for t in topics(world)]
    first = rotation(track)
    assert len(first) >= 6
    start = titles.index(first[0])
    assert first == [titles[(start + i) % 3] for i in range(len(first))]
    today = world.program.today()
    schedule.generate(
        track, today + dt.timedelta(days=8), today + dt.timedelta(days=28), actor=world.director
    )
    everything = rotation(track)
    assert everything[: len(first)] == first  # nothing made before was changed
    assert everything == [titles[(start + i) % 3] for i in range(len(everything))]


def evening_with_template(world):
    evening = world.program.tracks.get(name="Evening")
    for weekday in evening.days:
        TemplateSlot.objects.create(
            track=evening,
            weekday=weekday,
            start_time=dt.time(18),
            end_time=dt.time(21),
            session_type=world.program.session_types.get(name="Process group"),
            facilitator=world.supervisor,
            room=world.program.site.rooms.get(name="Group Room"),
            uses_curriculum=True,
        )
    return evening


def test_a_track_follows_its_own_order_and_leaves_out_topics_not_in_it(world):
    evening = evening_with_template(world)
    first, _second, third = topics(world)
    schedule.set_curriculum(evening, [third, first], actor=world.director)
    today = world.program.today()
    schedule.generate(evening, today, today + dt.timedelta(days=20), actor=world.director)
    got = rotation(evening)
    assert len(got) >= 6
    assert got == [
        ["Relapse prevention", "Understanding addiction"][i % 2] for i in range(len(got))
    ]


def test_a_closure_day_has_no_session_and_does_not_skip_a_topic(world):
    evening = evening_with_template(world)
    today = world.program.today()
    closed = today + dt.timedelta(days=1)
    while closed.weekday() not in evening.days:
        closed += dt.timedelta(days=1)
    schedule.add_closure(
        world.program, first_day=closed, last_day=closed, reason="Holiday", actor=world.director
    )
    schedule.generate(evening, today, today + dt.timedelta(days=20), actor=world.director)
    assert not Session.objects.filter(track=evening, date=closed).exists()
    titles = [t.title for t in topics(world)]
    got = rotation(evening)
    start = titles.index(got[0])
    assert got == [titles[(start + i) % 3] for i in range(len(got))]


def test_a_topic_with_the_wrong_program_cannot_join_a_curriculum(world):
    track = world.program.tracks.get(name="Morning")
    foreign = world.other_program.topics.first()
    with pytest.raises(schedule.ScheduleError, match="track's program"):
        schedule.set_curriculum(track, [foreign], actor=world.director)
    first = topics(world)[0]
    with pytest.raises(schedule.ScheduleError, match="only once"):
        schedule.set_curriculum(track, [first, first], actor=world.director)


def chart(world):
    request = SimpleNamespace(user=world.counsellor)
    world.active.refresh_from_db()
    context = curriculum_context(request, world.active)  # type: ignore[arg-type]
    assert context is not None
    return {row["topic"].title: row for row in context["rows"]}, context


def test_the_chart_shows_attended_missed_and_remaining_topics_with_the_make_up(world):
    program, counsellor = world.program, world.counsellor
    episode = world.active.current_episode
    today = program.today()
    attended_topic = world.session.topic.title
    # Absent from an earlier session whose topic they never attended elsewhere.
    earlier = (
        Session.objects.filter(track=world.session.track, date__lt=world.session.date)
        .exclude(topic__title=attended_topic)
        .order_by("-starts_at")
        .first()
    )
    attendance.record_attendance(
        earlier,
        {episode.pk: attendance.Entry("absent_unexcused")},
        actor=counsellor,
    )
    missed_topic = earlier.topic.title
    rows, context = chart(world)
    assert rows[attended_topic]["state"] == "done"
    assert rows[attended_topic]["attended_on"] == world.session.date
    assert rows[missed_topic]["state"] == "missed"
    assert rows[missed_topic]["missed_on"] == earlier.date
    # The make-up: the topic's next scheduled run, on their own track.
    next_run = rows[missed_topic]["next_run"]
    assert next_run is not None and next_run.date >= today
    assert next_run.topic.title == missed_topic
    assert rows[missed_topic]["same_track"] is True
    remaining = [t for t, r in rows.items() if r["state"] == "remaining"]
    assert remaining == [t for t in rows if t not in (attended_topic, missed_topic)]
    assert context["done"] == 1 and context["total"] == 3

    # Individual work instead: assigned, then done, the topic counts as covered.
    topic = program.topics.get(title=missed_topic)
    assignment = schedule.assign_topic(episode, topic, actor=counsellor, today=today)
    with pytest.raises(schedule.ScheduleError, match="already assigned"):
        schedule.assign_topic(episode, topic, actor=counsellor, today=today)
    rows, _ = chart(world)
    assert rows[missed_topic]["state"] == "missed"
    assert rows[missed_topic]["assignment"].pk == assignment.pk
    schedule.complete_assignment(assignment, actor=counsellor, day=today)
    rows, context = chart(world)
    assert rows[missed_topic]["state"] == "done_individually"
    assert context["done"] == 2


def test_a_make_up_on_another_track_puts_them_on_that_roster(world):
    evening = evening_with_template(world)
    today = world.program.today()
    schedule.generate(
        evening, today + dt.timedelta(days=1), today + dt.timedelta(days=14), actor=world.director
    )
    session = Session.objects.filter(track=evening).order_by("starts_at").first()
    episode = world.active.current_episode
    before = [r.episode.pk for r in attendance.roster(session)]
    assert episode.pk not in before
    schedule.book(session, episode, reason=BookingReason.MAKE_UP, actor=world.counsellor)
    rows = attendance.roster(session)
    mine = next(r for r in rows if r.episode.pk == episode.pk)
    assert mine.booked == "Make-up of a missed topic"
