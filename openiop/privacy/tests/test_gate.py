"""The disclosure gate: a consent in force that covers recipient, purpose and
information, or a refusal that names what is missing (42 CFR §2.31, §2.32)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from openiop.core.models import AuditEvent, SignedRecordError
from openiop.privacy import gate, services
from openiop.privacy.choices import Channel, ConsentKind, InfoCategory, Purpose, RecipientKind
from openiop.privacy.models import Disclosure
from openiop.testing import employer_consent_input

pytestmark = pytest.mark.django_db


def letter(world, **overrides):
    values = {
        "participant": world.active,
        "recipient_kind": RecipientKind.EMPLOYER,
        "recipient_name": "Acme Logistics",
        "purpose": Purpose.EMPLOYMENT,
        "information": (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
        "channel": Channel.LETTER,
        "description": "Attendance letter",
    }
    values.update(overrides)
    return gate.DisclosureRequest(**values)


def consent(world, **overrides):
    return services.record_consent(
        world.active, employer_consent_input(**overrides), actor=world.counsellor
    )


def test_no_consent_on_file_is_refused(world):
    decision = gate.check(letter(world))
    assert not decision.allowed
    assert decision.reasons == ["There is no consent on file for this participant."]


def test_a_consent_naming_recipient_purpose_and_information_allows_it(world):
    c = consent(world)
    decision = gate.check(letter(world))
    assert decision.allowed and decision.consent == c


def test_the_recipient_name_compares_without_case_or_punctuation(world):
    consent(world)
    assert gate.check(letter(world, recipient_name="ACME  logistics.")).allowed


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"recipient_name": "Beta Foods"}, "it names Acme Logistics, not Beta Foods"),
        ({"recipient_kind": RecipientKind.LEGAL}, "it names Acme Logistics"),
        ({"purpose": Purpose.LEGAL}, "does not cover the purpose"),
        (
            {"information": (InfoCategory.ATTENDANCE, InfoCategory.SCREENING)},
            "it does not cover: Drug and alcohol test results",
        ),
        (
            {"information": (InfoCategory.COUNSELLING_NOTES,)},
            "SUD counselling notes need their own separate consent",
        ),
    ],
)
def test_the_gate_refuses_each_element_it_does_not_cover(world, override, reason):
    consent(world)
    decision = gate.check(letter(world, **override))
    assert not decision.allowed
    assert reason in " ".join(decision.reasons)


def test_an_expired_consent_stops_working(world):
    today = world.program.today()
    consent(world, signed_on=today - dt.timedelta(days=40), expires_on=today)
    assert gate.check(letter(world), on=today).allowed
    decision = gate.check(letter(world), on=today + dt.timedelta(days=1))
    assert not decision.allowed
    assert "expired on" in decision.reasons[0]


def test_a_consent_not_yet_signed_on_that_day_does_not_work(world):
    today = world.program.today()
    consent(world, signed_on=today)
    assert not gate.check(letter(world), on=today - dt.timedelta(days=1)).allowed


def test_a_revoked_consent_stops_working_at_once(world):
    c = consent(world)
    assert gate.check(letter(world)).allowed
    services.revoke_consent(
        c, actor=world.counsellor, revoked_on=world.program.today(), note="In writing"
    )
    decision = gate.check(letter(world))
    assert not decision.allowed
    assert "revoked on" in decision.reasons[0]


def test_a_voided_consent_does_not_work(world):
    c = consent(world)
    services.void_consent(c, actor=world.counsellor, reason="Wrong participant")
    decision = gate.check(letter(world))
    assert not decision.allowed
    assert decision.reasons == ["There is no consent on file for this participant."]


def test_end_of_treatment_expiry_follows_the_discharge(world):
    from openiop.participants.models import Episode

    consent(world, expires_on=None, expiry_event="end_of_treatment")
    assert gate.check(letter(world)).allowed
    Episode.objects.filter(pk=world.active.current_episode_id).update(
        discharge_date=world.program.today()
    )
    decision = gate.check(letter(world))
    assert not decision.allowed
    assert "end of treatment" in decision.reasons[0]


def tpo(world, **overrides):
    values = {
        "kind": ConsentKind.TPO,
        "recipient_kind": RecipientKind.TPO_CLASS,
        "recipient_name": services.TPO_DEFAULT_RECIPIENTS,
        "purposes": (Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS),
        "information": (InfoCategory.ATTENDANCE, InfoCategory.DIAGNOSIS),
        "expires_on": None,
        "expiry_event": "none",
        "refusal_consequences_stated": True,
        "redisclosure_stated": True,
    }
    values.update(overrides)
    return consent(world, **values)


def test_a_tpo_consent_covers_a_treating_provider_for_treatment(world):
    tpo(world)
    req = letter(
        world,
        recipient_kind=RecipientKind.PROVIDER,
        recipient_name="Dr. Lee, Harbor Family Medicine",
        purpose=Purpose.TREATMENT,
        information=(InfoCategory.DIAGNOSIS,),
    )
    assert gate.check(req).allowed


def test_a_tpo_consent_covers_only_tpo(world):
    tpo(world)
    employer = gate.check(letter(world, information=(InfoCategory.ATTENDANCE,)))
    assert not employer.allowed
    assert "TPO consent does not cover a recipient" in employer.reasons[0]
    provider_for_court = gate.check(
        letter(
            world,
            recipient_kind=RecipientKind.PROVIDER,
            recipient_name="Dr. Lee",
            purpose=Purpose.LEGAL,
            information=(InfoCategory.ATTENDANCE,),
        )
    )
    assert "does not cover the purpose" in provider_for_court.reasons[0]


def test_disclose_writes_the_record_with_the_notice_scope_and_digest(world):
    c = consent(world)
    document = b"%PDF-1.7 letter"
    disclosure = gate.disclose(
        letter(world, reference="D-000001"), actor=world.counsellor, document=document
    )
    assert disclosure.consent == c
    assert disclosure.notice.startswith(gate.NOTICE_LONG)
    assert "Acme Logistics" in disclosure.notice.split(gate.NOTICE_LONG)[1]
    assert disclosure.document_sha256 == hashlib.sha256(document).hexdigest()
    assert bytes(disclosure.document) == document
    assert disclosure.information == ["attendance", "enrolment"]
    event = AuditEvent.objects.filter(action="disclose").latest("id")
    assert event.participant_id == world.active.pk


def test_disclose_refuses_and_audits_the_reason(world):
    with pytest.raises(gate.DisclosureRefused) as refused:
        gate.disclose(letter(world), actor=world.counsellor)
    assert "no consent on file" in refused.value.reasons[0]
    assert not Disclosure.objects.exists()
    event = AuditEvent.objects.filter(action="disclose_refused").latest("id")
    assert "no consent" in event.reason
    assert event.participant_id == world.active.pk


def test_a_disclosure_and_a_consent_never_change(world):
    c = consent(world)
    disclosure = gate.disclose(letter(world), actor=world.counsellor)
    disclosure.recipient_name = "Someone else"
    with pytest.raises(TypeError):
        disclosure.save()
    with pytest.raises(TypeError):
        disclosure.delete()
    c.recipient_name = "Someone else"
    with pytest.raises(SignedRecordError):
        c.save()


def test_the_short_notice_is_the_one_line_statement(world):
    consent(world)
    disclosure = gate.disclose(letter(world), actor=world.counsellor, short_notice=True)
    assert disclosure.notice.startswith(
        "42 CFR part 2 prohibits unauthorized use or disclosure of these records."
    )


def test_family_access_needs_a_consent_naming_the_contact(world):
    from openiop.testing import add_relapse  # noqa: F401  (world has world.contact)

    contact = world.contact
    assert not gate.family_access_allowed(contact, [InfoCategory.ENROLMENT]).allowed
    consent(
        world,
        recipient_kind=RecipientKind.FAMILY,
        recipient_name=contact.name,
        contact_id=contact.pk,
        purposes=(Purpose.FAMILY,),
        information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
    )
    assert gate.family_access_allowed(contact, [InfoCategory.ENROLMENT]).allowed
    assert not gate.family_access_allowed(contact, [InfoCategory.SCREENING]).allowed
