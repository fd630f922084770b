"""Family access follows the participant's consent (42 CFR §2.31, DOMAIN.md §2.3): a family
member sees the family portal only while a consent in force names them for family
involvement and covers enrolment; revocation, expiry and discharge take effect at the
next request; each day's access is one entry in the accounting of disclosures."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.family import access, services
from openiop.family.models import FamilyInvitation
from openiop.privacy import gate
from openiop.privacy import services as privacy
from openiop.privacy.choices import Channel, InfoCategory
from openiop.privacy.models import Disclosure
from openiop.testing import make_portal_user

from .conftest import consent_for, days, new_contact

HOME = "family_portal:home"


def family_disclosures(world):
    return Disclosure.objects.filter(participant=world.active, channel=Channel.FAMILY_PORTAL)


def test_a_family_member_with_consent_sees_the_family_session(client, fam):
    client.force_login(fam.portal_family)
    response = client.get(reverse(HOME))
    assert response.status_code == 200
    assert b"Family session" in response.content
    assert fam.family_session.title.encode() in response.content
    assert b"Hello, Jordan Active" in response.content


def test_a_revoked_consent_ends_family_access_at_once(client, fam):
    client.force_login(fam.portal_family)
    assert client.get(reverse(HOME)).status_code == 200
    privacy.revoke_consent(
        fam.family_consent,
        actor=fam.counsellor,
        revoked_on=fam.program.today(),
        note="Revoked in writing at group",
    )
    response = client.get(reverse(HOME))
    assert response.status_code == 403
    assert b"the consent that allowed it is no longer in force" in response.content
    event = AuditEvent.objects.filter(actor=fam.portal_family).latest("seq")
    assert event.action == "disclose_refused"
    assert event.participant_id == fam.active.pk
    assert "revoked on" in event.reason
    # Every family page answers the same; none of them shows the session any more.
    for name in ("family_portal:education", "family_portal:support"):
        assert client.get(reverse(name)).status_code == 403


def test_the_refusal_page_names_no_one(client, fam):
    """Without a consent in force not even the participant's name may be shown."""
    privacy.revoke_consent(
        fam.family_consent, actor=fam.counsellor, revoked_on=fam.program.today(), note="Asked"
    )
    client.force_login(fam.portal_family)
    response = client.get(reverse(HOME))
    assert response.status_code == 403
    body = response.content.decode()
    assert fam.active.legal_first_name not in body
    assert fam.active.legal_last_name not in body
    assert fam.program.name not in body
    assert fam.family_session.title not in body


def test_an_expired_consent_refuses_the_next_request(client, fam):
    jordan = fam.family_contact
    user = fam.portal_family
    client.force_login(user)
    assert client.get(reverse(HOME)).status_code == 200
    expires = fam.family_consent.expires_on
    with time_machine.travel(
        dt.datetime.combine(expires + days(1), dt.time(12), tzinfo=fam.program.tz)
    ):
        client.force_login(user)  # (a day later the idle sign-out would ask again)
        response = client.get(reverse(HOME))
        assert response.status_code == 403
        assert not access.family_decision(jordan).allowed


def test_discharge_ends_an_end_of_treatment_consent(client, fam):
    from openiop.participants.models import Episode

    riley = new_contact(fam, "Riley Active")
    consent_for(fam, riley, expires_on=None, expiry_event="end_of_treatment")
    user = make_portal_user(fam.active, kind="family", contact=riley, username="riley")
    client.force_login(user)
    assert client.get(reverse(HOME)).status_code == 200
    Episode.objects.filter(pk=fam.active.current_episode_id).update(
        discharge_date=fam.program.today(), status="discharged"
    )
    response = client.get(reverse(HOME))
    assert response.status_code == 403
    assert "end of treatment" in AuditEvent.objects.filter(actor=user).latest("seq").reason


def test_a_consent_not_covering_enrolment_opens_nothing(client, fam):
    casey = new_contact(fam, "Casey Active")
    consent_for(fam, casey, information=(InfoCategory.ATTENDANCE,))
    user = make_portal_user(fam.active, kind="family", contact=casey, username="casey")
    client.force_login(user)
    assert client.get(reverse(HOME)).status_code == 403
    decision = access.family_decision(casey)
    assert not decision.allowed
    assert any("does not cover: Enrolment" in r for r in decision.reasons)


def test_a_consent_naming_another_family_member_opens_nothing(client, fam):
    """Jordan's consent does not let Jordan's partner in."""
    partner = new_contact(fam, "Sam Active", relationship="partner")
    user = make_portal_user(fam.active, kind="family", contact=partner, username="sam")
    client.force_login(user)
    assert client.get(reverse(HOME)).status_code == 403


def test_each_day_of_access_is_one_entry_in_the_accounting_of_disclosures(client, fam):
    client.force_login(fam.portal_family)
    for name in (HOME, "family_portal:education", "family_portal:support", HOME):
        assert client.get(reverse(name)).status_code == 200
    (entry,) = family_disclosures(fam)
    assert entry.recipient_name == "Jordan Active"
    assert entry.recipient_kind == "family"
    assert entry.purpose == "FAMRQT"
    assert entry.information == ["enrolment"]
    assert entry.consent == fam.family_consent
    assert entry.reference == access.daily_reference(fam.family_contact.pk, fam.program.today())
    assert entry.notice.startswith(gate.NOTICE_SHORT)
    # The next day, a new entry.
    tomorrow = dt.datetime.combine(
        fam.program.today() + days(1), dt.time(12), tzinfo=fam.program.tz
    )
    with time_machine.travel(tomorrow):
        client.force_login(fam.portal_family)
        assert client.get(reverse(HOME)).status_code == 200
        assert client.get(reverse(HOME)).status_code == 200
    assert family_disclosures(fam).count() == 2


def test_every_family_page_view_is_audited_even_when_the_day_is_already_accounted(client, fam):
    client.force_login(fam.portal_family)
    client.get(reverse(HOME))
    before = AuditEvent.objects.filter(actor=fam.portal_family, action="view").count()
    client.get(reverse(HOME))
    after = AuditEvent.objects.filter(actor=fam.portal_family, action="view").count()
    assert after == before + 1
    assert family_disclosures(fam).count() == 1


def test_attendance_shows_only_when_the_consent_covers_it(client, fam):
    client.force_login(fam.portal_family)
    response = client.get(reverse(HOME))
    assert b"attended" in response.content  # "Sessions you attended" (their own)
    assert b"Hours Pat attended" not in response.content
    # A consent that also covers attendance, signed after Jordan's first one.
    privacy.revoke_consent(
        fam.family_consent, actor=fam.counsellor, revoked_on=fam.program.today(), note="Renewed"
    )
    consent_for(
        fam,
        fam.family_contact,
        information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
        signed_on=fam.program.today(),
    )
    response = client.get(reverse(HOME))
    assert response.status_code == 200
    name = fam.active.preferred_name or fam.active.legal_first_name
    assert f"Hours {name} attended".encode() in response.content
    entries = family_disclosures(fam).order_by("at")
    # The first entry of the day was made under the first consent; the portal now shows
    # attendance too, so the day's entry stays (one per day) — it listed what was shown.
    assert entries.count() == 1


def test_the_daily_entry_lists_attendance_when_it_is_shown(client, fam):
    privacy.revoke_consent(
        fam.family_consent, actor=fam.counsellor, revoked_on=fam.program.today(), note="Renewed"
    )
    consent_for(
        fam,
        fam.family_contact,
        information=(InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE),
        signed_on=fam.program.today(),
    )
    client.force_login(fam.portal_family)
    assert client.get(reverse(HOME)).status_code == 200
    (entry,) = family_disclosures(fam)
    assert entry.information == ["attendance", "enrolment"]
    assert "attendance" in entry.description


def test_no_consent_no_session_invitation(fam):
    casey = new_contact(fam, "Casey Active")
    with pytest.raises(services.FamilyError) as refused:
        services.invite_to_session(fam.family_session, [casey], actor=fam.counsellor)
    assert "Casey Active cannot be invited" in str(refused.value)
    assert not FamilyInvitation.objects.filter(contact=casey).exists()


def test_no_consent_no_family_portal_invitation(fam):
    from openiop.portal.models import Invitation

    casey = new_contact(fam, "Casey Active")
    with pytest.raises(services.FamilyError) as refused:
        services.invite_to_portal(
            casey, channel="printed", sent_to="", language="en", actor=fam.counsellor
        )
    assert "cannot be invited to the family portal" in str(refused.value)
    assert "No consent names this person for family involvement." in refused.value.reasons
    assert not Invitation.objects.filter(contact=casey).exists()


def test_a_consented_family_member_gets_a_portal_invitation(fam):
    riley = new_contact(fam, "Riley Active")
    consent_for(fam, riley)
    invitation, raw = services.invite_to_portal(
        riley, channel="printed", sent_to="", language="es", actor=fam.counsellor
    )
    assert invitation.kind == "family" and invitation.contact == riley
    assert invitation.language == "es"
    assert len(raw) > 20


# --- the staff pages' answer for many family members is the gate's answer ----------------


def test_the_bulk_answer_is_the_gates_answer(fam):
    """`access.decisions_for` reads consents in bulk; for every kind of case it must say
    what `gate.family_access_allowed` says (allowed, the consent, the reasons)."""
    from openiop.participants.models import Episode

    today = fam.program.today()
    contacts = [fam.family_contact]
    # No consent at all for this one.
    contacts.append(new_contact(fam, "No Consent"))
    # Revoked.
    revoked = new_contact(fam, "Revoked Consent")
    privacy.revoke_consent(
        consent_for(fam, revoked), actor=fam.counsellor, revoked_on=today, note="In writing"
    )
    contacts.append(revoked)
    # Expired yesterday.
    expired = new_contact(fam, "Expired Consent")
    consent_for(fam, expired, signed_on=today - days(30), expires_on=today - days(1))
    contacts.append(expired)
    # Covers attendance only.
    partial = new_contact(fam, "Attendance Only")
    consent_for(fam, partial, information=(InfoCategory.ATTENDANCE,))
    contacts.append(partial)
    # Voided.
    void = new_contact(fam, "Void Consent")
    privacy.void_consent(consent_for(fam, void), actor=fam.counsellor, reason="Wrong person")
    contacts.append(void)
    # End of treatment, for a participant who is then discharged (world.referred: an
    # episode of their own, so world.active's consents stay in force).
    other = fam.referred
    ended = new_contact(fam, "Ended Treatment", participant=other)
    consent_for(fam, ended, expires_on=None, expiry_event="end_of_treatment")
    still = new_contact(fam, "Still In Treatment", participant=other)
    consent_for(fam, still, expires_on=None, expiry_event="end_of_treatment")
    contacts += [ended, still]
    bulk = access.decisions_for(contacts, on=today)
    for contact in contacts:
        one = gate.family_access_allowed(contact, access.FAMILY_PORTAL_INFORMATION, on=today)
        assert bulk[contact.pk].decision == one, contact.name
    Episode.objects.filter(participant=other).update(discharge_date=today)
    bulk = access.decisions_for(contacts, on=today)
    for contact in contacts:
        one = gate.family_access_allowed(contact, access.FAMILY_PORTAL_INFORMATION, on=today)
        assert bulk[contact.pk].decision == one, contact.name
    assert not bulk[ended.pk].allowed and not bulk[still.pk].allowed
    assert bulk[fam.family_contact.pk].allowed
    # Staff see the reasons about the person's own consents only.
    assert bulk[revoked.pk].reasons == [
        r for r in bulk[revoked.pk].decision.reasons if "to Revoked Consent " in r
    ]
    assert bulk[contacts[1].pk].reasons == ["No consent names this person for family involvement."]


def test_a_tpo_consent_does_not_open_the_family_portal(fam):
    from openiop.testing import add_privacy

    add_privacy(fam)  # a TPO consent covering everything but counselling notes
    casey = new_contact(fam, "Casey Active")
    assert not access.family_decision(casey).allowed


def test_portal_access_checks_at_the_moment_of_use(fam):
    """The gate reads the consent when asked: a revocation recorded a second ago counts."""
    jordan = fam.family_contact
    assert access.family_decision(jordan).allowed
    privacy.revoke_consent(
        fam.family_consent, actor=fam.counsellor, revoked_on=fam.program.today(), note="Now"
    )
    assert not access.family_decision(jordan, on=timezone.localdate()).allowed
