from __future__ import annotations

import os

import pytest

# Playwright's sync API keeps an asyncio loop in the main thread; Django's ORM would
# refuse to run in the test process without this (see STACK-NOTES, browser tests).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_hasher_and_hosts(settings):
    # Argon2 is the production hasher (asserted in accounts tests); tests use a fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    # H4 (issue 10): the TEDS files need the program's state and provider id
    # (outcomes.teds.provider_from_settings); without them the download answers 409.
    settings.OPENIOP_TEDS_STATE = "ME"
    settings.OPENIOP_TEDS_PROVIDER_ID = "ME-IOP-0042"


@pytest.fixture
def world(db):
    from openiop.testing import build_world

    return build_world()


@pytest.fixture
def login(client):
    """login(user) signs the test client in as `user` and returns the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
