"""The participant's preferences page in the portal, the staff outbox, one message, and
the chart's read-only "Messages" section."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.notify import services
from openiop.notify.models import Message, Preference
from openiop.testing import add_portal

PREFS = "portal_notify:preferences"
VALID = {
    "sms_on": "on",
    "reminders_on": "on",
    "check_in_links_on": "on",
    "quiet_start": "22:30",
    "quiet_end": "06:00",
}


@pytest.fixture
def pat(world, client):
    add_portal(world)
    world.active.phone = "(207) 555-0101"
    world.active.email = "pat.active@example.org"
    world.active.save(update_fields=["phone", "email"])
    client.force_login(world.portal_participant)
    return world.active


def test_the_page_shows_the_defaults_and_the_masked_addresses(client, pat):
    response = client.get(reverse(PREFS))
    assert response.status_code == 200
    html = response.content.decode()
    assert "•••01" in html and "p•••@example.org" in html
    assert "555-0101" not in html and "pat.active@" not in html
    form = response.context["form"]
    assert form.initial["quiet_start"] == "21:00" and form.initial["quiet_end"] == "08:00"
    assert form["show_program_name"].value() is False
    assert "America/New_York" in html


def test_saving_keeps_the_choices_and_audits_the_change(client, pat, world):
    response = client.post(reverse(PREFS), VALID)
    assert response.status_code == 302 and response["Location"] == reverse(PREFS)
    pref = Preference.objects.get(participant=pat)
    assert (pref.sms_on, pref.email_on, pref.check_in_links_on) == (True, False, True)
    assert (pref.quiet_start, pref.quiet_end) == (dt.time(22, 30), dt.time(6))
    assert pref.show_program_name is False and pref.updated_by == world.portal_participant
    event = AuditEvent.objects.filter(object_type="notify.preference").latest("seq")
    assert event.action == "create" and event.participant_id == pat.pk
    assert event.changes["email_on"] == ["True", "False"]
    # Changing again is a change, and only what changed is recorded.
    client.post(reverse(PREFS), {**VALID, "show_program_name": "on"})
    event = AuditEvent.objects.filter(object_type="notify.preference").latest("seq")
    assert event.action == "change" and list(event.changes) == ["show_program_name"]
    assert Preference.objects.count() == 1


def test_the_next_message_follows_the_new_choices(client, pat):
    client.post(reverse(PREFS), {**VALID, "sms_on": "", "email_on": "on"})
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert message.channel == "email"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"quiet_start": "08:00", "quiet_end": "07:00"}, "at most 16 hours"),
        ({"quiet_start": "22:15"}, "Select a valid choice"),
        ({"quiet_end": ""}, "required"),
    ],
)
def test_a_wrong_choice_is_shown_again_with_400_and_saves_nothing(client, pat, change, error):
    response = client.post(reverse(PREFS), {**VALID, **change})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Preference.objects.exists()


def test_the_page_is_in_the_accounts_language(client, pat, world):
    world.portal_participant.portal_account.language = "es"
    world.portal_participant.portal_account.save(update_fields=["language"])
    response = client.get(reverse(PREFS))
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in response.content.decode()


def test_the_portal_menu_offers_the_page(client, pat):
    html = client.get(reverse("portal:home")).content.decode()
    assert f'href="{reverse(PREFS)}"' in html


def test_the_page_costs_the_same_queries_whatever_the_outbox_holds(
    client, pat, django_assert_num_queries
):
    client.get(reverse(PREFS))  # warm caches (session, content types)
    with django_assert_num_queries(QUERIES_PREFS) as small:
        client.get(reverse(PREFS))
    for i in range(30):
        services.notify_participant(pat, "letter_ready", key=f"many:{i}")
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse(PREFS))


QUERIES_PREFS = 7


# --- staff: the outbox -------------------------------------------------------------------


@pytest.fixture
def outbox_world(world):
    world.active.phone = "(207) 555-0101"
    world.active.save(update_fields=["phone"])
    services.notify_participant(world.active, "letter_ready", key="a")
    services.notify_participant(world.foreign, "letter_ready", key="b")
    Preference.objects.create(participant=world.referred, sms_on=False, email_on=False)
    services.notify_participant(world.referred, "screen_call_in", key="c")
    return world


def test_the_outbox_shows_record_numbers_and_masked_numbers_only(login, outbox_world):
    w = outbox_world
    response = login(w.director).get(reverse("notify:outbox"))
    assert response.status_code == 200
    html = response.content.decode()
    assert w.active.record_number in html and "•••01" in html
    assert "555-0101" not in html and w.active.legal_last_name not in html
    # Another program's participant is not shown.
    assert w.foreign.record_number not in html
    # A skipped message says why.
    assert "turned off text messages and email" in html


def test_the_outbox_filters_by_status_and_kind(login, outbox_world):
    client = login(outbox_world.director)
    html = client.get(reverse("notify:outbox"), {"status": "skipped"}).content.decode()
    assert outbox_world.referred.record_number in html
    assert outbox_world.active.record_number not in html
    html = client.get(reverse("notify:outbox"), {"template": "letter_ready"}).content.decode()
    assert outbox_world.active.record_number in html
    assert outbox_world.referred.record_number not in html


def test_an_unknown_filter_value_is_ignored_not_an_error(login, outbox_world):
    response = login(outbox_world.director).get(
        reverse("notify:outbox"), {"status": "<script>", "template": "x" * 5000, "page": "-1"}
    )
    assert response.status_code == 200


def test_the_outbox_is_audited_and_refused_to_counsellors(login, world):
    assert login(world.counsellor).get(reverse("notify:outbox")).status_code == 403
    login(world.director).get(reverse("notify:outbox"))
    assert AuditEvent.objects.filter(object_type="notify.outbox", actor=world.director).exists()


def test_the_outbox_costs_the_same_queries_with_more_messages(
    login, outbox_world, django_assert_num_queries
):
    client = login(outbox_world.director)
    client.get(reverse("notify:outbox"))
    with django_assert_num_queries(QUERIES_OUTBOX) as small:
        client.get(reverse("notify:outbox"))
    for i in range(60):
        services.notify_participant(outbox_world.active, "letter_ready", key=f"more:{i}")
        services.notify_participant(outbox_world.referred, "letter_ready", key=f"ref:{i}")
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("notify:outbox"))


QUERIES_OUTBOX = 10


def test_one_message_shows_what_it_said_without_the_link(login, world):
    from openiop.portal.models import Invitation

    invitation = Invitation.objects.create(
        kind="participant",
        participant=world.active,
        token_hash="a" * 64,
        hint="abcd",
        channel="sms",
        sent_to="(207) 555-0101",
        created_by=world.counsellor,
        expires_at=world.records.get("now_plus_week")
        or dt.datetime.now(dt.UTC) + dt.timedelta(days=7),
    )
    message = services.send_invitation(invitation, "TOKEN123", actor=world.counsellor)
    response = login(world.director).get(reverse("notify:message", args=[message.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "[link]" in html and "TOKEN123" not in html and "[[link]]" not in html
    event = AuditEvent.objects.filter(actor=world.director).latest("seq")
    assert event.participant_id == world.active.pk


def test_another_programs_message_is_404(login, outbox_world):
    other = Message.objects.get(key="b")
    assert (
        login(outbox_world.director).get(reverse("notify:message", args=[other.pk])).status_code
        == 404
    )


# --- the chart section ---------------------------------------------------------------------


def test_the_chart_shows_the_preferences_read_only(login, world):
    Preference.objects.create(
        participant=world.active, sms_on=False, quiet_start=dt.time(22), quiet_end=dt.time(7)
    )
    html = login(world.counsellor).get(reverse("participants:chart", args=[world.active.pk]))
    text = html.content.decode()
    assert "Quiet hours" in text and "22:00–07:00" in text
    assert "Only the participant changes these" in text
    assert reverse("notify:outbox") not in text  # counsellors do not read the outbox


def test_the_chart_lists_the_latest_messages_for_outbox_readers(login, world):
    from openiop.testing import add_message

    add_message(world)
    text = (
        login(world.director)
        .get(reverse("participants:chart", args=[world.active.pk]))
        .content.decode()
    )
    assert reverse("notify:message", args=[world.message.pk]) in text
