"""Attendance letters (issue 9, acceptance 4): refused without consent, produced with it
(the PDF has the dates, hours, the §2.32 notice and the verification code), and the
request workflow."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from openiop.attendance.models import Attendance
from openiop.core.models import AuditEvent
from openiop.core.pdf import pdf_text
from openiop.letters import services, verify
from openiop.letters.choices import LetterStatus, RequestedVia
from openiop.letters.models import LetterRequest, LetterVerification
from openiop.privacy import gate
from openiop.privacy import services as privacy
from openiop.privacy.choices import ConsentKind, Purpose, RecipientKind
from openiop.privacy.models import Disclosure
from openiop.testing import (
    LETTER_CODE,
    add_letter,
    add_letter_request,
    add_portal,
    add_privacy,
    employer_consent_input,
)

pytestmark = pytest.mark.django_db


def produce(world, **overrides):
    today = world.program.today()
    values = {
        "recipient_kind": "employer",
        "recipient_name": "Acme Logistics",
        "recipient_address": "12 Dock Road, Portland",
        "period_start": today - dt.timedelta(days=28),
        "period_end": today,
        "actor": world.counsellor,
    }
    values.update(overrides)
    return services.produce(world.active, **values)


def attended(world) -> list[tuple[dt.date, int]]:
    return sorted(
        Attendance.objects.filter(
            participant=world.active, voided=False, minutes_attended__gt=0
        ).values_list("session__date", "minutes_attended")
    )


# --- the consent gate ---------------------------------------------------------------------------


def test_a_letter_is_refused_without_consent_and_says_why(world):
    with pytest.raises(gate.DisclosureRefused) as refused:
        produce(world)
    assert refused.value.reasons == ["There is no consent on file for this participant."]
    assert not Disclosure.objects.exists()
    assert not LetterVerification.objects.exists()
    event = AuditEvent.objects.filter(action="disclose_refused").latest("id")
    assert event.participant_id == world.active.pk
    assert "no consent on file" in event.reason


def test_a_tpo_consent_does_not_cover_a_letter_to_an_employer(world):
    add_privacy(world)
    privacy.revoke_consent(
        world.consent, actor=world.counsellor, revoked_on=world.program.today(), note="Revoked"
    )
    with pytest.raises(gate.DisclosureRefused) as refused:
        produce(world)
    text = " ".join(refused.value.reasons)
    assert "TPO consent does not cover a recipient of the kind “Employer”" in text
    assert "revoked on" in text


def test_a_consent_for_another_recipient_or_purpose_is_not_enough(world):
    add_privacy(world)
    with pytest.raises(gate.DisclosureRefused) as refused:
        produce(world, recipient_kind="legal", recipient_name="County Adult Probation")
    text = " ".join(refused.value.reasons)
    assert "it names Acme Logistics, not County Adult Probation" in text
    assert "Court, probation or parole" in text


def test_a_letter_is_produced_with_consent_and_states_the_days_and_hours(world, settings):
    settings.OPENIOP_PUBLIC_URL = "https://openiop.example.org"
    add_privacy(world)
    disclosure = produce(world)
    assert disclosure.consent == world.consent
    assert disclosure.channel == "letter"
    assert disclosure.recipient_kind == RecipientKind.EMPLOYER
    assert disclosure.purpose == Purpose.EMPLOYMENT
    assert disclosure.information == ["attendance", "enrolment"]
    assert disclosure.description == "Attendance letter"
    assert re.fullmatch(r"D-\d{6}", disclosure.reference)
    text = pdf_text(bytes(disclosure.document))
    flat = " ".join(text.split())
    assert "Attendance letter" in flat
    assert "Acme Logistics" in flat
    assert world.active.legal_name in flat
    days = attended(world)
    assert days, "the world has attendance"
    for day, _minutes in days:
        assert f"{day:%a}, {day:%b} {day.day}, {day.year}" in flat
    total = sum(m for _d, m in days)
    verification = disclosure.verification
    assert verification.total_hours == Decimal(total) / 60
    assert f"{verification.total_hours} hours" in flat
    # §2.32: the notice, and the consent's scope, go with the letter.
    assert "protected by Federal confidentiality rules (42 CFR part 2)" in flat
    assert "Disclosed under the written consent signed by Pat Active" in flat
    # The verification code and the page to check it on.
    code = re.search(r"Verification code: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", flat)
    assert code, flat
    assert verify.find(code.group(1)) == verification
    assert "Go to https://openiop.example.org/verify/ and type the code" in flat


def test_the_verification_record_keeps_exactly_what_the_letter_states(world):
    add_privacy(world)
    today = world.program.today()
    disclosure = produce(world, code=LETTER_CODE)
    v = LetterVerification.objects.get()
    assert v.disclosure == disclosure
    assert v.code_sha256 == verify.digest(LETTER_CODE)
    assert v.code_hint == LETTER_CODE[:4]
    assert LETTER_CODE not in str(LetterVerification.objects.values().get())
    assert v.participant_name == world.active.legal_name
    assert v.program_name == world.program.name
    assert v.recipient_name == "Acme Logistics"
    assert (v.period_start, v.period_end) == (today - dt.timedelta(days=28), today)
    assert v.issued_on == today
    assert v.reference == disclosure.reference
    minutes: dict[dt.date, int] = {}
    for day, m in attended(world):
        minutes[day] = minutes.get(day, 0) + m
    assert [d for d, _h in v.day_rows] == sorted(minutes)
    admitted = world.active.current_episode.admission_date
    assert v.enrolment_rows == [(admitted, None)]
    with pytest.raises(TypeError):
        v.save()
    with pytest.raises(TypeError):
        v.delete()


def test_attendance_outside_the_period_is_not_in_the_letter(world):
    add_privacy(world)
    session_day = world.session.date
    produce(world, period_start=session_day + dt.timedelta(days=1))
    v = LetterVerification.objects.get()
    assert session_day not in [d for d, _h in v.day_rows]


def test_a_consent_revoked_while_the_letter_is_made_refuses_it(world, monkeypatch):
    add_privacy(world)
    real = services.render_pdf_bytes

    def revoke_then_render(*args, **kwargs):
        privacy.revoke_consent(
            world.consent, actor=world.counsellor, revoked_on=world.program.today(), note="x"
        )
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "render_pdf_bytes", revoke_then_render)
    with pytest.raises(gate.DisclosureRefused):
        produce(world)
    assert not Disclosure.objects.exists()
    assert not LetterVerification.objects.exists()
    assert AuditEvent.objects.filter(action="disclose_refused").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"recipient_kind": "school"}, "Choose who the letter is for."),
        ({"recipient_name": "  "}, "Name the person or organisation"),
        ({"recipient_name": "x" * 201}, "too long"),
        ({"period_end": dt.date(2999, 1, 1)}, "cannot end after today"),
        ({"period_start": dt.date(2000, 1, 1)}, "at most three years"),
    ],
)
def test_a_letter_that_is_not_valid_is_refused_before_the_gate(world, overrides, message):
    add_privacy(world)
    with pytest.raises(services.LetterError, match=message):
        produce(world, **overrides)
    assert not Disclosure.objects.exists()


# --- the request workflow ---------------------------------------------------------------------


def test_a_participant_requests_a_letter_and_it_waits(world):
    add_letter_request(world)
    r = world.letter_request
    assert r.status == LetterStatus.PENDING
    assert r.requested_via == RequestedVia.PORTAL
    assert r.requested_by == world.portal_participant
    assert r.episode == world.active.current_episode
    event = AuditEvent.objects.filter(object_type="letters.letterrequest").latest("id")
    assert (event.action, event.actor_id) == ("create", world.portal_participant.pk)
    assert event.participant_id == world.active.pk


def test_producing_a_request_makes_it_ready_and_notifies_the_participant(
    world, django_capture_on_commit_callbacks, monkeypatch
):
    calls = []
    monkeypatch.setattr(services, "notify_ready", lambda p, pk: calls.append((p.pk, pk)))
    add_privacy(world)
    add_letter_request(world)
    with django_capture_on_commit_callbacks(execute=True):
        disclosure = produce(world, letter_request=world.letter_request)
    r = LetterRequest.objects.get(pk=world.letter_request.pk)
    assert r.status == LetterStatus.PRODUCED
    assert r.disclosure == disclosure
    assert r.decided_by == world.counsellor
    assert calls == [(world.active.pk, r.pk)]


def test_the_notification_is_the_letter_ready_message(world, monkeypatch):
    from openiop.notify import services as notify

    sent = []
    monkeypatch.setattr(notify, "notify_participant", lambda *a, **kw: sent.append((a, kw)) or None)
    services.notify_ready(world.active, 42)
    assert sent == [((world.active, "letter_ready", {}), {"key": "letter-ready:42"})]


def test_a_letter_from_the_chart_is_kept_as_a_request_made_by_staff(world):
    add_privacy(world)
    disclosure = produce(world)
    r = LetterRequest.objects.get()
    assert (r.status, r.requested_via, r.requested_by) == (
        LetterStatus.PRODUCED,
        RequestedVia.STAFF,
        world.counsellor,
    )
    assert r.disclosure == disclosure
    assert r.recipient_kind == "employer"


def test_a_produced_request_is_not_produced_twice(world):
    add_letter(world)
    with pytest.raises(services.LetterError, match="no longer waiting"):
        produce(world, letter_request=world.letter)
    assert Disclosure.objects.count() == 1


def test_a_request_is_declined_with_a_reason(world):
    add_letter_request(world)
    declined = services.decline(
        world.letter_request, actor=world.counsellor, reason="No consent; asked Pat to sign one."
    )
    assert declined.status == LetterStatus.DECLINED
    assert declined.decline_reason == "No consent; asked Pat to sign one."
    assert declined.decided_by == world.counsellor
    with pytest.raises(services.LetterError, match="no longer waiting"):
        services.withdraw(declined, actor=world.portal_participant)
    with pytest.raises(services.LetterError):
        services.decline(world.letter_request, actor=world.counsellor, reason="  ")


def test_a_participant_withdraws_a_waiting_request(world):
    add_letter_request(world)
    withdrawn = services.withdraw(world.letter_request, actor=world.portal_participant)
    assert withdrawn.status == LetterStatus.WITHDRAWN
    event = AuditEvent.objects.filter(object_type="letters.letterrequest").latest("id")
    assert event.action == "transition"
    assert event.changes == {"status": ["pending", "withdrawn"]}
    add_privacy(world)
    with pytest.raises(services.LetterError):
        produce(world, letter_request=withdrawn)


def test_a_participant_cannot_flood_the_worklist(world):
    add_portal(world)
    today = world.program.today()
    for _ in range(services.MAX_PENDING):
        services.request_letter(
            world.active,
            actor=world.portal_participant,
            recipient_kind="other",
            recipient_name="Landlord",
            period_start=today,
            period_end=today,
        )
    with pytest.raises(services.LetterError, match="already have 5 requests waiting"):
        services.request_letter(
            world.active,
            actor=world.portal_participant,
            recipient_kind="other",
            recipient_name="Landlord",
            period_start=today,
            period_end=today,
        )


def test_someone_else_needs_a_consent_at_the_participants_request(world):
    privacy.record_consent(
        world.active,
        employer_consent_input(
            kind=ConsentKind.SPECIFIC,
            recipient_kind=RecipientKind.OTHER,
            recipient_name="Harbor Housing Authority",
            purposes=(Purpose.PATIENT_REQUEST,),
        ),
        actor=world.counsellor,
    )
    disclosure = produce(world, recipient_kind="other", recipient_name="Harbor Housing Authority")
    assert disclosure.purpose == Purpose.PATIENT_REQUEST
