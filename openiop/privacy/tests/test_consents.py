"""The consent registry's rules (42 CFR §2.31, DOMAIN.md §2.3): every element is required
(refused by `services.consent_problems` and by the recording page, beside its field),
expiry by date and at the end of treatment, revocation at once, a recorded consent never
changes, TPO covers only TPO and states its two statements, counselling notes stand
alone."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from openiop.core.models import SignedRecordError
from openiop.participants import services as participant_services
from openiop.participants.choices import EpisodeStatus as S
from openiop.privacy import gate, registry, services
from openiop.privacy.choices import (
    TPO_PURPOSES,
    Channel,
    ConsentKind,
    InfoCategory,
    Purpose,
    RecipientKind,
)
from openiop.privacy.models import Consent
from openiop.testing import add_privacy, employer_consent_input


def tpo_input(**overrides: Any) -> services.ConsentInput:
    values: dict[str, Any] = {
        "kind": ConsentKind.TPO,
        "recipient_kind": RecipientKind.TPO_CLASS,
        "recipient_name": services.TPO_DEFAULT_RECIPIENTS,
        "recipient_address": "",
        "purposes": (Purpose.TREATMENT, Purpose.PAYMENT, Purpose.OPERATIONS),
        "information": (InfoCategory.ATTENDANCE, InfoCategory.PLAN),
        "information_detail": "My treatment records at Harbor IOP",
        "expires_on": None,
        "expiry_event": "end_of_treatment",
        "refusal_consequences_stated": True,
        "redisclosure_stated": True,
    }
    return employer_consent_input(**{**values, **overrides})


def page_payload(world, kind: str, **changes: Any) -> dict[str, Any]:
    """What the recording page posts for a complete consent of `kind`."""
    today = world.program.today()
    payload: dict[str, Any] = {
        "discloser": "Harbor IOP",
        "recipient_kind": "employer",
        "recipient_name": "Acme Logistics",
        "recipient_address": "12 Dock Road, Portland",
        "purposes": ["employment"],
        "purpose_detail": "",
        "information": ["enrolment", "attendance"],
        "information_detail": "Dates of enrolment and the dates and hours attended",
        "expires_on": (today + dt.timedelta(days=90)).isoformat(),
        "expiry_event": "",
        "revocation_explained": "on",
        "signed_by": "Pat Active",
        "signer_role": "self",
        "signed_on": today.isoformat(),
        "signature_method": "paper",
    }
    if kind == ConsentKind.TPO:
        payload.update(
            {
                "recipient_kind": "tpo_class",
                "recipient_name": services.TPO_DEFAULT_RECIPIENTS,
                "recipient_address": "",
                "purposes": ["TREAT", "HPAYMT", "HOPERAT"],
                "information": ["attendance", "plan"],
                "expires_on": "",
                "expiry_event": "end_of_treatment",
                "refusal_consequences_stated": "on",
                "redisclosure_stated": "on",
            }
        )
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return payload


# One row per element of §2.31(a) (and the two TPO extras): what the service is given
# without it, what the page is posted without it, and the field the refusal names.
ELEMENTS = [
    # 2: who may disclose
    ("2 discloser", "specific", {"discloser": " "}, {"discloser": ""}, "discloser"),
    # 3: the information, by category and described specifically
    ("3 information", "specific", {"information": ()}, {"information": None}, "information"),
    (
        "3 information described",
        "specific",
        {"information_detail": ""},
        {"information_detail": ""},
        "information_detail",
    ),
    # 4: the recipient, named and of a kind
    ("4 recipient", "specific", {"recipient_name": ""}, {"recipient_name": ""}, "recipient_name"),
    (
        "4 recipient kind",
        "specific",
        {"recipient_kind": ""},
        {"recipient_kind": ""},
        "recipient_kind",
    ),
    # 5: the purpose
    ("5 purpose", "specific", {"purposes": ()}, {"purposes": None}, "purposes"),
    # 6: told of the right to revoke, and how
    (
        "6 right to revoke",
        "specific",
        {"revocation_explained": False},
        {"revocation_explained": None},
        "revocation_explained",
    ),
    # 7: an expiry date or event
    (
        "7 expiry",
        "specific",
        {"expires_on": None, "expiry_event": ""},
        {"expires_on": "", "expiry_event": ""},
        "expires_on",
    ),
    # 8: the signature
    ("8 signature", "specific", {"signed_by": "  "}, {"signed_by": ""}, "signed_by"),
    # 9: the date signed
    ("9 date signed", "specific", {"signed_on": None}, {"signed_on": ""}, "signed_on"),
    # TPO extras: the consequences of refusing; redisclosure and the loss of protection
    (
        "TPO refusal",
        "tpo",
        {"refusal_consequences_stated": False},
        {"refusal_consequences_stated": None},
        "refusal_consequences_stated",
    ),
    (
        "TPO redisclosure",
        "tpo",
        {"redisclosure_stated": False},
        {"redisclosure_stated": None},
        "redisclosure_stated",
    ),
]


@pytest.mark.parametrize(
    ("kind", "without", "posted", "field"),
    [row[1:] for row in ELEMENTS],
    ids=[row[0] for row in ELEMENTS],
)
def test_a_consent_missing_an_element_is_refused(world, login, kind, without, posted, field):
    today = world.program.today()
    complete = tpo_input() if kind == "tpo" else employer_consent_input()
    assert services.consent_problems(complete, today=today) == {}
    # The service says which element is missing.
    lacking = dataclasses.replace(complete, **without)
    problems = services.consent_problems(lacking, today=today)
    assert field in problems, problems
    with pytest.raises(services.ConsentError) as refused:
        services.record_consent(world.active, lacking, actor=world.counsellor)
    assert field in refused.value.problems
    # The page refuses it with 400 and the reason beside the field; nothing is recorded.
    client = login(world.counsellor)
    url = reverse("consents:record", args=[world.active.pk, kind])
    response = client.post(url, page_payload(world, kind, **posted))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors.get(field) == [problems[field]]
    page = response.content.decode()
    # Shown beside its field: the field's box carries the error and the message.
    box = page[page.index(f'id="id_{field}') :]
    end = box.find('<div class="field')
    assert escape(problems[field]) in (box[:end] if end > 0 else box)
    assert not Consent.objects.filter(participant=world.active).exists()
    # The complete payload is recorded.
    assert client.post(url, page_payload(world, kind)).status_code == 302
    assert Consent.objects.filter(participant=world.active, kind=kind).count() == 1


def test_element_1_a_consent_is_always_of_a_named_participant(world, login):
    """Element 1 is the participant the consent is recorded for: the table refuses a
    consent without one, and the printed consent names them."""
    consent = services.record_consent(
        world.active, employer_consent_input(), actor=world.counsellor
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Consent.objects.create(
            participant=None,  # type: ignore[misc]
            kind=ConsentKind.SPECIFIC,
            discloser="Harbor IOP",
            recipient_kind=RecipientKind.EMPLOYER,
            recipient_name="Acme",
            signed_by="Pat Active",
            signed_on=world.program.today(),
        )
    client = login(world.counsellor)
    response = client.get(reverse("consents:detail", args=[world.active.pk, consent.pk]))
    assert world.active.legal_name in response.content.decode()


def test_other_purpose_needs_its_description(world):
    data = employer_consent_input(purposes=(Purpose.OTHER,), purpose_detail="")
    assert "purpose_detail" in services.consent_problems(data, today=world.program.today())


def test_no_expiry_only_for_tpo_and_not_both_date_and_event(world):
    today = world.program.today()
    none = employer_consent_input(expires_on=None, expiry_event="none")
    assert "expiry_event" in services.consent_problems(none, today=today)
    assert services.consent_problems(tpo_input(expiry_event="none"), today=today) == {}
    both = employer_consent_input(expiry_event="end_of_treatment")
    assert "expiry_event" in services.consent_problems(both, today=today)


def test_dates_in_the_future_or_expiring_before_signing_are_refused(world):
    today = world.program.today()
    future = employer_consent_input(signed_on=today + dt.timedelta(days=1))
    assert "signed_on" in services.consent_problems(future, today=today)
    backwards = employer_consent_input(
        signed_on=today - dt.timedelta(days=3), expires_on=today - dt.timedelta(days=4)
    )
    assert "expires_on" in services.consent_problems(backwards, today=today)


# --- expiry ------------------------------------------------------------------------------


def test_a_consent_expires_after_its_date(world):
    today = world.program.today()
    consent = services.record_consent(
        world.active,
        employer_consent_input(expires_on=today + dt.timedelta(days=10)),
        actor=world.counsellor,
    )
    assert gate.consent_status(consent, today + dt.timedelta(days=10)) == (True, "In force")
    in_force, why = gate.consent_status(consent, today + dt.timedelta(days=11))
    assert not in_force and why.startswith("expired on")
    assert registry.status_of(consent, today + dt.timedelta(days=11)).key == registry.EXPIRED


def test_a_tpo_consent_expires_at_the_end_of_treatment(world):
    """ "End of treatment" is the discharge of the episode it was signed in (§2.31(a)(7))."""
    add_privacy(world)
    consent = world.tpo_consent
    today = world.program.today()
    assert gate.consent_status(consent, today)[0]
    participant_services.transition_episode(
        world.active.current_episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=today,
        reason="Completed the program",
    )
    in_force, why = gate.consent_status(consent, today)
    assert not in_force and "end of treatment" in why
    # The registry's one-query status agrees with the gate.
    fetched = registry.annotated(Consent.objects.filter(pk=consent.pk)).get()
    assert registry.status_of(fetched, today) == registry.Status(registry.EXPIRED, "Expired", why)
    # A date-limited consent of the same participant is not ended by the discharge.
    assert gate.consent_status(world.consent, today)[0]


def test_the_registry_status_agrees_with_the_gate_in_every_state(world):
    add_privacy(world)
    today = world.program.today()
    revoked = services.record_consent(
        world.active, employer_consent_input(recipient_name="Revoked Co"), actor=world.counsellor
    )
    services.revoke_consent(revoked, actor=world.counsellor, revoked_on=today, note="In writing")
    void = services.record_consent(
        world.active, employer_consent_input(recipient_name="Typo Co"), actor=world.counsellor
    )
    services.void_consent(void, actor=world.counsellor, reason="Wrong participant")
    for day in (today, today + dt.timedelta(days=400)):
        for consent in registry.annotated(Consent.objects.filter(participant=world.active)):
            plain = Consent.objects.get(pk=consent.pk)
            status = registry.status_of(consent, day)
            assert (status.in_force, status.reason) == gate.consent_status(plain, day)


# --- revocation ---------------------------------------------------------------------------


def test_revocation_stops_a_consent_at_once(world):
    add_privacy(world)
    today = world.program.today()
    request = gate.DisclosureRequest(
        participant=world.active,
        recipient_kind=RecipientKind.EMPLOYER,
        recipient_name="Acme Logistics",
        purpose=Purpose.EMPLOYMENT,
        information=(InfoCategory.ATTENDANCE,),
        channel=Channel.LETTER,
        description="Attendance letter",
    )
    assert gate.check(request, on=today).allowed
    services.revoke_consent(
        world.consent, actor=world.counsellor, revoked_on=today, note="Told me at group"
    )
    consent = Consent.objects.get(pk=world.consent.pk)
    in_force, why = gate.consent_status(consent, today)
    assert not in_force and why == f"revoked on {today:%Y-%m-%d}"
    decision = gate.check(request, on=today)
    assert not decision.allowed and "revoked" in " ".join(decision.reasons)
    # Revoked once: a second revocation is refused with the reason.
    with pytest.raises(services.ConsentError) as again:
        services.revoke_consent(consent, actor=world.counsellor, revoked_on=today, note="x")
    assert "already revoked" in again.value.problems["consent"]


def test_a_revocation_needs_a_date_not_in_the_future_and_how_it_came(world):
    add_privacy(world)
    today = world.program.today()
    with pytest.raises(services.ConsentError) as refused:
        services.revoke_consent(
            world.consent, actor=world.counsellor, revoked_on=today + dt.timedelta(days=1), note=""
        )
    assert set(refused.value.problems) == {"revoked_on", "note"}


# --- a recorded consent never changes -------------------------------------------------------


def test_a_recorded_consent_never_changes(world):
    add_privacy(world)
    consent = Consent.objects.get(pk=world.consent.pk)
    consent.recipient_name = "Someone Else Inc."
    with pytest.raises(SignedRecordError):
        consent.save()
    with pytest.raises(SignedRecordError):
        consent.save(update_fields=["recipient_name"])
    consent.purposes = [Purpose.LEGAL]
    with pytest.raises(SignedRecordError):
        consent.save(update_fields=["purposes", "revoked_on"])
    assert Consent.objects.get(pk=consent.pk).recipient_name == "Acme Logistics"
    # Only the revocation (and voiding) is written later, through the service.
    services.revoke_consent(
        consent, actor=world.counsellor, revoked_on=timezone.localdate(), note="In writing"
    )
    assert Consent.objects.get(pk=consent.pk).recipient_name == "Acme Logistics"


# --- TPO -------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", sorted(set(Purpose.values) - TPO_PURPOSES))
def test_a_tpo_consent_covers_only_tpo_purposes(world, purpose):
    data = tpo_input(purposes=(Purpose.TREATMENT, purpose), purpose_detail="described")
    problems = services.consent_problems(data, today=world.program.today())
    assert "covers only treatment, payment and health care operations" in problems["purposes"]


def test_a_tpo_consent_names_tpo_recipients_only(world):
    data = tpo_input(recipient_kind=RecipientKind.EMPLOYER)
    assert "recipient_kind" in services.consent_problems(data, today=world.program.today())


def test_the_tpo_page_offers_only_tpo_purposes_and_states_both_statements(world, login):
    client = login(world.counsellor)
    url = reverse("consents:record", args=[world.active.pk, "tpo"])
    page = client.get(url).content.decode()
    assert "Employment" not in page and 'value="TREAT"' in page
    assert "does not depend on signing this consent" in page
    assert "may then no longer be protected by 42 CFR part 2" in page
    response = client.post(url, page_payload(world, "tpo", purposes=["TREAT", "employment"]))
    assert response.status_code == 400
    assert "purposes" in response.context["form"].errors
    assert not Consent.objects.filter(participant=world.active).exists()


def test_a_tpo_consent_is_covered_by_the_gate_only_for_tpo(world):
    add_privacy(world)
    employer = gate.DisclosureRequest(
        participant=world.active,
        recipient_kind=RecipientKind.EMPLOYER,
        recipient_name="Acme Logistics",
        purpose=Purpose.TREATMENT,
        information=(InfoCategory.ATTENDANCE,),
        channel=Channel.LETTER,
        description="Letter",
    )
    assert not gate.check(employer).allowed


# --- SUD counselling notes (§2.31(b)) ---------------------------------------------------------


def test_a_counselling_notes_consent_cannot_be_combined(world):
    today = world.program.today()
    combined = employer_consent_input(
        kind=ConsentKind.COUNSELLING_NOTES,
        information=(InfoCategory.COUNSELLING_NOTES, InfoCategory.ATTENDANCE),
    )
    assert "cannot be combined" in services.consent_problems(combined, today=today)["information"]
    alone = employer_consent_input(
        kind=ConsentKind.COUNSELLING_NOTES, information=(InfoCategory.COUNSELLING_NOTES,)
    )
    assert services.consent_problems(alone, today=today) == {}


def test_counselling_notes_need_their_own_consent(world):
    today = world.program.today()
    for kind in (ConsentKind.SPECIFIC, ConsentKind.TPO):
        base = tpo_input() if kind == ConsentKind.TPO else employer_consent_input()
        data = dataclasses.replace(
            base, information=(InfoCategory.ATTENDANCE, InfoCategory.COUNSELLING_NOTES)
        )
        assert "their own consent" in services.consent_problems(data, today=today)["information"]


def test_the_counselling_notes_page_offers_only_counselling_notes(world, login):
    client = login(world.counsellor)
    url = reverse("consents:record", args=[world.active.pk, "counselling_notes"])
    page = client.get(url).content.decode()
    assert 'value="counselling_notes"' in page and 'value="attendance"' not in page
    response = client.post(
        url,
        page_payload(world, "counselling_notes", information=["counselling_notes", "attendance"]),
    )
    assert response.status_code == 400 and "information" in response.context["form"].errors
    response = client.post(
        url, page_payload(world, "counselling_notes", information=["counselling_notes"])
    )
    assert response.status_code == 302
    assert Consent.objects.get(participant=world.active).kind == ConsentKind.COUNSELLING_NOTES
