"""Making and sending messages: one per key, the channel the participant allows, held in
quiet hours (in the program's time zone, over midnight too), checked again when it goes
out, retried a bounded number of times."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core import mail

from openiop.notify import delivery, services, sms
from openiop.notify.models import Message, Preference
from openiop.notify.services import in_quiet_hours, quiet_until

NY = zoneinfo.ZoneInfo("America/New_York")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
T = dt.time


def at(day: int, hour: int, minute: int = 0, tz=NY, month: int = 6) -> dt.datetime:
    return dt.datetime(2031, month, day, hour, minute, tzinfo=tz)


@pytest.fixture
def pat(world):
    participant = world.active
    participant.phone = "(207) 555-0101"
    participant.email = "pat.active@example.org"
    participant.save(update_fields=["phone", "email"])
    return participant


def prefer(participant, **values) -> Preference:
    pref, _ = Preference.objects.update_or_create(participant=participant, defaults=values)
    return pref


class Boom(Exception):
    pass


class FailingBackend:
    def send(self, to, body):
        raise Boom("provider down")


# --- quiet hours ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "quiet"),
    [
        (T(20, 59), False),
        (T(21, 0), True),
        (T(23, 30), True),
        (T(0, 0), True),
        (T(7, 59), True),
        (T(8, 0), False),
        (T(12, 0), False),
    ],
)
def test_quiet_hours_over_midnight(now, quiet):
    assert in_quiet_hours(now, T(21), T(8)) is quiet


@pytest.mark.parametrize(
    ("now", "quiet"), [(T(12, 59), False), (T(13), True), (T(14, 59), True), (T(15), False)]
)
def test_quiet_hours_within_a_day(now, quiet):
    assert in_quiet_hours(now, T(13), T(15)) is quiet


def test_equal_start_and_end_means_no_quiet_hours():
    assert not any(in_quiet_hours(T(h), T(22), T(22)) for h in range(24))


def test_a_message_in_the_evening_waits_for_the_next_morning():
    assert quiet_until(at(10, 22, 15), NY, T(21), T(8)) == at(11, 8)


def test_a_message_after_midnight_waits_for_the_same_morning():
    assert quiet_until(at(11, 3), NY, T(21), T(8)) == at(11, 8)


def test_outside_quiet_hours_nothing_waits():
    assert quiet_until(at(11, 12), NY, T(21), T(8)) is None


def test_quiet_hours_are_read_in_the_programs_time_zone():
    # 13:00 UTC is 22:00 in Tokyo (quiet) and 09:00 in New York (not quiet).
    now = dt.datetime(2031, 6, 10, 13, 0, tzinfo=dt.UTC)
    assert quiet_until(now, NY, T(21), T(8)) is None
    assert quiet_until(now, TOKYO, T(21), T(8)) == at(11, 8, tz=TOKYO)


def test_quiet_hours_end_at_the_local_hour_across_a_clock_change():
    # New York falls back on 2 Nov 2031: 08:00 the next morning is 13:00 UTC, not 12:00.
    until = quiet_until(at(1, 23, month=11), NY, T(21), T(8))
    assert until == at(2, 8, month=11)
    assert until.astimezone(dt.UTC).hour == 13


# --- making messages -------------------------------------------------------------------


def test_the_same_key_makes_one_message(pat):
    first = services.notify_participant(pat, "letter_ready", key="letter-ready:7")
    again = services.notify_participant(pat, "letter_ready", key="letter-ready:7")
    assert first is not None and again is not None and first.pk == again.pk
    assert Message.objects.filter(key="letter-ready:7").count() == 1


def test_a_text_message_when_allowed_and_there_is_a_mobile_number(pat):
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert (message.channel, message.to, message.status) == ("sms", "+12075550101", "queued")


def test_email_when_text_messages_are_off(pat):
    prefer(pat, sms_on=False)
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert (message.channel, message.to) == ("email", "pat.active@example.org")


def test_email_when_the_number_cannot_take_a_text(pat):
    pat.phone = "555-01"
    pat.save(update_fields=["phone"])
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert message.channel == "email"


def test_nothing_is_sent_when_every_channel_is_off_and_the_outbox_says_why(pat):
    prefer(pat, sms_on=False, email_on=False)
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert message.status == "skipped"
    assert message.reason == "The participant turned off text messages and email."


def test_nothing_is_sent_without_an_address_and_the_outbox_says_which(pat):
    pat.phone, pat.email = "", ""
    pat.save(update_fields=["phone", "email"])
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert message.status == "skipped"
    assert "no usable mobile number and no email address" in message.reason


def test_reminders_off_stops_reminders_but_not_other_notices(pat):
    prefer(pat, reminders_on=False)
    reminder = services.notify_participant(
        pat, "session_reminder", {"day": dt.date(2031, 6, 11), "sessions": []}, key="r"
    )
    notice = services.notify_participant(pat, "screen_call_in", key="c")
    assert reminder.status == "skipped" and "reminders off" in reminder.reason
    assert notice.status == "queued"


def test_a_voided_participant_is_never_written_to(pat):
    pat.voided = True
    pat.save(update_fields=["voided"])
    assert services.notify_participant(pat, "letter_ready", key="k") is None


def test_an_unknown_template_is_a_programming_error(pat):
    with pytest.raises(ValueError, match="Unknown message template"):
        services.notify_participant(pat, "lab_results", key="k")


# --- sending ---------------------------------------------------------------------------


def test_a_due_message_goes_out_by_text(pat):
    message = services.notify_participant(pat, "screen_call_in", key="k")
    assert delivery.deliver(message, now=at(11, 10)) == "sent"
    message.refresh_from_db()
    assert message.status == "sent" and message.sent_at and message.attempts == 1
    assert message.provider_id == sms.outbox[0].id
    assert sms.outbox[0].to == "+12075550101"
    assert "front desk" in sms.outbox[0].body


def test_an_email_goes_from_the_neutral_sender(pat):
    prefer(pat, sms_on=False)
    message = services.notify_participant(pat, "letter_ready", key="k")
    delivery.deliver(message, now=at(11, 10))
    (email,) = mail.outbox
    assert email.to == ["pat.active@example.org"]
    assert email.from_email.startswith("Your care team <")
    assert email.subject == "Your letter is ready"


def test_a_message_made_in_quiet_hours_waits_until_they_end(pat):
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert delivery.deliver(message, now=at(10, 23)) == "held"
    message.refresh_from_db()
    assert message.status == "queued" and message.send_after == at(11, 8)
    assert sms.outbox == []
    assert delivery.deliver_due(now=at(11, 7, 59)) == {}
    assert delivery.deliver_due(now=at(11, 8)) == {"sent": 1}


def test_the_participants_own_quiet_hours_count(pat):
    prefer(pat, quiet_start=T(22), quiet_end=T(6))
    message = services.notify_participant(pat, "letter_ready", key="k")
    assert delivery.deliver(message, now=at(10, 21, 30)) == "sent"


def test_the_staff_digest_is_not_held_in_quiet_hours(world):
    world.counsellor.email = "robin@example.org"
    world.counsellor.save(update_fields=["email"])
    message = services.notify_staff(
        world.counsellor,
        "staff_digest",
        {"open_alerts": 1, "unsigned_notes": 0, "reviews_waiting": 0, "total": 1},
        key="d",
    )
    assert delivery.deliver(message, now=at(10, 23)) == "sent"
    assert mail.outbox[0].subject == "OpenIOP: 1 item waiting for you"


def test_a_staff_member_without_email_gets_a_skipped_message(world):
    message = services.notify_staff(world.counsellor, "staff_digest", {"total": 0}, key="d")
    assert message.status == "skipped" and "no email" in message.reason


def test_choices_changed_while_a_message_waits_are_honoured(pat):
    message = services.notify_participant(pat, "letter_ready", key="k")
    prefer(pat, sms_on=False)
    assert delivery.deliver(message, now=at(11, 10)) == "sent"
    message.refresh_from_db()
    assert message.channel == "email" and mail.outbox and not sms.outbox


def test_a_message_waiting_when_every_channel_is_turned_off_is_skipped(pat):
    message = services.notify_participant(pat, "letter_ready", key="k")
    prefer(pat, sms_on=False, email_on=False)
    assert delivery.deliver(message, now=at(11, 10)) == "skipped"
    message.refresh_from_db()
    assert "turned off" in message.reason


def test_a_message_past_its_moment_is_not_sent(pat):
    message = services.notify_participant(pat, "screen_call_in", key="k", stale_after=at(11, 0))
    assert delivery.deliver(message, now=at(11, 9)) == "skipped"
    message.refresh_from_db()
    assert message.reason.startswith("Too late")


def test_a_provider_failure_is_kept_and_retried_then_given_up(pat, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.notify.tests.test_delivery.FailingBackend"
    settings.OPENIOP_NOTIFY_MAX_ATTEMPTS = 3
    message = services.notify_participant(pat, "letter_ready", key="k")
    now = at(11, 10)
    assert delivery.deliver(message, now=now) == "retry"
    message.refresh_from_db()
    assert message.status == "queued" and message.attempts == 1
    assert message.error == "Boom: provider down"
    assert message.send_after == now + dt.timedelta(minutes=5)
    assert delivery.deliver_due(now=now + dt.timedelta(minutes=4)) == {}
    assert delivery.deliver_due(now=now + dt.timedelta(minutes=5)) == {"retry": 1}
    message.refresh_from_db()
    assert message.send_after == now + dt.timedelta(minutes=15)  # then 10 minutes later
    assert delivery.deliver_due(now=now + dt.timedelta(minutes=15)) == {"failed": 1}
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)
    assert delivery.deliver_due(now=now + dt.timedelta(days=1)) == {}


def test_the_retry_delay_doubles_up_to_six_hours():
    delays = [delivery.retry_delay(n) for n in (1, 2, 3, 4, 10)]
    assert delays[:4] == [dt.timedelta(minutes=m) for m in (5, 10, 20, 40)]
    assert delays[4] == dt.timedelta(hours=6)


def test_the_outbox_is_never_deleted(pat):
    message = services.notify_participant(pat, "letter_ready", key="k")
    with pytest.raises(TypeError):
        message.delete()
    with pytest.raises(TypeError):
        prefer(pat).delete()


# --- family members ----------------------------------------------------------------------


@pytest.fixture
def family(world):
    from openiop.testing import add_family_portal

    add_family_portal(world)
    return world.family_contact


def test_a_family_member_with_a_consent_is_written_to(world, family):
    message = services.notify_contact(
        family, "family_session_invite", {"when": at(12, 17)}, key="f"
    )
    assert message.status == "queued" and message.to == "+12075550123"
    assert delivery.deliver(message, now=at(11, 10)) == "sent"


def test_a_revoked_consent_stops_messages_to_the_family_member_at_once(world, family):
    from openiop.privacy import services as privacy

    message = services.notify_contact(
        family, "family_session_invite", {"when": at(12, 17)}, key="f"
    )
    privacy.revoke_consent(
        world.family_consent,
        actor=world.counsellor,
        revoked_on=world.program.today(),
        note="Asked by the participant",
    )
    assert delivery.deliver(message, now=at(11, 10)) == "skipped"
    message.refresh_from_db()
    assert message.reason.startswith("No consent in force")
    later = services.notify_contact(family, "family_session_invite", {"when": at(12, 17)}, key="g")
    assert later.status == "skipped"
    assert sms.outbox == []


def test_family_messages_wait_for_the_morning_too(world, family):
    message = services.notify_contact(
        family, "family_session_invite", {"when": at(12, 17)}, key="f"
    )
    assert delivery.deliver(message, now=at(10, 22)) == "held"


# --- invitations ------------------------------------------------------------------------


def invitation(world, **values):
    from django.utils import timezone

    from openiop.portal.models import Invitation

    fields = {
        "kind": "participant",
        "participant": world.active,
        "token_hash": "f" * 64,
        "hint": "abcd",
        "channel": "sms",
        "sent_to": "(207) 555-0101",
        "created_by": world.counsellor,
        "expires_at": timezone.now() + dt.timedelta(days=7),
        **values,
    }
    return Invitation.objects.create(**fields)


def test_an_invitation_goes_out_at_once_and_its_link_is_never_stored(world):
    message = services.send_invitation(invitation(world), "SeCrEtToKeN", actor=world.counsellor)
    assert message.status == "sent"
    assert "SeCrEtToKeN" in sms.outbox[0].body
    assert "SeCrEtToKeN" not in Message.objects.get(pk=message.pk).body
    assert not Message.objects.filter(body__contains="SeCrEtToKeN").exists()


def test_a_failed_invitation_is_not_retried_because_its_link_is_gone(world, settings):
    settings.OPENIOP_SMS_BACKEND = "openiop.notify.tests.test_delivery.FailingBackend"
    message = services.send_invitation(invitation(world), "tok", actor=world.counsellor)
    assert message.status == "failed" and message.attempts == 1
    assert delivery.deliver_due(now=at(11, 10)) == {}


def test_a_printed_invitation_sends_nothing(world):
    message = services.send_invitation(
        invitation(world, channel="printed", sent_to=""), "tok", actor=world.counsellor
    )
    assert message.status == "skipped" and "Printed" in message.reason
    assert sms.outbox == [] and mail.outbox == []


def test_an_invitation_to_a_number_that_cannot_take_a_text_is_skipped(world):
    message = services.send_invitation(
        invitation(world, sent_to="555-01"), "tok", actor=world.counsellor
    )
    assert message.status == "skipped" and "mobile number" in message.reason


def test_an_invitation_is_sent_in_its_language(world):
    message = services.send_invitation(
        invitation(world, channel="email", sent_to="pat@example.org", language="es"),
        "tok",
        actor=world.counsellor,
    )
    assert message.language == "es"
    assert mail.outbox[0].to == ["pat@example.org"]


def test_the_worker_knows_the_notification_jobs():
    from openiop.core.worker import REGISTRY

    assert {
        "notify.deliver",
        "notify.session_reminders",
        "notify.screen_call_ins",
        "notify.check_in_links",
        "notify.instruments_due",
        "notify.staff_digest",
    } <= set(REGISTRY)


def test_a_message_that_breaks_is_postponed_and_the_others_still_go(pat, monkeypatch):
    from openiop.portal import onetap

    broken = services.notify_participant(
        pat, "check_in_link", {"one_tap": "check_in", "day": dt.date(2031, 6, 11)}, key="b"
    )
    fine = services.notify_participant(pat, "letter_ready", key="f")

    def explode(*args, **kwargs):
        raise RuntimeError("the link service is down")

    monkeypatch.setattr(onetap, "issue", explode)
    assert fine.send_after < at(11, 10)
    assert delivery.deliver_due(now=at(11, 10)) == {"retry": 1, "sent": 1}
    broken.refresh_from_db()
    assert broken.status == "queued" and broken.attempts == 1
    assert broken.error == "RuntimeError: the link service is down"
