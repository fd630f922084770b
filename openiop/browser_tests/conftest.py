"""Browser tests: pytest-playwright's `page` driving Debian's Chromium at `live_server`.

Run them with `OPENIOP_TESTING=1 REQUIRE_BROWSER=1 pytest openiop/browser_tests`. Without
/usr/bin/chromium they skip, unless REQUIRE_BROWSER=1 says a missing browser is a failure.
Screenshots go to var/test-artifacts/ (kept after the run, git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openiop.browser import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@pytest.fixture(scope="session", autouse=True)
def _require_chromium() -> None:
    # Session-scoped so it runs before pytest-playwright launches the (session) browser.
    if CHROMIUM.exists():
        return
    message = f"Browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)."
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(message + " REQUIRE_BROWSER=1 makes its absence a failure.")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, _require_chromium):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def world(transactional_db, live_server):
    """The test world, committed so the live server's thread can see it."""
    from openiop.testing import build_world

    return build_world()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def sign_in(page, live_server):
    """sign_in(user) signs in through the login form and waits for the today board.

    With two-factor sign-in (a device, or a role the security policy makes enrol: by
    default admin and compliance) it types the code, computed from the device's secret.
    """
    import re

    from openiop.testing import PASSWORD

    def _sign_in(user):
        from openiop.accounts.models import TotpDevice
        from openiop.testing import totp_code_for

        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        base = re.escape(live_server.url)
        page.wait_for_url(re.compile(f"^{base}/(accounts/login/(code|set-up)/)?$"))
        if page.url.endswith("/accounts/login/set-up/"):
            # Forced enrolment: the page shows the new secret (H1, test_mfa_workflow).
            page.get_by_label("Code").fill(totp_code_for(user))
            page.get_by_role("button", name="Turn on two-factor sign-in").click()
            page.get_by_role("link", name="continue").click()
        elif page.url.endswith("/accounts/login/code/"):
            assert TotpDevice.objects.filter(user=user).exists()
            page.get_by_label("Code").fill(totp_code_for(user))
            page.get_by_role("button", name="Verify").click()
        page.wait_for_url(live_server.url + "/")
        return page

    return _sign_in
