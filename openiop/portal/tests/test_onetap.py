"""One-tap links (issue 9, point 1): "a short-lived, single-purpose signed link that
opens that one form without a password and shows nothing else"."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.utils import timezone

from openiop.attendance.models import CheckIn, EngagementAlert
from openiop.core.models import AuditEvent
from openiop.instruments.models import InstrumentResponse, SafetyAlert
from openiop.portal import onetap
from openiop.portal.models import OneTapLink

CHECK_IN = {
    "mood": "7",
    "craving": "2",
    "used": "no",
    "substances": "",
    "stress": "3",
    "sleep_hours": "7.5",
    "note": "",
}


def token_of(path: str) -> str:
    assert path.startswith("/t/")
    return path.removeprefix("/t/")


def test_a_link_is_a_path_with_a_secret_only_its_hash_is_kept(world):
    path = onetap.issue(world.active, purpose="check_in")
    raw = token_of(path)
    link = OneTapLink.objects.get()
    assert link.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in link.token_hash
    assert (link.participant, link.episode) == (world.active, world.active.current_episode)
    event = AuditEvent.objects.filter(object_type="portal.onetaplink").latest("id")
    assert (event.action, event.actor_id, event.participant_id) == ("create", None, world.active.pk)


def test_a_check_in_link_lasts_until_the_end_of_the_program_day(world):
    onetap.issue(world.active, purpose="check_in")
    link = OneTapLink.objects.get()
    program = world.program
    assert link.day == program.today()
    local = link.expires_at.astimezone(program.tz)
    assert local.date() == program.today() + dt.timedelta(days=1)
    assert (local.hour, local.minute) == (0, 0)


def test_a_questionnaire_link_lasts_48_hours(world):
    onetap.issue(world.active, purpose="instrument", instrument_code="GAD-7")
    link = OneTapLink.objects.get()
    assert abs(link.expires_at - timezone.now() - dt.timedelta(hours=48)) < dt.timedelta(minutes=1)


@pytest.mark.parametrize(
    ("participant", "options", "message"),
    [
        ("referred", {"purpose": "check_in"}, "in care"),
        ("active", {"purpose": "instrument", "instrument_code": "C-SSRS"}, "alone"),
        ("active", {"purpose": "instrument", "instrument_code": "NOPE"}, "alone"),
        ("active", {"purpose": "check_in", "instrument_code": "PHQ-9"}, "names no instrument"),
        ("active", {"purpose": "login"}, "Unknown"),
    ],
)
def test_links_are_made_only_for_what_they_can_open(world, participant, options, message):
    with pytest.raises(ValueError, match=message):
        onetap.issue(world.participants[participant], **options)
    assert not OneTapLink.objects.exists()


def test_no_link_for_a_day_already_over(world):
    with pytest.raises(ValueError, match="over"):
        onetap.issue(
            world.active, purpose="check_in", day=world.program.today() - dt.timedelta(days=1)
        )


def test_the_link_opens_only_the_check_in_with_the_first_name_and_no_session(client, world):
    path = onetap.issue(world.active, purpose="check_in")
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Daily check-in, Pat" in html
    assert world.active.legal_last_name not in html
    assert world.active.record_number not in html
    assert 'class="portal-nav"' not in html
    assert "Sign out" not in html
    assert 'name="mood"' in html
    assert response["Cache-Control"] == "no-store"
    assert "sessionid" not in response.cookies
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.filter(object_type="portal.onetap").latest("id")
    assert (event.action, event.actor_id, event.participant_id) == ("view", None, world.active.pk)


def test_a_check_in_through_the_link_is_saved_once_and_marked_as_from_the_link(client, world):
    path = onetap.issue(world.active, purpose="check_in")
    before = CheckIn.objects.count()
    response = client.post(path, CHECK_IN)
    assert response.status_code == 302
    assert response["Location"] == path + "/thanks/"
    check_in = CheckIn.objects.latest("pk")
    assert CheckIn.objects.count() == before + 1
    assert (check_in.source, check_in.mood, check_in.created_by) == ("link", 7, None)
    assert check_in.day == world.program.today()
    assert OneTapLink.objects.get().used_at is not None
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Your answers are saved" in thanks.content.decode()
    # Single use: the same link again, by GET or POST.
    assert client.get(path).status_code == 410
    again = client.post(path, CHECK_IN)
    assert again.status_code == 410
    assert "already used" in again.content.decode()
    assert CheckIn.objects.count() == before + 1
    assert "_auth_user_id" not in client.session


def test_reported_use_through_the_link_alerts_the_counsellor_and_offers_help(client, world):
    path = onetap.issue(world.active, purpose="check_in")
    alerts = EngagementAlert.objects.count()
    response = client.post(path, {**CHECK_IN, "used": "yes", "substances": "beer"})
    assert response.status_code == 200
    assert "988" in response.content.decode()
    assert EngagementAlert.objects.count() == alerts + 1


def test_a_wrong_answer_is_shown_again_and_the_link_still_works(client, world):
    path = onetap.issue(world.active, purpose="check_in")
    response = client.post(path, {**CHECK_IN, "mood": "11", "used": "yes", "substances": ""})
    assert response.status_code == 400
    assert OneTapLink.objects.get().used_at is None
    assert client.post(path, CHECK_IN).status_code == 302


def test_an_expired_link_is_gone(client, world):
    path = onetap.issue(world.active, purpose="check_in")
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, hours=1), tick=False):
        response = client.get(path)
        assert response.status_code == 410
        assert "expired" in response.content.decode()
        assert client.post(path, CHECK_IN).status_code == 410
    assert not CheckIn.objects.filter(source="link").exists()


@pytest.mark.parametrize("token", ["x" * 43, "short", "x" * 2000, "%00" * 20])
def test_an_unknown_link_is_not_found(client, world, token):
    response = client.get(f"/t/{token}")
    assert response.status_code == 404
    assert client.post(f"/t/{token}", CHECK_IN).status_code == 404


def test_a_link_of_a_discharged_participant_no_longer_works(client, world):
    from openiop.participants import services as participants
    from openiop.participants.choices import EpisodeStatus as S

    path = onetap.issue(world.active, purpose="check_in")
    participants.transition_episode(
        world.active.current_episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=world.program.today(),
        reason="Completed",
    )
    assert client.get(path).status_code == 410


def test_the_link_speaks_the_participants_language(client, world):
    world.active.preferred_language = "Spanish"
    world.active.save(update_fields=["preferred_language"])
    path = onetap.issue(world.active, purpose="check_in")
    response = client.get(path)
    assert b'lang="es"' in response.content


def test_a_questionnaire_link_opens_that_questionnaire_and_saves_a_self_report(client, world):
    path = onetap.issue(world.active, purpose="instrument", instrument_code="GAD-7")
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Feeling nervous, anxious, or on edge" in html
    assert "PHQ" not in html
    answers = {f"item_{i}": "1" for i in range(1, 8)}
    response = client.post(path, answers)
    assert response.status_code == 302
    saved = InstrumentResponse.objects.filter(instrument="GAD-7").latest("pk")
    assert (saved.total, saved.mode, saved.administered_by) == (7, "self", None)
    assert saved.episode == world.active.current_episode
    assert client.get(path).status_code == 410


def test_a_safety_answer_through_a_link_raises_the_clinician_alert(client, world):
    from openiop.instruments.models import InstrumentSetting

    # PHQ-9 was given yesterday (testing world): make it due again today.
    InstrumentSetting.objects.create(
        program=world.program, instrument="PHQ-9", enabled=True, routine=True, interval_days=7
    )
    InstrumentResponse.objects.filter(participant=world.active, instrument="PHQ-9").update(
        administered_on=world.program.today() - dt.timedelta(days=10)
    )
    path = onetap.issue(world.active, purpose="instrument", instrument_code="PHQ-9")
    alerts = SafetyAlert.objects.count()
    answers = {f"item_{i}": "0" for i in range(1, 10)} | {"item_9": "2"}
    response = client.post(path, answers)
    assert response.status_code == 200
    html = response.content.decode()
    assert "988" in html and "911" in html
    assert SafetyAlert.objects.count() == alerts + 1
    alert = SafetyAlert.objects.latest("pk")
    assert alert.participant == world.active
    assert OneTapLink.objects.get().used_at is not None


def test_a_questionnaire_answered_meanwhile_makes_the_link_used(client, world):
    from openiop.testing import give

    path = onetap.issue(world.active, purpose="instrument", instrument_code="GAD-7")
    give(world.active, world.counsellor, "GAD-7", [0] * 7, day=world.program.today())
    response = client.post(path, {f"item_{i}": "1" for i in range(1, 8)})
    assert response.status_code == 410
