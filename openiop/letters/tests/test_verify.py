"""The public verification page (issue 9, acceptance 4): a genuine code confirms the
letter and shows what it states and no more; a forged, altered or malformed code is
rejected with 404; guessing is throttled per client address; every answer is audited."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from openiop.core.models import AuditEvent
from openiop.letters import verify
from openiop.letters.models import VerificationAttempt
from openiop.testing import LETTER_CODE, add_letter

pytestmark = pytest.mark.django_db

URL = "/verify/"


def check(client, code, **extra):
    return client.post(URL, {"code": code}, **extra)


@pytest.fixture
def letter(world):
    add_letter(world)
    return world.letter.disclosure.verification


# --- codes -----------------------------------------------------------------------------------


def test_a_code_has_sixty_bits_in_three_groups_of_crockford_base32():
    codes = {verify.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 14 and code[4] == code[9] == "-"
        assert set(code.replace("-", "")) <= set(verify.ALPHABET)
    assert len(verify.ALPHABET) ** verify.LENGTH == 2**60


@pytest.mark.parametrize(
    "typed",
    ["7KQ2-M9XD-4HTC", "7kq2m9xd4htc", " 7KQ2 M9XD 4HTC ", "7KQ2–M9XD–4HTC", "7KQ2-M9XD-4HTC"],
)
def test_a_code_is_read_however_it_is_typed(typed):
    assert verify.normalise(typed) == "7KQ2M9XD4HTC"


def test_letters_that_look_alike_are_read_as_the_digits():
    assert verify.normalise("I0OL-0000-0000") == "1001" + "0" * 8


@pytest.mark.parametrize(
    "typed", ["", "7KQ2-M9XD-4HT", "7KQ2-M9XD-4HTCC", "7KQ2-M9XD-4HTU", "é" * 12]
)
def test_what_cannot_be_a_code_is_not_read(typed):
    assert verify.normalise(typed) is None


def test_the_url_on_the_letter_carries_the_code_in_the_fragment_only(settings):
    settings.OPENIOP_PUBLIC_URL = "https://openiop.example.org"
    assert verify.verify_url() == "https://openiop.example.org/verify/"
    assert verify.verify_url(LETTER_CODE) == f"https://openiop.example.org/verify/#{LETTER_CODE}"


# --- the page ----------------------------------------------------------------------------------


def test_the_page_asks_for_the_code_without_signing_in(client, db):
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="code"' in body and 'method="post"' in body
    assert '<label for="id_code">Verification code</label>' in body


def test_a_genuine_code_confirms_the_letter_and_shows_what_it_states(client, world, letter):
    response = check(client, LETTER_CODE)
    assert response.status_code == 200
    body = response.content.decode()
    assert "This letter is genuine" in body
    assert letter.reference in body
    assert world.active.legal_name in body
    assert "Acme Logistics" in body
    assert world.program.name in body
    for day, hours in letter.day_rows:
        assert f"{day:%a} {day.day} {day:%b} {day.year}" in body
        assert f'<td class="num">{hours}</td>' in body
    # The total is a data cell (a <th> there is a header describing no cells: axe-core).
    assert f'<td class="num" data-total><strong>{letter.total_hours}</strong></td>' in body
    admitted = world.active.current_episode.admission_date
    assert f"Admitted {date_format(admitted, 'DATE_FORMAT')}" in body


def test_the_page_shows_no_more_than_the_letter(client, world, letter):
    body = check(client, LETTER_CODE).content.decode()
    participant = world.active
    # Not on the letter: the date of birth, the record number, the address the letter was
    # sent to, the consent, the counsellor, anything clinical.
    for absent in (
        participant.date_of_birth.isoformat(),
        f"{participant.date_of_birth:%B} {participant.date_of_birth.day}",
        participant.record_number,
        "12 Dock Road",
        "Counsellor Tester",
        "PHQ",
        "diagnos",
    ):
        assert absent not in body, absent


def test_the_code_in_any_typed_form_confirms_the_letter(client, world, letter):
    assert check(client, "7kq2 m9xd 4htc").status_code == 200


@pytest.mark.parametrize(
    "typed",
    [
        "7KQ2-M9XD-4HTD",  # one character changed (a tampered code)
        "4HTC-M9XD-7KQ2",  # groups swapped
        "ZZZZ-ZZZZ-ZZZZ",  # forged
        "7KQ2-M9XD",  # cut short
        "<script>alert(1)</script>",  # not a code at all
    ],
)
def test_a_forged_or_altered_code_is_rejected(client, world, letter, typed):
    response = check(client, typed)
    assert response.status_code == 404
    body = response.content.decode()
    assert "No letter has this code." in body
    assert "This letter is genuine" not in body
    assert letter.reference not in body and world.active.legal_name not in body
    assert "<script>alert(1)</script>" not in body


def test_an_empty_code_is_a_form_error(client, db):
    response = check(client, "   ")
    assert response.status_code == 400
    assert response.context["form"].errors


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"code": "x" * 100_000},
        {"code": "7KQ2\x00M9XD4HTC"},
        {"code": ["7KQ2-M9XD-4HTC", "ZZZZ-ZZZZ-ZZZZ"]},
        {"code": "7KQ2-M9XD-4HTC", **{f"extra{i}": "1" for i in range(1500)}},
    ],
)
def test_hostile_input_is_refused_without_an_error_of_the_server(client, db, payload):
    response = client.post(URL, payload)
    assert response.status_code in (400, 404)


def test_a_json_body_is_a_form_error(client, db):
    response = client.post(URL, json.dumps({"code": LETTER_CODE}), content_type="application/json")
    assert response.status_code == 400


def test_other_methods_are_refused(client, db):
    assert client.put(URL).status_code == 405


def test_the_page_speaks_spanish_when_asked(client, db):
    response = client.get(URL + "?lang=es")
    assert response.status_code == 200
    assert b'lang="es"' in response.content


# --- audit ---------------------------------------------------------------------------------------


def test_a_confirmed_letter_is_audited_with_its_participant(client, world, letter):
    check(client, LETTER_CODE)
    event = AuditEvent.objects.filter(object_type="letters.letterverification").latest("id")
    assert (event.action, event.actor_id, event.participant_id) == ("view", None, world.active.pk)
    assert event.object_id == str(letter.pk)


def test_an_unknown_code_is_audited_without_the_code(client, world, letter):
    check(client, "ZZZZ-ZZZZ-ZZZZ")
    event = AuditEvent.objects.filter(object_type="letters.letterverification").latest("id")
    assert (event.action, event.actor_id, event.participant_id) == ("denied", None, None)
    assert "ZZZZ" not in json.dumps(
        AuditEvent.objects.filter(pk=event.pk).values().get(), default=str
    )


# --- the throttle ---------------------------------------------------------------------------------


def test_twenty_unknown_codes_in_fifteen_minutes_are_refused_for_a_while(
    client, world, letter, settings
):
    assert (settings.OPENIOP_VERIFY_FAILURES, settings.OPENIOP_VERIFY_WINDOW_MINUTES) == (20, 15)
    for _ in range(20):
        assert check(client, "ZZZZ-ZZZZ-ZZZZ").status_code == 404
    refused = check(client, LETTER_CODE)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 15 * 60
    assert b"Too many codes" in refused.content
    assert letter.reference.encode() not in refused.content
    # The limit reached is audited once, naming the address.
    locked = AuditEvent.objects.filter(action="locked_out", object_type="client address")
    assert [e.object_repr for e in locked] == ["127.0.0.1"]
    # Another address is not refused.
    assert check(client, LETTER_CODE, REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_refusal_ends_when_the_failures_age(client, world, letter, settings):
    for _ in range(20):
        check(client, "ZZZZ-ZZZZ-ZZZZ")
    VerificationAttempt.objects.update(at=timezone.now() - dt.timedelta(minutes=16))
    assert check(client, LETTER_CODE).status_code == 200


def test_genuine_codes_do_not_count_towards_the_limit(client, world, letter, settings):
    settings.OPENIOP_VERIFY_FAILURES = 3
    for _ in range(5):
        assert check(client, LETTER_CODE).status_code == 200
    assert not VerificationAttempt.objects.exists()


def test_old_failures_are_forgotten_by_the_daily_job(db):
    from openiop.core.worker import REGISTRY

    assert "letters.forget_verification_attempts" in REGISTRY
    VerificationAttempt.objects.create(
        client_ip="10.0.0.1", at=timezone.now() - dt.timedelta(days=2)
    )
    VerificationAttempt.objects.create(client_ip="10.0.0.1")
    assert verify.forget_old_attempts() == 1
    assert VerificationAttempt.objects.count() == 1


def test_the_verification_page_is_in_the_public_list():
    from openiop.tests.test_url_access import PUBLIC

    assert "verify_letter" in PUBLIC
    assert reverse("verify_letter") == URL
