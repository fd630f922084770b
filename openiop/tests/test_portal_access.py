"""Every portal page (issue 9) has an access rule, and the rule holds.

For each page of `portal.access.portal_view`: anonymous → the portal's sign-in page;
every staff persona → 403 (their pages are elsewhere); a portal account of the other
kind → 403; the right account → 200 and a view event naming its participant. An ended
account is signed out at once. `test_url_access.test_every_url_has_a_rule` requires a
row here for each portal URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from openiop.core.models import AuditEvent
from openiop.testing import World, add_portal


@dataclass(frozen=True)
class PortalRule:
    kind: str  # "participant" or "family": the account that gets the page
    kwargs: Callable[[World], dict[str, Any]] = lambda w: {}


def family_user(world: World):
    """The family account of world.active, with a consent in force (openiop.family)."""
    from openiop.testing import add_family_portal

    add_family_portal(world)
    return world.records["portal_family"]


def portal_user(world: World, kind: str):
    if kind == "family":
        return family_user(world)
    add_portal(world)
    return world.records["portal_participant"]


def article_of(world: World) -> int:
    from openiop.testing import add_education

    add_education(world)
    return world.records["article"].pk


def letter_of(world: World, *, produced: bool = False) -> int:
    """D: world.active's letter request, waiting, or produced under world.consent."""
    from openiop.testing import add_letter, add_letter_request

    if produced:
        add_letter(world)
        return world.records["letter"].pk
    add_letter_request(world)
    return world.records["letter_request"].pk


PORTAL_RULES: dict[str, PortalRule] = {
    "portal:home": PortalRule("participant"),
    # --- A: the participant portal (openiop.portal); GAD-7 is due for world.active ---
    "portal:check_in": PortalRule("participant"),
    "portal:questionnaires": PortalRule("participant"),
    "portal:questionnaire": PortalRule("participant", lambda w: {"code": "GAD-7"}),
    "portal:plan": PortalRule("participant"),
    "portal:progress": PortalRule("participant"),
    "portal:settings": PortalRule("participant"),
    # --- B: the family portal (openiop.family); the family account of world.active with
    # a consent in force (add_family_portal); articles by add_education ---
    "family_portal:home": PortalRule("family"),
    "family_portal:education": PortalRule("family"),
    "family_portal:support": PortalRule("family"),
    "family_portal:article": PortalRule("family", lambda w: {"pk": article_of(w)}),
    "family_portal:settings": PortalRule("family"),
    # --- D: attendance letters: the list, the request form, one request, a produced letter ---
    "portal_letters:list": PortalRule("participant"),
    "portal_letters:new": PortalRule("participant"),
    "portal_letters:detail": PortalRule("participant", lambda w: {"request_pk": letter_of(w)}),
    "portal_letters:pdf": PortalRule(
        "participant", lambda w: {"request_pk": letter_of(w, produced=True)}
    ),
    # --- C: notifications: the participant's message preferences ---
    "portal_notify:preferences": PortalRule("participant"),
    # --- Issue 10: the participant's aftercare plan, once given ---
    "portal_aftercare:plan": PortalRule("participant"),
}


@pytest.mark.parametrize("name", sorted(PORTAL_RULES))
def test_anonymous_is_sent_to_the_portal_sign_in(client, world, name):
    url = reverse(name, kwargs=PORTAL_RULES[name].kwargs(world))
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


@pytest.mark.parametrize("name", sorted(PORTAL_RULES))
def test_staff_get_403_on_portal_pages(client, world, name):
    url = reverse(name, kwargs=PORTAL_RULES[name].kwargs(world))
    for persona in ("counsellor", "director", "admin"):
        client.force_login(world.users[persona])
        response = client.get(url)
        assert response.status_code == 403, (persona, response.status_code)


@pytest.mark.parametrize("name", sorted(PORTAL_RULES))
def test_the_other_kind_of_account_gets_403(client, world, name):
    rule = PORTAL_RULES[name]
    other = "family" if rule.kind == "participant" else "participant"
    url = reverse(name, kwargs=rule.kwargs(world))
    client.force_login(portal_user(world, other))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("name", sorted(PORTAL_RULES))
def test_the_right_account_gets_the_page_and_an_audit_event(client, world, name):
    rule = PORTAL_RULES[name]
    user = portal_user(world, rule.kind)
    url = reverse(name, kwargs=rule.kwargs(world))
    client.force_login(user)
    before = AuditEvent.objects.filter(actor=user).count()
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    assert AuditEvent.objects.filter(actor=user).count() > before
    event = AuditEvent.objects.filter(actor=user).latest("id")
    assert event.action == "view"
    assert event.participant_id == world.active.pk


@pytest.mark.parametrize("name", sorted(PORTAL_RULES))
def test_an_ended_account_is_signed_out_at_once(client, world, name):
    rule = PORTAL_RULES[name]
    user = portal_user(world, rule.kind)
    client.force_login(user)
    user.portal_account.ended_at = timezone.now()
    user.portal_account.save(update_fields=["ended_at"])
    response = client.get(reverse(name, kwargs=rule.kwargs(world)))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:login")


def test_a_portal_account_never_reaches_a_staff_page(client, world):
    add_portal(world)
    client.force_login(world.records["portal_participant"])
    for url in (reverse("core:today"), reverse("participants:list")):
        response = client.get(url)
        assert response.status_code == 403
        assert b"portal" in response.content


def test_the_staff_sign_in_page_is_refused_on_the_portal(client, world):
    from openiop.testing import PASSWORD

    response = client.post(
        reverse("portal:login"), {"username": "counsellor", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"Staff sign in on the staff page" in response.content
    assert "_auth_user_id" not in client.session


def test_a_participant_signs_in_on_the_portal(client, world):
    from openiop.testing import PASSWORD

    add_portal(world)
    response = client.post(
        reverse("portal:login"), {"username": "portal-active", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_the_sign_in_page_speaks_spanish_when_asked(client, db):
    response = client.get(reverse("portal:login") + "?lang=es")
    assert response.status_code == 200
    assert b'lang="es"' in response.content
    assert "Iniciar sesión".encode() in response.content
