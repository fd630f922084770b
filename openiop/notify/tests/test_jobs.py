"""The jobs that make messages: session reminders the afternoon before, random-selection
call-ins on the day (at collection time), opted-in check-in links, questionnaires that
fall due, and the staff digest — each once, whatever how often the worker runs."""

from __future__ import annotations

import datetime as dt

import pytest

from openiop.notify import delivery, digest, makers
from openiop.notify.models import Message, Preference
from openiop.scheduling.models import Session


def local(world, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=world.program.tz)


@pytest.fixture
def next_session(world) -> Session:
    today = world.program.today()
    session = (
        Session.objects.filter(track__name="Morning", date__gt=today, voided=False)
        .order_by("starts_at")
        .first()
    )
    assert session is not None
    return session


def reminders(world) -> list[Message]:
    return list(Message.objects.filter(template="session_reminder", participant=world.active))


# --- session reminders -------------------------------------------------------------------


def test_no_reminder_before_the_afternoon(world, next_session):
    eve = next_session.date - dt.timedelta(days=1)
    makers.session_reminders(local(world, eve, 14, 59))
    assert reminders(world) == []


def test_the_afternoon_before_each_participant_gets_one_reminder(world, next_session):
    eve = next_session.date - dt.timedelta(days=1)
    made = makers.session_reminders(local(world, eve, 15, 0))
    (message,) = reminders(world)
    assert made["messages"] >= 1
    assert message.key == f"session_reminder:{world.active.pk}:{next_session.date}"
    assert message.stale_after == next_session.starts_at
    assert "9 a.m." in message.body
    # The worker runs every half hour: nothing more is made.
    makers.session_reminders(local(world, eve, 15, 30))
    makers.session_reminders(local(world, eve, 20, 0))
    assert len(reminders(world)) == 1


def test_a_reminder_names_no_session_and_gives_the_join_link_of_telehealth(world, next_session):
    Session.objects.filter(pk=next_session.pk).update(
        modality="telehealth", join_link="https://video.example.org/j/42"
    )
    makers.session_reminders(local(world, next_session.date - dt.timedelta(days=1), 16))
    (message,) = reminders(world)
    assert "https://video.example.org/j/42" in message.body
    assert next_session.title not in message.body


def test_an_in_person_session_gives_no_link(world, next_session):
    Session.objects.filter(pk=next_session.pk).update(join_link="https://video.example.org/j/1")
    makers.session_reminders(local(world, next_session.date - dt.timedelta(days=1), 16))
    (message,) = reminders(world)
    assert "https://video.example.org" not in message.body


def test_a_cancelled_session_is_not_reminded(world, next_session):
    from openiop.scheduling import services as schedule

    for session in Session.objects.filter(date=next_session.date, program=world.program):
        schedule.cancel_session(session, actor=world.director, reason="Snow day")
    makers.session_reminders(local(world, next_session.date - dt.timedelta(days=1), 16))
    assert reminders(world) == []


def test_a_discharged_participant_gets_no_reminder(world, next_session):
    from openiop.participants.models import Episode

    Episode.objects.filter(pk=world.active.current_episode_id).update(status="discharged")
    makers.session_reminders(local(world, next_session.date - dt.timedelta(days=1), 16))
    assert reminders(world) == []


# --- random-selection call-ins ------------------------------------------------------------


@pytest.fixture
def selected(world):
    from openiop.testing import add_screening_orders

    add_screening_orders(world)
    world.active.phone = "(207) 555-0101"
    world.active.save(update_fields=["phone"])
    return world.screen_random


def call_ins(world) -> list[Message]:
    return list(Message.objects.filter(template="screen_call_in"))


def test_no_call_in_before_the_morning_draw_is_done(world, selected):
    makers.screen_call_ins(local(world, selected.day, 5, 59))
    assert call_ins(world) == []


def test_the_selected_person_is_asked_to_stop_at_the_front_desk_and_nothing_more(world, selected):
    makers.screen_call_ins(local(world, selected.day, 6, 30))
    makers.screen_call_ins(local(world, selected.day, 7, 0))
    (message,) = call_ins(world)
    assert message.participant == world.active
    assert "front desk when you arrive today" in message.body
    for word in ("test", "screen", "random", "urine", "sample", "drug"):
        assert word not in message.body.lower() and word not in message.subject.lower()
    assert message.stale_after == local(world, selected.day + dt.timedelta(days=1), 0)


def test_the_call_in_goes_at_collection_time_not_at_dawn(world, selected):
    """DOMAIN.md §5.6: notify only at collection time — an hour before the person's
    first session that day, or at 08:00 when they have none."""
    from openiop.scheduling.enrolment import sessions_expected_for

    makers.screen_call_ins(local(world, selected.day, 6, 30))
    (message,) = call_ins(world)
    today = sessions_expected_for([selected.episode_id], selected.day, selected.day)[
        selected.episode_id
    ]
    starts = [s.starts_at for s in today if s.status != "cancelled"]
    expected = min(starts) - dt.timedelta(hours=1) if starts else local(world, selected.day, 8)
    assert message.send_after == max(expected, local(world, selected.day, 6, 30))
    assert delivery.deliver_due(now=message.send_after - dt.timedelta(minutes=1)) == {}


def test_only_open_random_selections_get_a_call_in(world, selected):
    from openiop.screening.models import Order

    # Collected before the job ran (the person came in early): nothing to say. The
    # for-cause order of the same day is staff's to tell in person.
    Order.objects.filter(pk=selected.pk).update(status="collected")
    makers.screen_call_ins(local(world, selected.day, 6, 30))
    assert call_ins(world) == []


# --- check-in links --------------------------------------------------------------------


def test_check_in_links_go_only_to_those_who_chose_them(world):
    today = world.program.today()
    makers.check_in_links(local(world, today, 9, 30))
    assert not Message.objects.filter(template="check_in_link").exists()
    Preference.objects.create(participant=world.active, check_in_links_on=True)
    makers.check_in_links(local(world, today, 8, 59))
    assert not Message.objects.filter(template="check_in_link").exists()
    makers.check_in_links(local(world, today, 9, 0))
    makers.check_in_links(local(world, today, 11, 0))
    (message,) = Message.objects.filter(template="check_in_link")
    assert message.link == "check_in" and message.link_day == today


def test_the_one_tap_link_is_made_when_the_message_goes_out(world):
    from openiop.notify import sms
    from openiop.portal.models import OneTapLink

    world.active.phone = "(207) 555-0101"
    world.active.save(update_fields=["phone"])
    today = world.program.today()
    Preference.objects.create(participant=world.active, check_in_links_on=True)
    makers.check_in_links(local(world, today, 9, 0))
    assert not OneTapLink.objects.exists()
    message = Message.objects.get(template="check_in_link")
    assert "[[link]]" in message.body
    delivery.deliver(message, now=max(message.send_after, local(world, today, 10)))
    (link,) = OneTapLink.objects.all()
    assert link.purpose == "check_in" and link.participant == world.active
    assert "/t/" in sms.outbox[0].body
    message.refresh_from_db()
    assert "/t/" not in message.body  # the outbox never keeps the token


def test_a_link_that_cannot_be_made_any_more_skips_the_message(world):
    from openiop.participants.models import Episode

    today = world.program.today()
    Preference.objects.create(participant=world.active, check_in_links_on=True)
    makers.check_in_links(local(world, today, 9, 0))
    message = Message.objects.get(template="check_in_link")
    Episode.objects.filter(pk=world.active.current_episode_id).update(status="discharged")
    assert delivery.deliver(message, now=local(world, today, 10)) == "skipped"
    message.refresh_from_db()
    assert message.reason.startswith("The link could not be made")


# --- questionnaires due ------------------------------------------------------------------


def test_a_questionnaire_falling_due_today_gets_one_link_without_its_name(world, monkeypatch):
    from openiop.instruments import catalogue, due

    today = world.program.today()
    episode = world.active.current_episode
    gad = catalogue.get("GAD-7")
    items = [due.Due(episode, gad, today - dt.timedelta(days=28), today, today)]
    monkeypatch.setattr(due, "due_for", lambda episodes, soon_days=0: items)
    makers.instruments_due(local(world, today, 9, 59))
    assert not Message.objects.filter(template="instrument_due").exists()
    makers.instruments_due(local(world, today, 10, 0))
    makers.instruments_due(local(world, today, 12, 0))
    (message,) = Message.objects.filter(template="instrument_due")
    assert message.link == "instrument" and message.link_code == "GAD-7"
    assert "GAD" not in message.body and gad.name not in message.body


def test_overdue_questionnaires_are_not_nagged_daily(world, monkeypatch):
    from openiop.instruments import catalogue, due

    today = world.program.today()
    episode = world.active.current_episode
    late = [due.Due(episode, catalogue.get("GAD-7"), None, today - dt.timedelta(days=5), today)]
    monkeypatch.setattr(due, "due_for", lambda episodes, soon_days=0: late)
    makers.instruments_due(local(world, today, 10))
    assert not Message.objects.filter(template="instrument_due").exists()


# --- staff digest ------------------------------------------------------------------------


def test_the_staff_digest_counts_and_names_no_one(world):
    world.counsellor.email = "robin@example.org"
    world.counsellor.save(update_fields=["email"])
    counts = digest.counts_for(world.counsellor)
    assert counts.open_alerts >= 1 and counts.unsigned_notes >= 1
    assert digest.send_digests(world.program.today()) == 1
    (message,) = Message.objects.filter(template="staff_digest")
    assert message.staff_user == world.counsellor
    assert f"Open alerts: {counts.open_alerts}" in message.body
    assert f"Notes not yet signed: {counts.unsigned_notes}" in message.body
    for participant in world.participants.values():
        assert participant.legal_last_name not in message.body
        assert participant.record_number not in message.body
    # Once a day.
    assert digest.send_digests(world.program.today()) == 0


def test_no_digest_when_nothing_waits_or_no_email(world):
    world.billing.email = "billing@example.org"
    world.billing.save(update_fields=["email"])
    digest.send_digests(world.program.today())
    assert not Message.objects.filter(staff_user=world.billing).exists()
    assert not Message.objects.filter(staff_user=world.supervisor).exists()  # no email


def test_the_jobs_run_through_the_worker(world):
    from openiop.core.worker import REGISTRY, run_period

    outcome = run_period(REGISTRY["notify.staff_digest"], world.program.today().isoformat())
    assert outcome.status == "ran"
    for name in ("notify.deliver", "notify.session_reminders", "notify.screen_call_ins"):
        assert run_period(REGISTRY[name], "2031-06-10T10:00Z").status == "ran"
