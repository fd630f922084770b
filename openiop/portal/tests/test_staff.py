"""The staff side of the portal (issue 9, point 1): the chart's Portal section, inviting
(the link shown once), withdrawing an invitation and ending portal access."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.portal import services
from openiop.portal.models import Invitation
from openiop.testing import add_portal


def invite_url(world) -> str:
    return reverse("participant_portal:invite", args=[world.active.pk])


def test_the_invite_page_is_prefilled_from_the_record(login, world):
    world.active.preferred_language = "Español"
    world.active.save(update_fields=["preferred_language"])
    response = login(world.counsellor).get(invite_url(world))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial == {"channel": "sms", "sent_to": "(207) 555-0101", "language": "es"}


def test_inviting_shows_the_link_once_and_never_again(login, world):
    client = login(world.counsellor)
    response = client.post(
        invite_url(world), {"channel": "printed", "sent_to": "", "language": "en"}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert response["Location"] == reverse(
        "participant_portal:invitation", args=[world.active.pk, invitation.pk]
    )
    shown = client.get(response["Location"])
    link = shown.context["link"]
    assert link.startswith("http://testserver/my/join/")
    raw = link.rsplit("/", 2)[-2]
    assert services.find_invitation(raw) == invitation
    assert "shown only this once" in shown.content.decode()
    again = client.get(response["Location"])
    assert again.context["link"] == ""
    assert raw not in again.content.decode()
    assert "cannot be shown again" in again.content.decode()


def test_an_invitation_by_email_needs_an_email_address(login, world):
    response = login(world.counsellor).post(
        invite_url(world), {"channel": "email", "sent_to": "nope", "language": "en"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["sent_to"]
    assert not Invitation.objects.exists()


def test_a_participant_with_an_account_or_not_in_care_is_not_invited(login, world):
    client = login(world.counsellor)
    referred = world.participants["referred"]
    assert client.get(reverse("participant_portal:invite", args=[referred.pk])).status_code == 409
    add_portal(world)
    response = client.post(
        invite_url(world), {"channel": "printed", "sent_to": "", "language": "en"}
    )
    assert response.status_code == 409
    assert "already has a portal account" in response.content.decode()


def test_the_chart_shows_accounts_invitations_and_the_actions(login, world):
    invitation, _ = services.invite(
        world.active, kind="participant", channel="printed", actor=world.counsellor
    )
    client = login(world.counsellor)
    page = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    assert 'id="section-portal"' in page
    assert f"{invitation.hint}…" in page
    assert "Waiting" in page
    assert reverse("participant_portal:revoke", args=[world.active.pk, invitation.pk]) in page
    add_portal(world)
    Invitation.objects.update(revoked_at=invitation.created_at)
    page = client.get(reverse("participants:chart", args=[world.active.pk])).content.decode()
    account = world.records["portal_participant"].portal_account
    assert "portal-active" in page
    assert reverse("participant_portal:end", args=[world.active.pk, account.pk]) in page
    assert "Invite to the portal" not in page


def test_billing_does_not_see_the_portal_section(login, world):
    page = login(world.billing).get(reverse("participants:chart", args=[world.active.pk]))
    assert b'id="section-portal"' not in page.content


def test_withdrawing_an_invitation_needs_a_reason(login, world):
    invitation, raw = services.invite(
        world.active, kind="participant", channel="printed", actor=world.counsellor
    )
    client = login(world.counsellor)
    url = reverse("participant_portal:revoke", args=[world.active.pk, invitation.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": "Sent to the wrong number"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_reason == "Sent to the wrong number"
    assert client.get(url).status_code == 409
    assert client.post(url, {"reason": "again"}).status_code == 409


def test_ending_access_signs_the_participant_out_at_their_next_page(client, login, world):
    add_portal(world)
    user = world.records["portal_participant"]
    account = user.portal_account
    participant_client = Client()
    participant_client.force_login(user)
    assert participant_client.get(reverse("portal:home")).status_code == 200
    url = reverse("participant_portal:end", args=[world.active.pk, account.pk])
    staff = login(world.counsellor)
    assert staff.get(url).status_code == 200
    assert staff.post(url, {"reason": ""}).status_code == 400
    assert staff.post(url, {"reason": "Lost their phone"}).status_code == 302
    response = participant_client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))
    assert staff.get(url).status_code == 409
    event = AuditEvent.objects.filter(object_type="portal.portalaccount").latest("id")
    assert (event.actor_id, event.reason) == (world.counsellor.pk, "Lost their phone")


@pytest.mark.parametrize("name", ["revoke", "invitation"])
def test_another_participants_invitation_is_not_found(login, world, name):
    invitation, _ = services.invite(
        world.active, kind="participant", channel="printed", actor=world.counsellor
    )
    other = world.participants["referred"]
    url = reverse(f"participant_portal:{name}", args=[other.pk, invitation.pk])
    assert login(world.counsellor).get(url).status_code == 404


def test_another_participants_account_is_not_found(login, world):
    add_portal(world)
    account = world.records["portal_participant"].portal_account
    other = world.participants["referred"]
    url = reverse("participant_portal:end", args=[other.pk, account.pk])
    assert login(world.counsellor).get(url).status_code == 404
