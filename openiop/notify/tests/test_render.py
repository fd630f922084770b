"""What a message is rendered with: the recipient's language, the program's time zone,
whole links to the public address, the neutral sender."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from openiop.notify import render


@pytest.mark.parametrize(
    ("public", "hosts", "base"),
    [
        ("https://openiop.example.org/", [], "https://openiop.example.org"),
        (
            "",
            ["*", ".example.org", "10.0.0.7", "[::1]", "localhost", "iop.example.org"],
            "https://iop.example.org",
        ),
        ("", ["127.0.0.1", "localhost"], "http://127.0.0.1:8000"),
    ],
)
def test_links_start_with_the_public_address(settings, public, hosts, base):
    settings.OPENIOP_PUBLIC_URL = public
    settings.ALLOWED_HOSTS = hosts
    assert render.public_base() == base
    assert render.site_url("/my/") == base + "/my/"


@pytest.mark.parametrize(
    ("preferred", "language"),
    [("Spanish", "es"), ("Español", "es"), ("English", "en"), ("Portuguese", "en"), ("", "en")],
)
def test_without_a_portal_account_the_records_language_is_used(world, preferred, language):
    world.active.preferred_language = preferred
    assert render.participant_language(world.active) == language


def test_the_portal_accounts_language_comes_first(world):
    from openiop.testing import make_portal_user

    world.active.preferred_language = "English"
    make_portal_user(world.active, username="pat-es", language="es")
    assert render.participant_language(world.active) == "es"


def test_times_are_the_programs_local_times():
    start = dt.datetime(2031, 6, 11, 13, 0, tzinfo=dt.UTC)
    context = {
        "first_name": "Pat",
        "sender": "Your care team",
        "day": dt.date(2031, 6, 11),
        "sessions": [{"start": start, "join_link": ""}],
    }
    _, in_maine = render.render(
        "session_reminder", context, language="en", tz=zoneinfo.ZoneInfo("America/New_York")
    )
    _, in_denver = render.render(
        "session_reminder", context, language="en", tz=zoneinfo.ZoneInfo("America/Denver")
    )
    assert "- 9 a.m." in in_maine and "- 7 a.m." in in_denver
    assert "appointment tomorrow" in in_maine  # one session: singular


def test_a_plain_text_message_is_not_html_escaped():
    _, body = render.render(
        "letter_ready",
        {
            "first_name": "Zoë & Ann <3",
            "sender": "Your care team",
            "portal_url": "https://x/?a=1&b=2",
        },
        language="en",
    )
    assert "Zoë & Ann <3" in body and "https://x/?a=1&b=2" in body


def test_the_sender_is_neutral_unless_the_participant_opts_in(world):
    assert render.sender_name(world.program, False) == "Your care team"
    assert render.sender_name(world.program, True) == world.program.name
    assert render.contact_sender_name(world.program, False, "Pat") == "Pat's care team"
