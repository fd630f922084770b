"""The roster, check-in and alert pages with bad input (issue 5, point 10): a form error
answers 400, a refusal of the current state 409 with the reason on the page, never 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.attendance.choices import AttendanceStatus as A
from openiop.attendance.models import Attendance, CheckIn, EngagementAlert
from openiop.participants.choices import EpisodeStatus as S
from openiop.scheduling.models import Booking, Session
from openiop.testing import admit

pytestmark = pytest.mark.django_db


def quiet_session(world) -> Session:
    """The Morning track's oldest past session: world.active on its roster, no marks."""
    session = (
        Session.objects.filter(
            track__name="Morning", program=world.program, date__lt=world.program.today()
        )
        .order_by("starts_at")
        .first()
    )
    assert session is not None and not session.attendance.exists()
    return session


def roster_url(session) -> str:
    return reverse("attendance:session", args=[session.pk])


# ---------------------------------------------------------------- the roster


def test_roster_page_shows_the_enrolled(world, login):
    client = login(world.counsellor)
    response = client.get(roster_url(quiet_session(world)))
    assert response.status_code == 200
    assert world.active.display_name in response.content.decode()
    assert response.context["expected"] == 1


def test_all_present_then_save_exceptions(world, login):
    client = login(world.counsellor)
    session = quiet_session(world)
    episode = world.active.current_episode_id
    assert client.post(roster_url(session), {"action": "all_present"}).status_code == 302
    mark = Attendance.objects.get(session=session, episode_id=episode)
    assert (mark.status, mark.minutes_attended) == (A.PRESENT, 180)
    response = client.post(
        roster_url(session),
        {"action": "save", f"status_{episode}": "late", f"minutes_{episode}": "15"},
    )
    assert response.status_code == 302
    mark.refresh_from_db()
    assert (mark.status, mark.minutes_missed, mark.minutes_attended) == (A.LATE, 15, 165)


@pytest.mark.parametrize(
    ("status", "minutes", "message"),
    [
        ("late", "abc", "minutes must be a whole number"),
        ("late", "-5", "minutes must be a whole number"),
        ("late", "99999", "minutes must be a whole number"),
        ("late", "1e3", "minutes must be a whole number"),
        ("late", "²", "minutes must be a whole number"),  # a digit to str.isdigit, not to int
        ("present", "abc", "minutes must be a whole number"),
        ("late", "", "how many minutes"),
        ("left_early", "0", "how many minutes"),
        ("late", "180", "mark absent"),
        ("late", "9999", "mark absent"),
        ("asleep", "", "is not an attendance mark"),
    ],
)
def test_roster_post_with_garbage_answers_400(world, login, status, minutes, message):
    client = login(world.counsellor)
    session = quiet_session(world)
    episode = world.active.current_episode_id
    response = client.post(
        roster_url(session),
        {"action": "save", f"status_{episode}": status, f"minutes_{episode}": minutes},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Attendance.objects.filter(session=session).exists()
    session.refresh_from_db()
    assert session.attendance_taken_at is None


def test_roster_post_with_an_unknown_action_answers_400(world, login):
    client = login(world.counsellor)
    session = quiet_session(world)
    for action in ("explode", ""):
        response = client.post(roster_url(session), {"action": action})
        assert response.status_code == 400
        assert "Unknown action." in response.content.decode()
    assert not Attendance.objects.filter(session=session).exists()


def test_attendance_for_a_future_session_answers_409(world, login):
    client = login(world.counsellor)
    response = client.post(roster_url(world.future_session), {"action": "all_present"})
    assert response.status_code == 409
    assert "attendance can be taken from that day" in response.content.decode()
    assert not Attendance.objects.filter(session=world.future_session).exists()


def test_attendance_for_a_cancelled_session_answers_409(world, login):
    client = login(world.counsellor)
    session = quiet_session(world)
    assert (
        client.post(
            reverse("scheduling:session_cancel", args=[session.pk]), {"reason": "Flood"}
        ).status_code
        == 302
    )
    response = client.post(roster_url(session), {"action": "all_present"})
    assert response.status_code == 409
    assert "cancelled" in response.content.decode()


def test_walk_in_without_a_participant_or_from_another_program_is_refused(world, login):
    client = login(world.counsellor)
    session = quiet_session(world)
    for episode in ("", "abc", str(world.foreign.current_episode_id)):
        response = client.post(roster_url(session), {"action": "walk_in", "episode": episode})
        assert response.status_code in (400, 409)
        assert "Choose who walked in." in response.content.decode()
    assert not Booking.objects.filter(session=session).exists()
    assert not Attendance.objects.filter(session=session).exists()


def test_walk_in_from_the_roster_page(world, login):
    admit(
        world.assessed,
        world.counsellor,
        day=world.program.today(),
        counsellor=world.counsellor,
        track_name="Evening",
    )
    world.assessed.refresh_from_db()
    client = login(world.counsellor)
    session = quiet_session(world)
    response = client.post(
        roster_url(session),
        {"action": "walk_in", "episode": str(world.assessed.current_episode_id)},
    )
    assert response.status_code == 302
    mark = Attendance.objects.get(session=session, episode_id=world.assessed.current_episode_id)
    assert mark.walk_in and mark.status == A.PRESENT


def test_taking_attendance_needs_the_permission(world, login):
    client = login(world.billing)
    response = client.post(roster_url(quiet_session(world)), {"action": "all_present"})
    assert response.status_code in (403, 404)


# ---------------------------------------------------------------- check-ins


def check_in_data(**changes):
    data = {
        "mood": "6",
        "craving": "2",
        "used": "no",
        "substances": "",
        "stress": "4",
        "sleep_hours": "7.5",
        "note": "",
    }
    data.update(changes)
    return data


def check_in_url(world) -> str:
    return reverse("check_ins:new", args=[world.active.pk])


def test_check_in_page_saves_a_good_check_in(world, login):
    client = login(world.counsellor)
    count = CheckIn.objects.count()
    response = client.post(check_in_url(world), check_in_data())
    assert response.status_code == 302
    assert CheckIn.objects.count() == count + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mood": "0"}, "Select a valid choice"),
        ({"mood": "11"}, "Select a valid choice"),
        ({"craving": "11"}, "Select a valid choice"),
        ({"stress": "-1"}, "Select a valid choice"),
        ({"sleep_hours": "25"}, "less than or equal to 24"),
        ({"sleep_hours": "many"}, "Enter a number"),
        ({"sleep_hours": "7.25"}, "decimal place"),
        ({"used": "yes"}, "Say what was used, since use was reported."),
        ({"used": "no", "substances": "alcohol"}, "Leave what was used empty"),
        ({"used": ""}, "This field is required"),
        ({"note": "x" * 2001}, "at most 2000"),
    ],
)
def test_check_in_form_errors_answer_400(world, login, changes, message):
    client = login(world.counsellor)
    count, alerts = CheckIn.objects.count(), EngagementAlert.objects.count()
    response = client.post(check_in_url(world), check_in_data(**changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert CheckIn.objects.count() == count
    assert EngagementAlert.objects.count() == alerts


def test_check_in_with_garbage_session_is_ignored_not_a_500(world, login):
    client = login(world.counsellor)
    for raw in ("abc", "99999999999999999999", "-1", "²", "12³"):
        response = client.post(check_in_url(world) + f"?session={raw}", check_in_data(mood="0"))
        assert response.status_code == 400


def test_check_in_for_someone_not_in_care_answers_409(world, login):
    client = login(world.counsellor)
    assert world.referred.current_episode.status == S.REFERRED
    response = client.post(reverse("check_ins:new", args=[world.referred.pk]), check_in_data())
    assert response.status_code == 409
    assert "in care" in response.content.decode()


# ---------------------------------------------------------------- alerts


def test_alert_resolve_without_a_note_answers_400(world, login):
    client = login(world.counsellor)
    alert = world.engagement_alert
    for note in ("", "   "):
        response = client.post(reverse("attendance:alert", args=[alert.pk]), {"note": note})
        assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.resolved_at is None


def test_alert_resolved_once_then_409(world, login):
    client = login(world.counsellor)
    url = reverse("attendance:alert", args=[world.engagement_alert.pk])
    assert client.post(url, {"note": "Called; plan reviewed"}).status_code == 302
    response = client.post(url, {"note": "Again"})
    assert response.status_code == 409
    assert "Answered by Counsellor Tester" in response.content.decode()
    world.engagement_alert.refresh_from_db()
    assert world.engagement_alert.resolution == "Called; plan reviewed"


def test_alert_of_another_program_is_not_found(world, login):
    client = login(world.outsider)
    response = client.get(reverse("attendance:alert", args=[world.engagement_alert.pk]))
    assert response.status_code == 404
