"""Login throttling and lockout (issue 8, point 5): per username, whether it exists or
not, and per client address; kept in the database so every worker sees it."""

from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest
import time_machine
from django.urls import reverse

from openiop.accounts import lockout
from openiop.accounts.models import AccountLock, LoginAttempt
from openiop.core.models import AuditEvent
from openiop.testing import PASSWORD, TOTP_SECRET, give_totp_device

pytestmark = pytest.mark.django_db

_NOW = int(time.time())
T0 = dt.datetime.fromtimestamp(_NOW - _NOW % 30 + 10, tz=dt.UTC)


@pytest.fixture(autouse=True)
def _fresh_t0() -> None:
    """Near now for each test, not at import (see test_mfa: sessions made while time is
    frozen must still be valid, within the idle sign-out, when it runs again)."""
    global T0
    now = int(time.time())
    T0 = dt.datetime.fromtimestamp(now - now % 30 + 10, tz=dt.UTC)


WRONG = "wrong-password"


def attempt(client, username: str, password: str = WRONG, ip: str = "10.1.1.1"):
    return client.post(
        reverse("accounts:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_lock_the_account_and_the_right_password_is_then_refused(client, world):
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            response = attempt(client, "counsellor")
            assert b"did not match" in response.content
        fifth = attempt(client, "counsellor")
        assert b"locked until" in fifth.content
        # The sixth, with the RIGHT password, is refused unchecked while locked.
        sixth = attempt(client, "counsellor", PASSWORD)
        assert sixth.status_code == 200 and not signed_in(client)
        assert b"locked until" in sixth.content
    lock = AccountLock.objects.get(user=world.counsellor)
    assert lock.until == T0 + dt.timedelta(minutes=15)
    assert "5 failed sign-ins within 15 minutes" in lock.reason
    assert AuditEvent.objects.filter(action="locked_out", object_repr="counsellor").count() == 1
    refused = AuditEvent.objects.filter(action="login_failed", reason="account locked")
    assert refused.count() == 1
    assert LoginAttempt.objects.filter(username="counsellor", stage="locked").count() == 1
    # Still locked a minute before the end; open after it, and the count starts again.
    with time_machine.travel(T0 + dt.timedelta(minutes=14), tick=False):
        assert b"locked until" in attempt(client, "counsellor", PASSWORD).content
    with time_machine.travel(T0 + dt.timedelta(minutes=15, seconds=1), tick=False):
        assert b"did not match" in attempt(client, "counsellor").content
        response = attempt(client, "counsellor", PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    assert not AccountLock.objects.filter(user=world.counsellor).exists()


def test_an_unknown_username_is_throttled_the_same_way_with_the_same_words(client, world):
    with time_machine.travel(T0, tick=False):
        answers = {}
        for username in ("counsellor", "no-such-person"):
            for _ in range(5):
                response = attempt(client, username)
            answers[username] = response.content.decode()
            assert "locked until" in answers[username]
    # Apart from the username typed back into the form, the pages are the same.
    known = answers["counsellor"].replace('value="counsellor"', "")
    unknown = answers["no-such-person"].replace('value="no-such-person"', "")
    strip_token = __import__("re").compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip_token.sub("", known) == strip_token.sub("", unknown)
    event = AuditEvent.objects.filter(action="locked_out", object_repr="no-such-person").get()
    assert "no such account" in event.reason


def test_a_success_starts_the_count_again(client, world):
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            attempt(client, "counsellor")
        assert attempt(client, "counsellor", PASSWORD).status_code == 302
        client.post(reverse("accounts:logout"))
        for _ in range(4):
            response = attempt(client, "counsellor")
    assert b"did not match" in response.content
    assert not AccountLock.objects.exists()


def test_failures_older_than_the_window_do_not_count(client, world):
    with time_machine.travel(T0, tick=False):
        for _ in range(4):
            attempt(client, "counsellor")
    with time_machine.travel(T0 + dt.timedelta(minutes=16), tick=False):
        response = attempt(client, "counsellor")
    assert b"did not match" in response.content


def test_second_factor_failures_count_and_lock_too(client, world):
    give_totp_device(world.counsellor)
    totp = pyotp.TOTP(TOTP_SECRET)
    step = int(T0.timestamp()) // 30
    with time_machine.travel(T0, tick=False):
        # Two wrong passwords, then three wrong codes: five failures.
        attempt(client, "counsellor")
        attempt(client, "counsellor")
        assert attempt(client, "counsellor", PASSWORD)["Location"] == reverse(
            "accounts:login_verify"
        )
        for i in range(3):
            response = client.post(
                reverse("accounts:login_verify"),
                {"code": totp.generate_otp(step + 5 + i)},
                REMOTE_ADDR="10.1.1.1",
            )
        # The lock ends the pending sign-in: back to the password page with the reason.
        assert response["Location"] == reverse("accounts:login")
        page = client.get(reverse("accounts:login"))
        assert b"locked until" in page.content
        # Even a right code, from a new password step, cannot get through now.
        assert b"locked until" in attempt(client, "counsellor", PASSWORD).content
    assert AccountLock.objects.filter(user=world.counsellor).exists()
    assert AuditEvent.objects.filter(action="mfa_failed", object_repr="counsellor").count() == 3
    assert not signed_in(client)


def test_an_administrator_unlocks_with_a_reason(client, world, login):
    for _ in range(5):
        lockout.record_failure("counsellor", "10.1.1.1", lockout.PASSWORD)
    assert lockout.lock_for("counsellor") is not None
    admin = login(world.admin)
    url = reverse("accounts:staff_unlock", args=[world.counsellor.pk])
    page = admin.get(url)
    assert page.status_code == 200 and b"is locked until" in page.content
    assert admin.post(url, {"reason": ""}).status_code == 400
    response = admin.post(url, {"reason": "Called from her desk phone; typo in password"})
    assert response["Location"] == reverse("accounts:staff_list")
    assert lockout.lock_for("counsellor") is None
    assert not AccountLock.objects.filter(user=world.counsellor).exists()
    event = AuditEvent.objects.get(action="unlock")
    assert event.actor == world.admin and event.object_id == str(world.counsellor.pk)
    assert event.reason == "Called from her desk phone; typo in password"
    # Nothing to unlock now: 409 with the reason.
    assert admin.get(url).status_code == 409
    admin.logout()
    # The count starts again after the unlock, and the right password works.
    assert b"did not match" in attempt(client, "counsellor").content
    assert attempt(client, "counsellor", PASSWORD).status_code == 302


def test_only_security_configure_unlocks(world, login):
    for _ in range(5):
        lockout.record_failure("lab", None, lockout.PASSWORD)
    client = login(world.director)
    url = reverse("accounts:staff_unlock", args=[world.lab.pk])
    assert client.post(url, {"reason": "please"}).status_code == 403
    assert lockout.lock_for("lab") is not None


def test_one_address_with_too_many_failures_is_refused_with_429(client, world):
    with time_machine.travel(T0, tick=False):
        # 20 failures from one address, spread over usernames (none reaches its own lock).
        for i in range(20):
            response = attempt(client, f"user{i % 5}-{i // 5}", ip="10.9.9.9")
            assert response.status_code == 200
        assert AuditEvent.objects.filter(action="locked_out", object_repr="10.9.9.9").count() == 1
        refused = attempt(client, "counsellor", PASSWORD, ip="10.9.9.9")
        assert refused.status_code == 429
        assert b"Too many failed sign-ins came from your network" in refused.content
        assert int(refused["Retry-After"]) == 15 * 60
        assert not signed_in(client)
        # Another address is not affected.
        assert attempt(client, "counsellor", PASSWORD, ip="10.9.9.10").status_code == 302
    # The window passes: the address may try again.
    with time_machine.travel(T0 + dt.timedelta(minutes=15, seconds=1), tick=False):
        client.post(reverse("accounts:logout"))
        assert attempt(client, "counsellor", PASSWORD, ip="10.9.9.9").status_code == 302


def test_the_code_page_is_refused_to_a_throttled_address(client, world):
    give_totp_device(world.counsellor)
    with time_machine.travel(T0, tick=False):
        assert attempt(client, "counsellor", PASSWORD, ip="10.9.9.9").status_code == 302
        for i in range(20):
            lockout.record_failure(f"other{i}", "10.9.9.9", lockout.PASSWORD)
        code = pyotp.TOTP(TOTP_SECRET).now()
        response = client.post(
            reverse("accounts:login_verify"), {"code": code}, REMOTE_ADDR="10.9.9.9"
        )
    assert response.status_code == 429 and not signed_in(client)


def test_the_limits_come_from_settings(client, world, settings):
    settings.OPENIOP_LOCKOUT_FAILURES = 2
    settings.OPENIOP_LOCKOUT_MINUTES = 1
    with time_machine.travel(T0, tick=False):
        attempt(client, "counsellor")
        assert b"locked until" in attempt(client, "counsellor").content
    with time_machine.travel(T0 + dt.timedelta(seconds=61), tick=False):
        assert attempt(client, "counsellor", PASSWORD).status_code == 302


def test_the_settings_read_the_environment(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        **{k: v for k, v in os.environ.items() if k not in {"OPENIOP_TESTING", "DATABASE_URL"}},
        "SECRET_KEY": "x" * 50,
        "OPENIOP_VAR_DIR": str(tmp_path),
        "OPENIOP_LOCKOUT_FAILURES": "7",
        "OPENIOP_LOCKOUT_IP_FAILURES": "50",
    }
    result = subprocess.run(  # noqa: S603  (our own interpreter and code)
        [
            sys.executable,
            "-c",
            "import openiop.settings as s; print(s.OPENIOP_LOCKOUT_FAILURES, "
            "s.OPENIOP_LOCKOUT_IP_FAILURES, s.OPENIOP_LOCKOUT_WINDOW_MINUTES, "
            "s.OPENIOP_LOCKOUT_MINUTES)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.split() == ["7", "50", "15", "15"], result.stderr


def test_no_password_is_kept_in_the_attempts(client, world):
    attempt(client, "counsellor", "my-secret-guess-123")
    row = LoginAttempt.objects.get()
    assert "my-secret-guess-123" not in str(list(LoginAttempt.objects.values()))
    assert row.client_ip == "10.1.1.1" and row.stage == "password" and not row.succeeded
