"""Two-factor sign-in in a real browser (issue 8, point 5): a staff member sets up an
authenticator (reading the key from the page, as a person types it into their app),
keeps the recovery codes, signs out, and signs in again with password and code; an
administrator whose role must use it is made to set it up before reaching the board."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def fresh_code(totp: pyotp.TOTP, used: set[str]) -> str:
    """The app's current code, waiting for the next one if this one was already used
    (the server accepts each code once)."""
    while (code := totp.now()) in used:
        time.sleep(1)
    used.add(code)
    return code


def password_step(page: Page, base: str, username: str) -> None:
    from openiop.testing import PASSWORD

    page.goto(base + "/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_enrol_sign_out_and_sign_in_with_a_code(page, live_server, world, sign_in, artifacts):
    from openiop.accounts.models import RecoveryCode, TotpDevice

    base = live_server.url
    page.set_viewport_size({"width": 1280, "height": 1000})
    sign_in(world.counsellor)
    # From the user menu to the set-up page.
    page.get_by_role("link", name="Two-factor sign-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor sign-in")
    page.get_by_role("link", name="Set up two-factor sign-in").click()
    expect(page.get_by_role("img", name="QR code")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    page.screenshot(path=str(DOCS_IMG / "mfa-enrol.png"), full_page=True)
    totp = pyotp.TOTP(secret)
    used: set[str] = set()

    # A typo first: refused, nothing turned on.
    page.get_by_label("Code").fill("000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_text("That code did not match")).to_be_visible()
    page.get_by_label("Code").fill(fresh_code(totp, used))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()

    # The recovery codes, once.
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    codes = page.locator("ul.recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.screenshot(path=str(artifacts / "mfa-recovery-codes.png"), full_page=True)
    assert RecoveryCode.objects.filter(user=world.counsellor).count() == 10
    assert TotpDevice.objects.get(user=world.counsellor).confirmed_at is not None
    page.get_by_role("link", name="continue").click()
    page.wait_for_url(base + "/")

    # Sign out, and in again: the password alone is not enough.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(base + "/accounts/login/")
    password_step(page, base, world.counsellor.username)
    page.wait_for_url(base + "/accounts/login/code/")
    expect(page.get_by_role("heading", name="Two-factor sign-in")).to_be_visible()
    page.screenshot(path=str(artifacts / "mfa-code-step.png"), full_page=True)
    page.goto(base + "/")  # not signed in yet: back to the sign-in page
    assert "/accounts/login/" in page.url
    password_step(page, base, world.counsellor.username)
    page.get_by_label("Code").fill(fresh_code(totp, used))
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()

    # Again, with a recovery code (a lost phone).
    page.get_by_role("button", name="Sign out").click()
    password_step(page, base, world.counsellor.username)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(base + "/")
    expect(page.get_by_role("status")).to_contain_text("9 left")


def test_an_administrator_must_set_it_up_before_signing_in(page, live_server, world, sign_in):
    from openiop.accounts.models import TotpDevice

    base = live_server.url
    password_step(page, base, world.admin.username)
    page.wait_for_url(base + "/accounts/login/set-up/")
    expect(page.get_by_text("Your role must sign in with a second factor")).to_be_visible()
    # The top bar is not there: not signed in yet.
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Recovery codes")).to_be_visible()
    page.get_by_role("link", name="continue").click()
    page.wait_for_url(base + "/")
    assert TotpDevice.objects.get(user=world.admin).confirmed_at is not None
    # The fixture signs in an enrolled administrator too (it types the code).
    page.get_by_role("button", name="Sign out").click()
    sign_in(world.admin)
    # The staff list shows who uses two-factor sign-in.
    page.goto(base + "/accounts/staff/")
    row = page.get_by_role("row").filter(has_text="compliance")
    expect(row).to_contain_text("Required, not set up")
