"""Invitations, accepting them, languages and ending portal access (issue 9, point 1):
the rules in `portal.services`, without HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core.models import AuditEvent
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Contact
from openiop.portal import services
from openiop.portal.models import Invitation, PortalAccount
from openiop.testing import add_portal, make_participant

NEW_PASSWORD = "quiet-harbour-lantern-7"


def invite(world, **more):
    options = {"kind": "participant", "channel": "printed", "actor": world.counsellor}
    options.update(more)
    return services.invite(world.active, **options)


def test_an_invitation_keeps_only_the_hash_of_its_link_and_lasts_seven_days(world):
    before = timezone.now()
    invitation, raw = invite(world, language="es")
    assert len(raw) >= 40
    assert invitation.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in invitation.token_hash
    assert invitation.hint == raw[:6]
    assert invitation.language == "es"
    assert before + dt.timedelta(days=7) <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + dt.timedelta(days=7)
    assert reverse("portal:accept", args=[raw]).startswith("/my/join/")
    event = AuditEvent.objects.filter(object_type="portal.invitation").latest("id")
    assert event.action == "create"
    assert event.participant_id == world.active.pk
    assert event.actor_id == world.counsellor.pk


@pytest.mark.parametrize(
    ("preferred", "language"),
    [("Spanish", "es"), ("Español", "es"), ("español ", "es"), ("English", "en"), ("", "en")],
)
def test_the_portal_language_is_preset_from_the_preferred_language(world, preferred, language):
    world.active.preferred_language = preferred
    assert services.language_for_participant(world.active) == language


def test_a_new_invitation_withdraws_the_earlier_unused_one(world):
    first, raw = invite(world)
    second, _ = invite(world)
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert first.revoked_reason == "Replaced by a new invitation."
    assert second.revoked_at is None
    with pytest.raises(services.InvitationUnusable) as refused:
        services.find_invitation(raw)
    assert refused.value.reason == "revoked"


def test_a_participant_not_in_care_cannot_be_invited(world):
    with pytest.raises(services.PortalError, match="in care"):
        services.invite(
            world.participants["referred"], kind="participant", channel="printed", actor=None
        )
    assert not Invitation.objects.exists()


def test_a_participant_with_a_portal_account_is_not_invited_twice(world):
    add_portal(world)
    with pytest.raises(services.PortalError, match="already has a portal account"):
        invite(world)


@pytest.mark.parametrize(
    ("channel", "sent_to", "message"),
    [
        ("email", "", "email address"),
        ("email", "not-an-address", "not an email address"),
        ("sms", "12", "mobile number"),
        ("fax", "", "Choose email"),
    ],
)
def test_an_invitation_needs_a_usable_address_for_its_channel(world, channel, sent_to, message):
    with pytest.raises(services.PortalError, match=message) as refused:
        invite(world, channel=channel, sent_to=sent_to)
    assert refused.value.status == 400
    assert not Invitation.objects.exists()


def test_an_emailed_or_texted_invitation_goes_to_the_outbox_with_its_link(world, monkeypatch):
    sent = []
    monkeypatch.setattr(
        "openiop.notify.services.send_invitation",
        lambda invitation, raw, *, actor: sent.append((invitation.pk, raw, actor)),
    )
    invitation, raw = invite(world, channel="sms", sent_to="(207) 555-0101")
    assert sent == [(invitation.pk, raw, world.counsellor)]
    invite(world, channel="printed")
    assert len(sent) == 1  # printed: staff hand it over


def test_a_texted_invitation_leaves_a_message_in_the_outbox(world):
    from openiop.notify.models import Message

    invitation, raw = invite(world, channel="sms", sent_to="(207) 555-0101")
    message = Message.objects.get(participant=world.active)
    assert message.template == "portal_invitation"
    assert raw not in message.body  # the outbox keeps no secret


def test_a_family_invitation_needs_a_consent_that_covers_the_family_portal(world):
    contact = Contact.objects.create(
        participant=world.active, name="Robin Active", relationship="sibling"
    )
    with pytest.raises(services.PortalError, match="without consent"):
        invite(world, kind="family", contact=contact)
    with pytest.raises(services.PortalError, match="names the contact"):
        invite(world, kind="family")
    other = Contact.objects.create(
        participant=world.participants["referred"], name="Sam Other", relationship="friend"
    )
    with pytest.raises(services.PortalError, match="not one of this participant's"):
        invite(world, kind="family", contact=other)
    assert not Invitation.objects.exists()


def test_a_family_invitation_with_consent_is_made_and_accepted(world):
    from openiop.privacy import services as privacy
    from openiop.testing import family_consent_input

    contact = Contact.objects.create(
        participant=world.active, name="Robin Active", relationship="sibling"
    )
    privacy.record_consent(world.active, family_consent_input(contact), actor=world.counsellor)
    invitation, raw = invite(world, kind="family", contact=contact)
    user = services.accept(raw, username="robin", password=NEW_PASSWORD, language="en")
    assert user.portal_kind == "family"
    assert user.portal_account.contact == contact


def test_a_family_member_whose_consent_was_revoked_cannot_accept(world):
    from openiop.privacy import services as privacy
    from openiop.testing import family_consent_input

    contact = Contact.objects.create(
        participant=world.active, name="Robin Active", relationship="sibling"
    )
    consent = privacy.record_consent(
        world.active, family_consent_input(contact), actor=world.counsellor
    )
    invitation, raw = invite(world, kind="family", contact=contact)
    privacy.revoke_consent(
        consent, actor=world.counsellor, revoked_on=world.program.today(), note="Asked to stop"
    )
    with pytest.raises(services.InvitationUnusable) as refused:
        services.accept(raw, username="robin", password=NEW_PASSWORD, language="en")
    assert refused.value.reason == "no_consent"
    assert not User.objects.filter(username="robin").exists()


def test_accepting_makes_the_account_signs_the_invitation_used_and_audits(world):
    invitation, raw = invite(world, language="es")
    user = services.accept(raw, username="pat.active", password=NEW_PASSWORD, language="es")
    assert user.portal_kind == "participant"
    assert user.check_password(NEW_PASSWORD)
    assert user.role_codes == frozenset()
    account = PortalAccount.objects.get(user=user)
    assert (account.participant, account.kind, account.language) == (
        world.active,
        "participant",
        "es",
    )
    assert account.invitation == invitation
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    event = AuditEvent.objects.filter(object_type="portal.portalaccount").latest("id")
    assert (event.action, event.actor_id, event.participant_id) == (
        "create",
        user.pk,
        world.active.pk,
    )


@pytest.mark.parametrize(
    ("case", "reason"),
    [("unknown", "unknown"), ("used", "used"), ("revoked", "revoked"), ("expired", "expired")],
)
def test_an_unusable_link_is_refused_with_its_reason(world, case, reason):
    invitation, raw = invite(world)
    if case == "unknown":
        raw = raw[::-1]
    elif case == "used":
        services.accept(raw, username="first", password=NEW_PASSWORD, language="en")
    elif case == "revoked":
        services.revoke_invitation(invitation, actor=world.counsellor, reason="Wrong number")
    later = timezone.now() + dt.timedelta(days=8 if case == "expired" else 0)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(services.InvitationUnusable) as refused,
    ):
        services.accept(raw, username="second", password=NEW_PASSWORD, language="en")
    assert refused.value.reason == reason
    assert "ask the program" in str(refused.value).lower()
    assert not User.objects.filter(username="second").exists()


def test_a_participant_discharged_before_accepting_cannot_make_an_account(world):
    from openiop.participants import services as participants

    invitation, raw = invite(world)
    participants.transition_episode(
        world.active.current_episode,
        S.DISCHARGED,
        actor=world.counsellor,
        effective_date=world.program.today(),
        reason="Completed the program",
    )
    with pytest.raises(services.InvitationUnusable) as refused:
        services.accept(raw, username="pat", password=NEW_PASSWORD, language="en")
    assert refused.value.reason == "not_in_care"


@pytest.mark.parametrize(
    ("username", "password", "field"),
    [
        ("COUNSELLOR", NEW_PASSWORD, "username"),  # taken, whatever the case
        ("has space", NEW_PASSWORD, "username"),
        ("", NEW_PASSWORD, "username"),
        ("pat", "short", "password"),
        ("pat", "password1234", "password"),  # a common password
        ("pat", "1234567890123", "password"),  # all numbers
        ("patrick.active", "patrick.active", "password"),  # like the username
    ],
)
def test_a_bad_username_or_password_is_refused_and_nothing_is_written(
    world, username, password, field
):
    invitation, raw = invite(world)
    users = User.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.accept(raw, username=username, password=password, language="en")
    assert field in refused.value.message_dict
    assert User.objects.count() == users
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_withdrawing_needs_a_reason_and_happens_once(world):
    invitation, raw = invite(world)
    with pytest.raises(services.PortalError, match="Say why"):
        services.revoke_invitation(invitation, actor=world.counsellor, reason="  ")
    services.revoke_invitation(invitation, actor=world.counsellor, reason="Lost the paper")
    invitation.refresh_from_db()
    assert invitation.revoked_by == world.counsellor
    assert invitation.revoked_reason == "Lost the paper"
    with pytest.raises(services.PortalError, match="already withdrawn"):
        services.revoke_invitation(invitation, actor=world.counsellor, reason="Again")


def test_an_accepted_invitation_is_not_withdrawn(world):
    invitation, raw = invite(world)
    services.accept(raw, username="pat", password=NEW_PASSWORD, language="en")
    with pytest.raises(services.PortalError, match="end the account"):
        services.revoke_invitation(invitation, actor=world.counsellor, reason="Too late")


def test_ending_access_deactivates_the_user_withdraws_invitations_and_keeps_the_account(world):
    add_portal(world)
    user = world.records["portal_participant"]
    account = user.portal_account
    pending = Invitation.objects.create(
        kind="participant",
        participant=world.active,
        token_hash="x" * 64,
        hint="xxxxxx",
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    with pytest.raises(services.PortalError, match="Say why"):
        services.end_account(account, actor=world.counsellor, reason="")
    services.end_account(account, actor=world.counsellor, reason="Asked to close it")
    account.refresh_from_db()
    user.refresh_from_db()
    pending.refresh_from_db()
    assert account.ended_at is not None and account.ended_by == world.counsellor
    assert account.ended_reason == "Asked to close it"
    assert not user.is_active
    assert pending.revoked_at is not None
    assert PortalAccount.objects.filter(pk=account.pk).exists()
    event = AuditEvent.objects.filter(object_type="portal.portalaccount").latest("id")
    assert (event.action, event.reason) == ("revoke", "Asked to close it")
    with pytest.raises(services.PortalError, match="already ended"):
        services.end_account(account, actor=world.counsellor, reason="Twice")


def test_a_participant_can_be_invited_again_after_access_ended(world):
    add_portal(world)
    account = world.records["portal_participant"].portal_account
    services.end_account(account, actor=world.counsellor, reason="Lost phone")
    invitation, raw = invite(world)
    user = services.accept(raw, username="pat-again", password=NEW_PASSWORD, language="en")
    assert user.portal_account.participant == world.active


def test_changing_the_language_is_audited_and_refuses_other_languages(world):
    add_portal(world)
    account = world.records["portal_participant"].portal_account
    services.set_language(account, "es", actor=world.records["portal_participant"])
    account.refresh_from_db()
    assert account.language == "es"
    event = AuditEvent.objects.filter(object_type="portal.portalaccount").latest("id")
    assert event.changes == {"language": ["en", "es"]}
    with pytest.raises(services.PortalError):
        services.set_language(account, "fr", actor=None)


def test_a_participant_made_in_care_later_can_be_invited(world):
    participant = make_participant(
        world.program, world.intake, last="Later", status=S.ACTIVE, counsellor=world.counsellor
    )
    invitation, _ = services.invite(
        participant, kind="participant", channel="printed", actor=world.counsellor
    )
    assert invitation.participant == participant
