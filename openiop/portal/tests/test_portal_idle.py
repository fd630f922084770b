"""Automatic log-off in the portal (issue 8 point 5, issue 9): a participant idle past the
timeout is signed out and sent to the portal's sign-in page, told so in their language;
the idle script's endpoints work for portal accounts too."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from openiop.core.choices import AuditAction
from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.testing import make_participant, make_portal_user, make_program, make_user

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def participant(db):
    program = make_program("Harbor IOP")
    counsellor = make_user("counsellor", [Role.COUNSELLOR], [program])
    return make_participant(program, counsellor, last="Idle", counsellor=counsellor)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "You were signed out after 15 minutes without activity."),
        ("es", "Se cerró su sesión tras 15 minutos sin actividad."),
    ],
)
def test_an_idle_participant_is_sent_to_the_portal_sign_in_in_their_language(
    participant, language, words
):
    user = make_portal_user(participant, language=language)
    client = Client()
    with time_machine.travel(T0, tick=False) as clock:
        client.force_login(user)
        assert client.get(reverse("portal:home")).status_code == 200
        clock.move_to(T0 + dt.timedelta(minutes=15, seconds=1))
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('portal:login')}?next={reverse('portal:home')}"
        assert AuditEvent.objects.filter(action=AuditAction.TIMED_OUT, actor=user).count() == 1
        page = client.get(response["Location"])
    assert words in page.content.decode()


def test_the_idle_scripts_endpoints_serve_portal_accounts(participant):
    client = Client()
    client.force_login(make_portal_user(participant))
    assert client.post(reverse("core:keepalive")).status_code == 200
    assert client.get(reverse("core:today")).status_code == 403  # still no staff page


def test_the_idle_logout_of_a_portal_page_shows_the_portal_sign_in(participant):
    client = Client()
    client.force_login(make_portal_user(participant))
    response = client.post(reverse("core:idle_logout"), {"next": reverse("portal:home")})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:login"))


def test_a_spanish_portal_page_leaves_the_next_staff_page_in_english(participant):
    """The portal activates Spanish for its page; the next request on the same thread
    (a staff page here) must not inherit it (core.middleware.LanguageMiddleware)."""
    from django.utils import translation

    portal = Client()
    portal.force_login(make_portal_user(participant, language="es"))
    assert 'lang="es"' in portal.get(reverse("portal:home")).content.decode()
    assert translation.get_language() == "en-us"
    staff = Client()
    from openiop.accounts.models import User

    staff.force_login(User.objects.get(username="counsellor"))
    response = staff.get(reverse("scheduling:calendar"), {"week": "not-a-date"})
    assert "Introduzca" not in response.content.decode()
