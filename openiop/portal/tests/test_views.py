"""The participant portal's pages (issue 9, point 1) as the participant meets them:
accepting an invitation, home, the daily check-in, questionnaires, my plan, my progress
and settings — each on their own record only, in their language, and in a fixed
number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.attendance import rules as attendance_rules
from openiop.attendance import services as attendance
from openiop.attendance.models import CheckIn, EngagementAlert
from openiop.instruments.models import InstrumentResponse, SafetyAlert
from openiop.portal import services
from openiop.testing import add_portal, give

NEW_PASSWORD = "quiet-harbour-lantern-7"
CHECK_IN = {
    "mood": "6",
    "craving": "3",
    "used": "no",
    "substances": "",
    "stress": "4",
    "sleep_hours": "7",
    "note": "Slept well.",
}


@pytest.fixture
def me(client, world):
    """world.active signed in to the portal."""
    add_portal(world)
    user = world.records["portal_participant"]
    client.force_login(user)
    return user


def html(response) -> str:
    return response.content.decode()


# --- accepting an invitation -------------------------------------------------------------


def new_invitation(world, **more):
    options = {"kind": "participant", "channel": "printed", "actor": world.counsellor}
    return services.invite(world.active, **(options | more))


def accept_payload(**more):
    return {
        "username": "pat.active",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        "language": "en",
    } | more


def test_the_invitation_page_welcomes_by_first_name_in_the_invitations_language(client, world):
    _invitation, raw = new_invitation(world, language="es")
    response = client.get(reverse("portal:accept", args=[raw]))
    assert response.status_code == 200
    assert b'lang="es"' in response.content
    assert "Pat" in html(response)
    assert world.active.legal_last_name not in html(response)
    assert response["Cache-Control"] == "no-store"


def test_accepting_signs_in_and_opens_the_home_page(client, world):
    _invitation, raw = new_invitation(world)
    response = client.post(reverse("portal:accept", args=[raw]), accept_payload())
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    user = User.objects.get(username="pat.active")
    assert client.session["_auth_user_id"] == str(user.pk)
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert "Hello, Pat" in html(home)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"password_again": "something-else-entirely"}, "password_again"),
        ({"username": "counsellor"}, "username"),
        ({"password": "short", "password_again": "short"}, "password"),
        ({"language": "fr"}, "language"),
        ({"username": ""}, "username"),
    ],
)
def test_a_bad_form_is_shown_again_with_its_error(client, world, change, field):
    _invitation, raw = new_invitation(world)
    response = client.post(reverse("portal:accept", args=[raw]), accept_payload(**change))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not User.objects.filter(username="pat.active").exists()
    assert "_auth_user_id" not in client.session


def test_an_expired_or_used_link_says_to_ask_for_a_new_one(client, world):
    _invitation, raw = new_invitation(world)
    url = reverse("portal:accept", args=[raw])
    with time_machine.travel(timezone.now() + dt.timedelta(days=8), tick=False):
        response = client.get(url)
    assert response.status_code == 410
    assert "ask the program for a new link" in html(response).lower()
    client.post(url, accept_payload())
    client.logout()
    used = client.get(url)
    assert used.status_code == 410
    assert "already used" in html(used)
    assert client.post(url, accept_payload(username="other")).status_code == 410


def test_an_unknown_link_is_not_found(client, world):
    response = client.get(reverse("portal:accept", args=["not-a-real-token-at-all-xxxx"]))
    assert response.status_code == 404
    assert "not valid" in html(response)


# --- home ------------------------------------------------------------------------------


def test_home_shows_todays_and_upcoming_sessions_with_a_join_link_for_video(client, world, me):
    from openiop.scheduling import services as schedule
    from openiop.scheduling.choices import SessionKind

    program = world.program
    today = program.today()
    schedule.create_session(
        schedule.SessionInput(
            program=program,
            session_type=program.session_types.first(),
            kind=SessionKind.INDIVIDUAL,
            title="Video check-up",
            day=today,
            start=dt.time(20),
            end=dt.time(20, 30),
            facilitator=world.supervisor,
            modality="telehealth",
            join_link="https://video.example.org/room/42",
        ),
        actor=world.counsellor,
        episodes=[world.active.current_episode],
    )
    response = client.get(reverse("portal:home"))
    page = html(response)
    assert "Video check-up" in page
    assert 'href="https://video.example.org/room/42"' in page
    assert "Join by video" in page
    assert "Individual session" in page  # world's appointment in two days
    assert "Check in now" in page


def test_home_says_when_i_already_checked_in_and_lists_due_questionnaires(client, world, me):
    client.post(reverse("portal:check_in"), CHECK_IN)
    page = html(client.get(reverse("portal:home")))
    assert "You checked in today at" in page
    assert "Worry and anxiety (GAD-7)" in page  # due: last given at admission
    assert reverse("portal:questionnaire", args=["GAD-7"]) in page


def test_home_shows_only_my_own_sessions(client, world, me):
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.scheduling import services as schedule
    from openiop.scheduling.choices import SessionKind
    from openiop.testing import make_participant

    other = make_participant(
        world.program, world.intake, last="Other", status=S.ACTIVE, counsellor=world.counsellor
    )
    schedule.create_session(
        schedule.SessionInput(
            program=world.program,
            session_type=world.program.session_types.first(),
            kind=SessionKind.INDIVIDUAL,
            title="Someone else's appointment",
            day=world.program.today() + dt.timedelta(days=1),
            start=dt.time(16),
            end=dt.time(17),
        ),
        actor=world.counsellor,
        episodes=[other.current_episode],
    )
    assert "Someone else" not in html(client.get(reverse("portal:home")))


# --- the daily check-in ----------------------------------------------------------------


def test_a_check_in_from_the_portal_is_saved_as_mine_and_from_the_portal(client, world, me):
    response = client.post(reverse("portal:check_in"), CHECK_IN)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    saved = CheckIn.objects.latest("pk")
    assert (saved.participant, saved.source, saved.created_by) == (world.active, "portal", me)
    assert (saved.mood, saved.craving, saved.sleep_hours) == (6, 3, Decimal("7"))
    assert saved.day == world.program.today()
    assert saved.note == "Slept well."


def test_the_counsellor_sees_the_portal_check_in_on_the_chart(client, world, me):
    client.post(reverse("portal:check_in"), CHECK_IN)
    client.force_login(world.counsellor)
    chart = html(client.get(reverse("participants:chart", args=[world.active.pk])))
    assert "Participant (portal)" in chart


def test_reported_use_alerts_the_counsellor_and_the_participant_is_offered_help(client, world, me):
    before = EngagementAlert.objects.count()
    response = client.post(
        reverse("portal:check_in"),
        {**CHECK_IN, "used": "yes", "substances": "two beers"},
        follow=True,
    )
    assert "988" in html(response)
    assert EngagementAlert.objects.count() == before + 1


@pytest.mark.parametrize(
    "change",
    [
        {"mood": "0"},
        {"craving": "11"},
        {"used": "maybe"},
        {"used": "yes", "substances": ""},
        {"used": "no", "substances": "beer"},
        {"sleep_hours": "25"},
        {"sleep_hours": "7.25"},
        {"stress": ""},
    ],
)
def test_a_wrong_check_in_answer_is_shown_again(client, world, me, change):
    before = CheckIn.objects.count()
    response = client.post(reverse("portal:check_in"), {**CHECK_IN, **change})
    assert response.status_code == 400
    assert response.context["form"].errors
    assert CheckIn.objects.count() == before


def test_a_spanish_portal_takes_hours_with_a_decimal_comma(client, world, me):
    services.set_language(me.portal_account, "es", actor=me)
    response = client.post(reverse("portal:check_in"), {**CHECK_IN, "sleep_hours": "6,5"})
    assert response.status_code == 302
    assert CheckIn.objects.latest("pk").sleep_hours == Decimal("6.5")


def test_the_check_in_page_uses_big_labelled_choices(client, world, me):
    page = html(client.get(reverse("portal:check_in")))
    assert page.count('class="portal-pill"') == 10 + 11 + 2 + 11
    assert "<legend>How is your mood today?" in page
    assert 'for="id_sleep_hours"' in page


def test_a_discharged_participant_cannot_check_in(client, world, me):
    from openiop.participants import services as participants
    from openiop.participants.choices import EpisodeStatus as S

    participants.transition_episode(
        world.active.current_episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=world.program.today(),
        reason="Completed",
    )
    assert client.get(reverse("portal:check_in")).status_code == 409
    assert client.post(reverse("portal:check_in"), CHECK_IN).status_code == 409


# --- questionnaires --------------------------------------------------------------------


def test_a_due_questionnaire_is_answered_as_a_self_report(client, world, me):
    url = reverse("portal:questionnaire", args=["GAD-7"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Not being able to stop or control worrying" in html(page)
    response = client.post(url, {f"item_{i}": "2" for i in range(1, 8)})
    assert response.status_code == 302
    saved = InstrumentResponse.objects.filter(instrument="GAD-7").latest("pk")
    assert (saved.total, saved.mode, saved.administered_by) == (14, "self", me)
    assert saved.administered_on == world.program.today()
    # Answered: no longer due.
    assert client.get(url).status_code == 409


def test_a_safety_answer_in_the_portal_raises_the_same_clinician_alert(client, world, me):
    InstrumentResponse.objects.filter(participant=world.active, instrument="PHQ-9").update(
        administered_on=world.program.today() - dt.timedelta(days=20)
    )
    alerts = SafetyAlert.objects.count()
    response = client.post(
        reverse("portal:questionnaire", args=["PHQ-9"]),
        {f"item_{i}": "1" for i in range(1, 10)},
        follow=True,
    )
    assert "988" in html(response)
    assert SafetyAlert.objects.count() == alerts + 1
    assert SafetyAlert.objects.latest("pk").participant == world.active


def test_an_unanswered_item_is_shown_again(client, world, me):
    url = reverse("portal:questionnaire", args=["GAD-7"])
    response = client.post(url, {f"item_{i}": "1" for i in range(1, 7)})
    assert response.status_code == 400
    assert response.context["form"].errors["item_7"]
    assert not InstrumentResponse.objects.filter(instrument="GAD-7", mode="self").exists()


@pytest.mark.parametrize(("code", "status"), [("C-SSRS", 404), ("NOPE", 404), ("PHQ-9", 409)])
def test_an_interview_an_unknown_or_a_not_due_questionnaire_is_refused(
    client, world, me, code, status
):
    assert client.get(reverse("portal:questionnaire", args=[code])).status_code == status


def test_the_questionnaire_list_names_them_in_plain_words(client, world, me):
    page = html(client.get(reverse("portal:questionnaires")))
    assert "Worry and anxiety (GAD-7)" in page
    assert "C-SSRS" not in page


# --- my plan and my progress -------------------------------------------------------------


def test_my_plan_shows_goals_steps_and_my_relapse_prevention_plan_read_only(client, world, me):
    response = client.get(reverse("portal:plan"))
    page = html(response)
    assert "Get through a work week without using." in page
    assert "Use a coping skill at each craving" in page
    assert "I want to keep my job and be there for my kids." in page
    relapse = world.relapse_plan
    for item in relapse.triggers:
        assert item in page
    assert "<form" not in page.split('id="main"')[1]  # read-only
    # Clinician-only: the ASAM dimension and the problem as the clinician worded it.
    assert "Dimension" not in page
    assert "two lapses this month" not in page


def test_my_progress_shows_hours_against_the_minimum_check_ins_and_topics(client, world, me):
    client.post(reverse("portal:check_in"), CHECK_IN)
    page = html(client.get(reverse("portal:progress")))
    assert "hours this week, of the weekly minimum" in page
    assert "/ 9.0" in page  # the program's 9-hour weekly minimum (ASAM 2.1, DOMAIN.md §1.1)
    assert "Mood at check-in" in page and "<svg" in page
    assert "Understanding addiction" in page and "still to come" in page
    assert "Mood (PHQ-9)" in page


def test_pages_show_only_my_own_record(client, world, me):
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.testing import make_participant

    other = make_participant(
        world.program, world.intake, last="Zzother", status=S.ACTIVE, counsellor=world.counsellor
    )
    attendance.record_check_in(
        other.current_episode,
        attendance_rules.CheckInValues(
            mood=1, craving=9, used=False, substances="", stress=9, sleep_hours=Decimal("3")
        ),
        actor=world.counsellor,
        note="OTHER PERSON NOTE",
    )
    for name in ("portal:home", "portal:progress", "portal:plan"):
        page = html(client.get(reverse(name)))
        assert "Zzother" not in page and "OTHER PERSON" not in page


# --- settings and language ---------------------------------------------------------------


def test_changing_the_language_turns_the_portal_spanish(client, world, me):
    response = client.post(reverse("portal:settings"), {"language": "es"}, follow=True)
    assert response.status_code == 200
    assert b'lang="es"' in response.content
    me.portal_account.refresh_from_db()
    assert me.portal_account.language == "es"
    home = client.get(reverse("portal:home"))
    assert home["Content-Language"] == "es"


def test_an_unknown_language_is_refused(client, world, me):
    response = client.post(reverse("portal:settings"), {"language": "xx"})
    assert response.status_code == 400
    assert response.context["form"].errors["language"]


# --- query counts ------------------------------------------------------------------------


def grow(world) -> None:
    """Ten weeks more of record for world.active: sessions and attendance, daily
    check-ins, questionnaires, topics, appointments."""
    from openiop.programs.models import Topic
    from openiop.scheduling import services as schedule
    from openiop.scheduling.models import Session

    program, counsellor = world.program, world.counsellor
    today = program.today()
    episode = world.active.current_episode
    track = program.tracks.get(name="Morning")
    schedule.generate(
        track, today - dt.timedelta(days=60), today - dt.timedelta(days=15), actor=world.director
    )
    schedule.generate(
        track, today + dt.timedelta(days=8), today + dt.timedelta(days=14), actor=world.director
    )
    for session in Session.objects.filter(track=track, date__lt=today, attendance_taken_at=None):
        attendance.mark_all_present(session, actor=counsellor)
    for days in range(1, 25):
        attendance.record_check_in(
            episode,
            attendance_rules.CheckInValues(
                mood=5 + days % 4,
                craving=days % 5,
                used=False,
                substances="",
                stress=3,
                sleep_hours=Decimal("7"),
            ),
            actor=counsellor,
            day=today - dt.timedelta(days=days),
        )
    for days in (20, 15, 10, 5):
        give(world.active, counsellor, "BARC-10", [4] * 10, day=today - dt.timedelta(days=days))
        give(world.active, counsellor, "CRAVING", [days % 7], day=today - dt.timedelta(days=days))
    for n in range(4, 12):
        Topic.objects.create(program=program, title=f"Topic {n}", sequence=n)


PAGES = [
    ("portal:home", {}),
    ("portal:check_in", {}),
    ("portal:questionnaires", {}),
    ("portal:questionnaire", {"code": "GAD-7"}),
    ("portal:plan", {}),
    ("portal:progress", {}),
    ("portal:settings", {}),
]

# Per page, the queries a signed-in GET makes: the session, the user and the portal
# account (3, portal_view), the page's own, and the audit event (its insert and the
# hash chain's head: see core.audit). The page's own are named below.
QUERIES = {
    # episode; sessions expected (enrolments, bookings, sessions); today's check-in;
    # due questionnaires (settings, latest responses)
    "portal:home": 14,
    # episode; today's check-in
    "portal:check_in": 8,
    # episode; due questionnaires (settings, latest responses, the episode's participant
    # for their order)
    "portal:questionnaires": 10,
    # episode; the program's setting of the instrument; due questionnaires (as above)
    "portal:questionnaire": 11,
    # episode; signed plan, its goals, their objectives, their interventions; relapse
    # plan and its support people
    "portal:plan": 13,
    # episode; engagement (marks, enrolments, closures); check-ins; responses;
    # curriculum (the track's own order, else the program's topics: both asked here);
    # topics attended; topics done individually
    "portal:progress": 16,
    # nothing of the record: the account only
    "portal:settings": 6,
}


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_page_queries_do_not_grow_with_the_record(
    client, world, me, django_assert_num_queries, name, kwargs
):
    url = reverse(name, kwargs=kwargs)
    with django_assert_num_queries(QUERIES[name]):
        assert client.get(url).status_code == 200
    grow(world)
    with django_assert_num_queries(QUERIES[name]):
        assert client.get(url).status_code == 200


# Public pages opened from a link. A one-tap link: its row (with participant, episode
# and program), the participant's current episode (still in care?), the portal
# account's language, the audit event of the opening (3: chain head, insert, head).
# An invitation: its row (with participant, program and contact), the audit event.
PUBLIC_QUERIES = {"onetap": 6, "accept": 4}


def test_link_pages_queries_do_not_grow_with_the_record(client, world, django_assert_num_queries):
    from openiop.portal import onetap

    first = onetap.issue(world.active, purpose="check_in")
    _invitation, raw = new_invitation(world)
    with django_assert_num_queries(PUBLIC_QUERIES["onetap"]):
        assert client.get(first).status_code == 200
    with django_assert_num_queries(PUBLIC_QUERIES["accept"]):
        assert client.get(reverse("portal:accept", args=[raw])).status_code == 200
    grow(world)
    second = onetap.issue(world.active, purpose="check_in")
    _invitation, raw = new_invitation(world)
    with django_assert_num_queries(PUBLIC_QUERIES["onetap"]):
        assert client.get(second).status_code == 200
    with django_assert_num_queries(PUBLIC_QUERIES["accept"]):
        assert client.get(reverse("portal:accept", args=[raw])).status_code == 200
