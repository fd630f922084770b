"""The participant portal in a real browser (issue 9, acceptance 1).

At a 360 x 740 phone viewport a participant opens the invitation link their counsellor
made on the staff invite page, sets a password, does the daily check-in and sees it on
the progress page; the counsellor then signs in at a desktop viewport and sees the
check-in on the chart, marked as from the portal. A second test answers the check-in
from a one-tap link. No portal page scrolls sideways at 360 px.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
NEW_PASSWORD = "quiet-harbour-lantern-7"  # noqa: S105  (a test account)


def fits_the_phone(page: Page) -> None:
    """Nothing wider than the screen: no sideways scrolling at 360 px."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide"


def shoot(page: Page, path, *, full_page: bool = True) -> None:
    """A screenshot for the docs. A full-page shot resizes the viewport for a moment: wait
    for the page to settle again, or the next click lands where the button was."""
    page.screenshot(path=str(path), full_page=full_page)
    page.wait_for_timeout(300)
    page.evaluate("() => new Promise(requestAnimationFrame)")


def check_in(page: Page, *, mood: str, craving: str, stress: str, sleep: str) -> None:
    """The check-in in taps: one per scale, the use question, the hours slept."""
    for question, value in (
        ("How is your mood today?", mood),
        ("How strong are your cravings?", craving),
        ("How stressed do you feel?", stress),
    ):
        group = page.locator("fieldset").filter(has_text=question)
        group.get_by_text(value, exact=True).click()
    page.locator("fieldset").filter(has_text="Have you used").get_by_text("No", exact=True).click()
    page.get_by_label("How many hours did you sleep last night?").fill(sleep)


def test_a_participant_joins_from_the_invitation_checks_in_and_the_counsellor_sees_it(
    page, browser, live_server, world, sign_in, artifacts
):
    from openiop.attendance.models import CheckIn

    docs = artifacts.parent.parent / "docs" / "img"
    # The counsellor invites world.active from the chart (printed: the link is handed over).
    page.set_viewport_size(DESKTOP)
    sign_in(world.counsellor)
    page.goto(f"{live_server.url}/participants/{world.active.pk}/")
    portal = page.locator("#section-portal")
    expect(portal).to_contain_text("No portal account")
    portal.get_by_role("link", name="Invite to the portal").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Invite")
    page.get_by_label("Printed or read out (I hand it over)").check()
    shoot(page, docs / "portal-invite.png")
    page.get_by_role("button", name="Make the invitation").click()
    expect(page.get_by_text("shown only this once")).to_be_visible()
    link = page.get_by_label("Invitation link").input_value()
    assert re.match(rf"^{re.escape(live_server.url)}/my/join/[\w-]{{40,}}/$", link)
    shoot(page, docs / "portal-invitation-link.png")

    # The participant, on their phone: a browser of their own.
    phone = browser.new_context(viewport=PHONE)
    mine = phone.new_page()
    mine.goto(link)
    expect(mine.get_by_role("heading", level=1)).to_have_text("Welcome, Pat")
    fits_the_phone(mine)
    mine.get_by_label("Choose a username").fill("pat.active")
    mine.get_by_label("Choose a password").fill(NEW_PASSWORD)
    mine.get_by_label("Type the password again").fill(NEW_PASSWORD)
    shoot(mine, docs / "portal-accept.png")
    mine.get_by_role("button", name="Create my account").click()
    mine.wait_for_url(f"{live_server.url}/my/")
    expect(mine.get_by_role("heading", level=1)).to_have_text("Hello, Pat")
    expect(mine.get_by_role("status")).to_contain_text("Welcome! Your account is ready.")
    fits_the_phone(mine)
    shoot(mine, docs / "portal-home.png")

    # The daily check-in.
    mine.get_by_role("link", name="Check in now").click()
    expect(mine.get_by_role("heading", name="Daily check-in")).to_be_visible()
    fits_the_phone(mine)
    check_in(mine, mood="7", craving="2", stress="3", sleep="7.5")
    shoot(mine, docs / "portal-check-in.png")
    mine.get_by_role("button", name="Send my check-in").click()
    mine.wait_for_url(f"{live_server.url}/my/")
    expect(mine.get_by_role("status")).to_contain_text("Your check-in is saved")
    expect(mine.locator("#h-check-in + p")).to_contain_text("You checked in today at")
    saved = CheckIn.objects.filter(participant=world.active).latest("pk")
    assert (saved.source, saved.mood, saved.craving) == ("portal", 7, 2)

    # It shows on my progress page.
    mine.get_by_role("navigation", name="Portal").get_by_role("link", name="My progress").click()
    expect(mine.get_by_role("heading", level=1)).to_have_text("My progress")
    checkins = mine.locator("section").filter(has=mine.get_by_role("heading", name="My check-ins"))
    expect(checkins.locator("tbody tr").first).to_contain_text("7")
    expect(checkins.locator("svg.chart").first).to_be_visible()
    fits_the_phone(mine)
    shoot(mine, docs / "portal-progress.png")

    # Every other page of mine fits the phone too.
    for name, heading in (
        ("My plan", "My plan"),
        ("Questionnaires", "Questionnaires"),
        ("Settings", "Settings"),
    ):
        mine.get_by_role("navigation", name="Portal").get_by_role("link", name=name).click()
        expect(mine.get_by_role("heading", level=1)).to_have_text(heading)
        fits_the_phone(mine)
        if name == "My plan":
            shoot(mine, docs / "portal-plan.png")
    mine.get_by_role("navigation", name="Portal").get_by_role("link", name="Questionnaires").click()
    mine.get_by_role("link", name=re.compile("Worry and anxiety")).click()
    fits_the_phone(mine)
    shoot(mine, docs / "portal-questionnaire.png", full_page=False)
    phone.close()

    # The counsellor, at a desk, sees it on the chart marked as from the portal.
    page.goto(f"{live_server.url}/participants/{world.active.pk}/")
    attendance = page.locator("#section-attendance")
    row = attendance.locator("tbody tr").filter(has_text="Participant (portal)").first
    expect(row).to_be_visible()
    expect(row).to_contain_text("7")
    portal = page.locator("#section-portal")
    expect(portal).to_contain_text("pat.active")
    expect(portal).to_contain_text("Accepted")
    portal.screenshot(path=str(docs / "portal-chart-section.png"))


def test_a_one_tap_link_opens_only_the_check_in_and_works_once(page, live_server, world, artifacts):
    from openiop.attendance.models import CheckIn
    from openiop.portal import onetap

    docs = artifacts.parent.parent / "docs" / "img"
    path = onetap.issue(world.active, purpose="check_in")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Daily check-in, Pat")
    expect(page.locator(".portal-nav")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(page.get_by_text(world.active.legal_last_name)).to_have_count(0)
    fits_the_phone(page)
    check_in(page, mood="5", craving="1", stress="6", sleep="6")
    shoot(page, docs / "portal-onetap.png")
    page.get_by_role("button", name="Send my check-in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you, Pat")
    saved = CheckIn.objects.filter(participant=world.active).latest("pk")
    assert (saved.source, saved.mood, saved.stress) == ("link", 5, 6)
    # A second tap on the same link.
    page.goto(live_server.url + path)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_text("already used")).to_be_visible()
    assert CheckIn.objects.filter(participant=world.active, source="link").count() == 1
