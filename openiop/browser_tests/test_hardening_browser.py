"""The Content-Security-Policy in a real browser (issue 8, point 8): pages render and work
with no inline script or style, and Chromium reports no policy violation on them.

The calendar link box used an `onfocus=""` attribute, which the policy blocked: the field
now selects its link through `openiop/select.js`.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import ConsoleMessage, Page, expect

pytestmark = pytest.mark.browser


def watch_violations(page: Page) -> list[str]:
    """Collect every CSP violation the page reports (console and DOM event)."""
    found: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Permissions policy" in message.text:
            found.append(message.text)

    page.on("console", on_console)
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', function (e) {"
        " console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI); });"
    )
    return found


def test_pages_work_under_the_policy_without_violations(
    page, live_server, world, sign_in, artifacts
):
    violations = watch_violations(page)
    page.goto(live_server.url + reverse("accounts:login"))
    expect(page.get_by_text("Sign in to your program")).to_be_visible()
    sign_in(world.counsellor)

    page.goto(live_server.url + reverse("participants:chart", args=[world.active.pk]))
    expect(page.locator(".chart-head h1")).to_contain_text(world.active.display_name)

    page.goto(live_server.url + reverse("scheduling:my_feed"))
    page.get_by_role("button", name="Make a new link").click()
    link = page.get_by_label("Calendar link")
    expect(link).to_be_visible()
    page.wait_for_load_state("load")  # select.js is deferred
    link.focus()
    # select.js selected the whole link on focus, ready to copy.
    selected = page.evaluate(
        "() => { const f = document.activeElement;"
        " return f.value.substring(f.selectionStart, f.selectionEnd); }"
    )
    assert selected == link.input_value() and selected.startswith("http")
    page.screenshot(path=str(artifacts / "hardening-calendar-link.png"), full_page=True)

    page.goto(live_server.url + "/no-such-page/?name=Jane+Secretname")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Secretname")
    assert violations == []

    # The watch works: an injected inline script is blocked and reported.
    page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.injected") is None
    assert any("script-src" in v for v in violations), violations
