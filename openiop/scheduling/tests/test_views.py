"""The schedule's pages with bad input (issue 5, point 10): a form error answers 400, a
refusal of the current state 409 with the reason on the page, never a 500; and the
calendar's day view and filters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.programs.models import Room
from openiop.scheduling import services
from openiop.scheduling.choices import SessionStatus
from openiop.scheduling.models import (
    Booking,
    Closure,
    CurriculumItem,
    FeedToken,
    Session,
    TemplateSlot,
)

pytestmark = pytest.mark.django_db


def morning(world):
    return world.program.tracks.get(name="Morning")


def group_room(world):
    return world.program.site.rooms.get(name="Group Room")


def process_group(world):
    return world.program.session_types.get(name="Process group")


def fresh_monday(world) -> dt.date:
    day = world.program.today() + dt.timedelta(days=8)
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def session_ids(response) -> set[int]:
    return {e["session"].pk for d in response.context["days"] for e in d["sessions"]}


# ---------------------------------------------------------------- weekly template


def slot_data(world, **changes):
    data = {
        "weekday": "0",
        "start_time": "13:00",
        "end_time": "14:00",
        "session_type": str(process_group(world).pk),
        "title": "Skills group",
        "facilitator": str(world.counsellor.pk),
        "room": str(group_room(world).pk),
        "modality": "in_person",
        "join_link": "",
        "capacity": "",
        "topic": "",
        "uses_curriculum": "",
    }
    data.update(changes)
    return data


def test_template_slot_form_accepts_a_good_line(world, login):
    client = login(world.director)
    url = reverse("scheduling:template", args=[morning(world).pk])
    response = client.post(url, slot_data(world))
    assert response.status_code == 302
    assert TemplateSlot.objects.filter(track=morning(world), title="Skills group").exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_time": "12:30"}, "The end time must be after the start time."),
        ({"end_time": "13:00"}, "The end time must be after the start time."),
        ({"weekday": "2"}, "The track meets on"),  # Wednesday: not a Morning day
        ({"weekday": "9"}, "Select a valid choice"),
        ({"modality": "telehealth", "room": ""}, "need a join link"),
        ({"modality": "in_person", "room": ""}, "need a room"),
        ({"capacity": "13"}, "Room Group Room holds 12"),
        ({"capacity": "0"}, "greater than or equal to 1"),
        ({"start_time": "25:00"}, "Enter a valid time"),
        ({"topic": "1", "uses_curriculum": "on"}, ""),
        ({"session_type": "999999"}, "Select a valid choice"),
    ],
)
def test_template_slot_form_errors_answer_400(world, login, changes, message):
    if changes.get("topic") == "1":
        changes["topic"] = str(world.program.topics.first().pk)
        message = "not both"
    client = login(world.director)
    count = TemplateSlot.objects.count()
    response = client.post(
        reverse("scheduling:template", args=[morning(world).pk]), slot_data(world, **changes)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert TemplateSlot.objects.count() == count


def test_retire_slot_needs_a_post(world, login):
    client = login(world.director)
    url = reverse("scheduling:retire_slot", args=[morning(world).pk, world.slot.pk])
    assert client.get(url).status_code == 200
    world.slot.refresh_from_db()
    assert not world.slot.retired
    assert client.post(url).status_code == 302
    world.slot.refresh_from_db()
    assert world.slot.retired


# ---------------------------------------------------------------- generate


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        ("garbage", "2026-01-01", "Enter a valid date"),
        ("", "", "This field is required"),
        ("2026-13-40", "2026-12-01", "Enter a valid date"),
        ("2026-03-10", "2026-03-01", "The end date is before the start date."),
        ("2026-01-01", "2027-01-02", "at most a year"),
    ],
)
def test_generate_bad_dates_answer_400(world, login, first, last, message):
    client = login(world.director)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:generate", args=[morning(world).pk]), {"first": first, "last": last}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Session.objects.count() == count


def test_generate_conflict_answers_409_naming_it(world, login):
    monday = fresh_monday(world)
    services.create_session(
        services.SessionInput(
            program=world.program,
            session_type=process_group(world),
            kind="group",
            title="Staff huddle",
            day=monday,
            start=dt.time(10),
            end=dt.time(11),
            facilitator=world.counsellor,
        ),
        actor=world.director,
    )
    client = login(world.director)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:generate", args=[morning(world).pk]),
        {"first": monday.isoformat(), "last": (monday + dt.timedelta(days=6)).isoformat()},
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Nothing was created" in page
    assert "already facilitates “Staff huddle”" in page
    assert Session.objects.count() == count


def test_generate_without_template_answers_409(world, login):
    client = login(world.director)
    monday = fresh_monday(world)
    response = client.post(
        reverse("scheduling:generate", args=[world.program.tracks.get(name="Evening").pk]),
        {"first": monday.isoformat(), "last": (monday + dt.timedelta(days=6)).isoformat()},
    )
    assert response.status_code == 409
    assert "no weekly template" in response.content.decode()


def test_generate_good_range_redirects_to_the_calendar(world, login):
    client = login(world.director)
    monday = fresh_monday(world)
    response = client.post(
        reverse("scheduling:generate", args=[morning(world).pk]),
        {"first": monday.isoformat(), "last": (monday + dt.timedelta(days=6)).isoformat()},
    )
    assert response.status_code == 302
    assert Session.objects.filter(track=morning(world), date__gte=monday).count() == 3


# ---------------------------------------------------------------- closures


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "Snow", "first_day": "2026-03-10", "last_day": "2026-03-09"}, "before the"),
        ({"reason": "Snow", "first_day": "2026-01-01", "last_day": "2026-04-04"}, "at most 93"),
        ({"reason": "", "first_day": "2026-03-10", "last_day": ""}, "This field is required"),
        ({"reason": "Snow", "first_day": "soon", "last_day": ""}, "Enter a valid date"),
        ({"reason": "x" * 121, "first_day": "2026-03-10", "last_day": ""}, "at most 120"),
    ],
)
def test_closure_form_errors_answer_400(world, login, data, message):
    client = login(world.director)
    count = Closure.objects.count()
    response = client.post(reverse("scheduling:closures", args=[world.program.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Closure.objects.count() == count


def test_blank_closure_reason_of_spaces_answers_400(world, login):
    client = login(world.director)
    count = Closure.objects.count()
    response = client.post(
        reverse("scheduling:closures", args=[world.program.pk]),
        {"reason": "    ", "first_day": "2026-03-10", "last_day": ""},
    )
    assert response.status_code == 400
    assert Closure.objects.count() == count


def test_closure_of_93_days_is_accepted(world, login):
    client = login(world.director)
    first = fresh_monday(world) + dt.timedelta(days=200)
    response = client.post(
        reverse("scheduling:closures", args=[world.program.pk]),
        {
            "reason": "Renovation",
            "first_day": first.isoformat(),
            "last_day": (first + dt.timedelta(days=92)).isoformat(),
        },
    )
    assert response.status_code == 302
    assert Closure.objects.filter(reason="Renovation").exists()


def test_removing_a_closure_twice_answers_409(world, login):
    client = login(world.director)
    url = reverse("scheduling:remove_closure", args=[world.closure.pk])
    assert client.post(url).status_code == 302
    response = client.post(url)
    assert response.status_code == 409
    assert "already removed" in response.content.decode()


# ---------------------------------------------------------------- curriculum


@pytest.mark.parametrize("value", ["-1", "0", "abc", "1.5", "501", "9" * 30])
def test_curriculum_bad_positions_answer_400(world, login, value):
    client = login(world.director)
    topics = list(world.program.topics.all())
    data = {f"topic_{t.pk}": str(n) for n, t in enumerate(topics, 1)}
    data[f"topic_{topics[0].pk}"] = value
    response = client.post(reverse("scheduling:curriculum", args=[morning(world).pk]), data)
    assert response.status_code == 400
    assert not CurriculumItem.objects.filter(track=morning(world)).exists()


def test_curriculum_order_is_saved(world, login):
    client = login(world.director)
    topics = list(world.program.topics.order_by("sequence"))
    data = {f"topic_{t.pk}": str(len(topics) - n) for n, t in enumerate(topics)}
    response = client.post(reverse("scheduling:curriculum", args=[morning(world).pk]), data)
    assert response.status_code == 302
    assert services.curriculum_for(morning(world)) == topics[::-1]


# ---------------------------------------------------------------- one-off sessions


def session_data(world, **changes):
    day = world.future_session.date
    data = {
        "program": str(world.program.pk),
        "kind": "individual",
        "episode": str(world.active.current_episode_id),
        "session_type": str(process_group(world).pk),
        "title": "",
        "day": day.isoformat(),
        "start": "16:00",
        "end": "17:00",
        "facilitator": str(world.counsellor.pk),
        "room": str(group_room(world).pk),
        "modality": "in_person",
        "join_link": "",
        "capacity": "",
        "capacity_override": "",
    }
    data.update(changes)
    return data


def test_session_new_books_an_appointment(world, login):
    client = login(world.counsellor)
    response = client.post(reverse("scheduling:session_new"), session_data(world))
    assert response.status_code == 302
    session = Session.objects.latest("pk")
    assert session.bookings.get().episode_id == world.active.current_episode_id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"episode": ""}, "An appointment needs the participant it is for."),
        ({"kind": "family", "episode": ""}, "An appointment needs the participant it is for."),
        ({"end": "15:00"}, "The end time must be after the start time."),
        ({"end": "16:00"}, "The end time must be after the start time."),
        ({"day": "tomorrow"}, "Enter a valid date"),
        ({"start": "4pm"}, "Enter a valid time"),
        ({"kind": "party"}, "Select a valid choice"),
        ({"modality": "telehealth", "room": ""}, "need a join link"),
        ({"capacity": "-3"}, "greater than or equal to 1"),
        ({"episode": "abc"}, "Select a valid choice"),
    ],
)
def test_session_new_form_errors_answer_400(world, login, changes, message):
    client = login(world.counsellor)
    count = Session.objects.count()
    response = client.post(reverse("scheduling:session_new"), session_data(world, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Session.objects.count() == count


def test_session_new_with_someone_from_another_program_answers_400(world, login):
    client = login(world.counsellor)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:session_new"),
        session_data(world, episode=str(world.foreign.current_episode_id)),
    )
    assert response.status_code == 400
    assert Session.objects.count() == count


def test_session_new_clash_answers_409_naming_the_conflict(world, login):
    client = login(world.counsellor)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:session_new"),
        session_data(world, start="10:00", end="11:00", facilitator=str(world.director.pk)),
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Not booked" in page
    assert "Room Group Room is already booked for “Process group”" in page
    assert f"{world.active.display_name} is already expected at “Process group”" in page
    assert Session.objects.count() == count


def test_session_new_get_with_a_garbage_date_shows_the_form(world, login):
    client = login(world.counsellor)
    for query in ("?date=nonsense&program=abc", "?date=9999-12-31&program=²"):
        response = client.get(reverse("scheduling:session_new") + query)
        assert response.status_code == 200


# ---------------------------------------------------------------- changes to a session


def test_cancel_without_reason_answers_400(world, login):
    client = login(world.counsellor)
    session = world.future_session
    response = client.post(reverse("scheduling:session_cancel", args=[session.pk]), {"reason": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    session.refresh_from_db()
    assert session.status == SessionStatus.SCHEDULED


def test_cancel_a_session_with_attendance_answers_409(world, login):
    client = login(world.counsellor)
    response = client.post(
        reverse("scheduling:session_cancel", args=[world.session.pk]), {"reason": "Oops"}
    )
    assert response.status_code == 409
    assert "Attendance was taken" in response.content.decode()


def test_cancel_with_a_reason_cancels(world, login):
    client = login(world.counsellor)
    session = world.future_session
    response = client.post(
        reverse("scheduling:session_cancel", args=[session.pk]), {"reason": "Snow"}
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.status, session.cancel_reason) == (SessionStatus.CANCELLED, "Snow")


@pytest.mark.parametrize("topic", ["foreign", "abc", "999999"])
def test_topic_with_a_foreign_or_unknown_topic_answers_400(world, login, topic):
    client = login(world.counsellor)
    session = world.future_session
    before = session.topic_id
    if topic == "foreign":
        topic = str(world.other_program.topics.first().pk)
    response = client.post(
        reverse("scheduling:session_topic", args=[session.pk]),
        {"topic": topic, "version": str(session.version)},
    )
    assert response.status_code == 400
    session.refresh_from_db()
    assert session.topic_id == before


def test_topic_with_a_stale_version_answers_409(world, login):
    client = login(world.counsellor)
    session = world.future_session
    topic = world.program.topics.last()
    response = client.post(
        reverse("scheduling:session_topic", args=[session.pk]),
        {"topic": str(topic.pk), "version": str(session.version + 5)},
    )
    assert response.status_code == 409
    assert "Someone else saved" in response.content.decode()


def test_book_someone_from_another_program_answers_400(world, login):
    client = login(world.counsellor)
    session = world.future_session
    count = Booking.objects.count()
    response = client.post(
        reverse("scheduling:session_book", args=[session.pk]),
        {"episode": str(world.foreign.current_episode_id), "capacity_override": ""},
    )
    assert response.status_code == 400
    assert Booking.objects.count() == count


def test_book_someone_already_expected_answers_409(world, login):
    client = login(world.counsellor)
    session = world.future_session
    response = client.post(
        reverse("scheduling:session_book", args=[session.pk]),
        {"episode": str(world.active.current_episode_id)},
    )
    assert response.status_code == 409
    assert "already expected at this session" in response.content.decode()


def test_session_of_another_program_is_not_found(world, login):
    client = login(world.outsider)
    session = world.future_session
    for name in ("session_cancel", "session_topic", "session_book", "session_edit"):
        response = client.post(reverse(f"scheduling:{name}", args=[session.pk]), {"reason": "x"})
        assert response.status_code == 404, name


# ---------------------------------------------------------------- feeds


def test_feed_pages_refuse_an_unknown_action(world, login):
    client = login(world.counsellor)
    assert client.post(reverse("scheduling:my_feed"), {"action": "explode"}).status_code == 400
    url = reverse("schedule:participant_feed", args=[world.active.pk])
    assert client.post(url, {"action": ""}).status_code == 400
    assert FeedToken.objects.filter(revoked_at=None).count() == 2


# ---------------------------------------------------------------- the calendar


def test_calendar_with_a_garbage_date_shows_today_with_a_warning(world, login):
    client = login(world.counsellor)
    response = client.get(reverse("scheduling:calendar") + "?date=garbage")
    assert response.status_code == 200
    assert "That date could not be read; showing today." in response.content.decode()
    assert response.context["day"] == world.program.today()


@pytest.mark.parametrize(
    "query",
    [
        "?date=2026-02-30",
        "?date=0001-01-01",
        "?date=9999-12-31",
        "?date=0001-01-01&view=day",
        "?date=9999-12-31&view=day",
        "?program=abc&track=x&facilitator=-1&room=99999999999999",
        "?program=²&track=²&facilitator=³&room=¹",
    ],
)
def test_calendar_never_fails_on_odd_queries(world, login, query):
    client = login(world.counsellor)
    response = client.get(reverse("scheduling:calendar") + query)
    assert response.status_code == 200
    if "date=" in query:  # none of these dates is shown: today is, with a warning
        assert response.context["day"] == world.program.today()
        assert "That date could not be read" in response.content.decode()


def test_calendar_day_view_shows_that_day_only(world, login):
    client = login(world.counsellor)
    day = world.future_session.date
    response = client.get(reverse("scheduling:calendar") + f"?view=day&date={day.isoformat()}")
    assert response.status_code == 200
    assert response.context["view"] == "day"
    assert [d["date"] for d in response.context["days"]] == [day]
    expected = set(
        Session.objects.filter(program=world.program, date=day).values_list("pk", flat=True)
    )
    assert session_ids(response) == expected
    assert world.future_session.pk in expected


def test_calendar_week_view_shows_the_week(world, login):
    client = login(world.counsellor)
    day = world.future_session.date
    response = client.get(reverse("scheduling:calendar") + f"?date={day.isoformat()}")
    monday = day - dt.timedelta(days=day.weekday())
    expected = set(
        Session.objects.filter(
            program=world.program, date__gte=monday, date__lte=monday + dt.timedelta(days=6)
        ).values_list("pk", flat=True)
    )
    assert session_ids(response) == expected


@pytest.fixture
def other_room_session(world):
    """A session in another room, by the director, on the future session's day."""
    room = Room.objects.create(site=world.program.site, name="Small Room", capacity=6)
    return services.create_session(
        services.SessionInput(
            program=world.program,
            session_type=process_group(world),
            kind="group",
            title="Small group",
            day=world.future_session.date,
            start=dt.time(9),
            end=dt.time(10),
            facilitator=world.director,
            room=room,
        ),
        actor=world.director,
    )


def test_calendar_filters_by_room(world, login, other_room_session):
    client = login(world.counsellor)
    base = reverse("scheduling:calendar") + f"?date={world.future_session.date.isoformat()}"
    everything = session_ids(client.get(base))
    assert {other_room_session.pk, world.future_session.pk} <= everything
    filtered = session_ids(client.get(base + f"&room={group_room(world).pk}"))
    assert other_room_session.pk not in filtered
    assert world.future_session.pk in filtered
    only_small = session_ids(client.get(base + f"&room={other_room_session.room_id}"))
    assert only_small == {other_room_session.pk}


def test_calendar_filters_by_facilitator(world, login, other_room_session):
    client = login(world.counsellor)
    base = reverse("scheduling:calendar") + f"?date={world.future_session.date.isoformat()}"
    mine = session_ids(client.get(base + f"&facilitator={world.counsellor.pk}"))
    assert world.future_session.pk in mine and other_room_session.pk not in mine
    theirs = session_ids(client.get(base + f"&facilitator={world.director.pk}"))
    assert theirs == {other_room_session.pk}


def test_calendar_filters_by_track(world, login, other_room_session):
    client = login(world.counsellor)
    base = reverse("scheduling:calendar") + f"?date={world.future_session.date.isoformat()}"
    on_morning = session_ids(client.get(base + f"&track={morning(world).pk}"))
    assert world.future_session.pk in on_morning
    assert other_room_session.pk not in on_morning  # a one-off on no track
    assert world.appointment.pk not in on_morning
    evening = world.program.tracks.get(name="Evening")
    assert session_ids(client.get(base + f"&track={evening.pk}")) == set()


# ---------------------------------------------------------------- dates at the ends of the calendar
# Year 9999 overflowed when stepped through (generation) or put in UTC (a late session).


def test_generate_up_to_the_last_representable_day_answers_400(world, login):
    client = login(world.director)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:generate", args=[morning(world).pk]),
        {"first": "9999-12-20", "last": "9999-12-31"},
    )
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2199." in response.content.decode()
    assert Session.objects.count() == count


def test_session_new_late_on_the_last_representable_day_answers_400(world, login):
    client = login(world.counsellor)
    count = Session.objects.count()
    response = client.post(
        reverse("scheduling:session_new"),
        session_data(world, day="9999-12-31", start="20:00", end="21:00"),
    )
    assert response.status_code == 400
    assert "Enter a date between 1900 and 2199." in response.content.decode()
    assert Session.objects.count() == count


def test_session_edit_to_the_last_representable_day_answers_400(world, login):
    client = login(world.counsellor)
    session = world.future_session
    response = client.post(
        reverse("scheduling:session_edit", args=[session.pk]),
        {
            "version": str(session.version),
            "title": session.title,
            "day": "9999-12-31",
            "start": "20:00",
            "end": "21:00",
            "facilitator": str(world.counsellor.pk),
            "room": str(group_room(world).pk),
            "modality": "in_person",
        },
    )
    assert response.status_code == 400
    session.refresh_from_db()
    assert session.version == world.future_session.version


def test_closure_on_the_last_representable_day_answers_400(world, login):
    client = login(world.director)
    count = Closure.objects.count()
    response = client.post(
        reverse("scheduling:closures", args=[world.program.pk]),
        {"reason": "End of time", "first_day": "9999-12-31", "last_day": ""},
    )
    assert response.status_code == 400
    assert Closure.objects.count() == count
