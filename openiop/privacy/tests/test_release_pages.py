"""Releasing records: refused without consent (with the reasons), produced with the
notice under one, listed in the accounting, refused again after revocation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from openiop.core.pdf import pdf_text
from openiop.privacy import gate, services
from openiop.privacy.models import Disclosure
from openiop.testing import employer_consent_input

pytestmark = pytest.mark.django_db

LETTER = {
    "document": "attendance_letter",
    "recipient_kind": "employer",
    "recipient_name": "Acme Logistics",
    "recipient_address": "12 Dock Road, Portland",
    "purpose": "employment",
}


def url(world, name="release", **kw):
    return reverse(f"participant_privacy:{name}", kwargs={"pk": world.active.pk, **kw})


def test_without_consent_the_letter_is_refused_with_the_reason(login, world):
    client = login(world.counsellor)
    response = client.post(url(world), LETTER)
    assert response.status_code == 409
    assert b"Refused: no consent in force covers this disclosure" in response.content
    assert b"There is no consent on file" in response.content
    assert not Disclosure.objects.exists()


def test_with_consent_the_letter_goes_out_with_the_notice_and_is_accounted(login, world):
    services.record_consent(world.active, employer_consent_input(), actor=world.counsellor)
    client = login(world.counsellor)
    response = client.post(url(world), LETTER)
    assert response.status_code == 302
    disclosure = Disclosure.objects.get()
    assert response["Location"] == reverse(
        "participant_privacy:disclosure", args=[world.active.pk, disclosure.pk]
    )
    text = pdf_text(bytes(disclosure.document))
    squashed = " ".join(text.split())
    assert "Attendance letter" in squashed
    assert "Acme Logistics" in squashed
    assert "protected by Federal confidentiality rules (42 CFR part 2)" in squashed
    assert "Scope of the consent" in squashed
    assert disclosure.reference.startswith("D-")
    # The attendance the world recorded (world.session: present).
    assert world.session.date.strftime("%b %-d, %Y") in squashed
    pdf = client.get(url(world, "disclosure_pdf", disclosure_pk=disclosure.pk))
    assert pdf.status_code == 200 and pdf.content == bytes(disclosure.document)
    accounting = client.get(url(world, "accounting"))
    assert b"Acme Logistics" in accounting.content
    printed = client.get(url(world, "accounting_pdf"))
    assert printed.status_code == 200
    assert "Acme Logistics" in pdf_text(printed.content)


def test_after_revocation_the_letter_is_refused_again(login, world):
    consent = services.record_consent(
        world.active, employer_consent_input(), actor=world.counsellor
    )
    client = login(world.counsellor)
    assert client.post(url(world), LETTER).status_code == 302
    services.revoke_consent(
        consent, actor=world.counsellor, revoked_on=world.program.today(), note="By letter"
    )
    response = client.post(url(world), LETTER)
    assert response.status_code == 409
    assert b"revoked on" in response.content
    assert Disclosure.objects.count() == 1


def test_a_letter_choosing_the_recipient_from_the_consent(login, world):
    consent = services.record_consent(
        world.active, employer_consent_input(), actor=world.counsellor
    )
    client = login(world.counsellor)
    page = client.get(url(world))
    assert b"Acme Logistics" in page.content
    response = client.post(
        url(world), {"document": "enrolment_letter", "consent": consent.pk, "purpose": "employment"}
    )
    assert response.status_code == 302
    assert Disclosure.objects.get().information == ["enrolment"]


def test_a_summary_with_screens_is_refused_when_the_consent_does_not_cover_them(login, world):
    services.record_consent(world.active, employer_consent_input(), actor=world.counsellor)
    client = login(world.counsellor)
    response = client.post(
        url(world),
        {**LETTER, "document": "record_summary", "summary_information": ["screening"]},
    )
    assert response.status_code == 409
    assert b"Drug and alcohol test results" in response.content


@pytest.mark.parametrize(
    "data",
    [
        {},
        {**LETTER, "document": "nope"},
        {**LETTER, "recipient_name": ""},
        {**LETTER, "consent": "99999999999999999999"},
        {**LETTER, "consent": "abc"},
        {**LETTER, "period_start": "2026-13-01"},
        {**LETTER, "period_start": "2026-10-01", "period_end": "2026-09-01"},
        {**LETTER, "document": "record_summary"},
        {**LETTER, "purpose": "other"},
    ],
)
def test_bad_input_is_a_form_error(login, world, data):
    response = login(world.counsellor).post(url(world), data)
    assert response.status_code == 400


def test_billing_cannot_release_records(login, world):
    response = login(world.billing).get(url(world))
    assert response.status_code == 403


def test_the_accounting_period_is_validated(login, world):
    client = login(world.compliance)
    assert client.get(url(world, "accounting"), {"since": "nope"}).status_code == 400
    assert client.get(url(world, "accounting"), {"since": "2020-01-01"}).status_code == 200


def test_the_register_lists_disclosures_of_the_users_programs(login, world):
    services.record_consent(world.active, employer_consent_input(), actor=world.counsellor)
    gate.disclose(
        gate.DisclosureRequest(
            participant=world.active,
            recipient_kind="employer",
            recipient_name="Acme Logistics",
            purpose="employment",
            information=("attendance",),
            channel="letter",
            description="Attendance letter",
        ),
        actor=world.counsellor,
    )
    page = login(world.compliance).get(reverse("privacy:disclosures"))
    assert page.status_code == 200
    assert world.active.record_number.encode() in page.content
    assert (
        b"Acme Logistics" not in login(world.outsider).get(reverse("privacy:disclosures")).content
    )
