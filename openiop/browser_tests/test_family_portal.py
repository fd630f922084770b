"""Family involvement in a real browser (issue 9, points 2 and 3).

* Acceptance 2: a family member with consent signs in on a phone (360 by 740), sees the
  family session; the consent is revoked; the next page is refused with the reason.
* A counsellor invites family members to a family workshop (only those with a consent in
  force; the others are listed with the reason), takes family attendance, and invites a
  family member to the family portal.
* A director writes and publishes an education article that families then read.

Screenshots for the user guide (docs/user-guide/family.md) go to docs/img/family-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 360, "height": 740}


def reverse_accept_prefix() -> str:
    from django.urls import reverse

    return reverse("portal:accept", args=["x" * 30]).split("x" * 30)[0]


def staff_page(browser, live_server, user):
    from openiop.testing import PASSWORD

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    return page


def test_a_family_member_sees_the_family_session_until_the_consent_is_revoked(
    page, live_server, world, artifacts
):
    from openiop.privacy import services as privacy
    from openiop.privacy.models import Disclosure
    from openiop.testing import PASSWORD, add_education, add_family_portal

    add_family_portal(world)
    add_education(world)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/my/sign-in/")
    page.get_by_label("Username").fill("portal-family")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/family/")

    expect(page.get_by_role("heading", name="Hello, Jordan Active")).to_be_visible()
    upcoming = page.locator("section").filter(
        has=page.get_by_role("heading", name="Your next family sessions")
    )
    expect(upcoming).to_contain_text("Family session")
    expect(upcoming).to_contain_text("Room: Group Room")
    # Phone first: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(DOCS_IMG / "family-portal.png"), full_page=True)

    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Learn").click()
    expect(page.get_by_role("link", name="Addiction is a health condition")).to_be_visible()
    page.get_by_role("link", name="Addiction is a health condition").click()
    expect(page.get_by_role("heading", name="Addiction is a health condition")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(DOCS_IMG / "family-article.png"), full_page=True)
    # One entry in the accounting of disclosures for the day, whatever the pages opened.
    assert Disclosure.objects.filter(participant=world.active, channel="family_portal").count() == 1

    # The participant revokes the consent; staff record it.
    privacy.revoke_consent(
        world.family_consent,
        actor=world.counsellor,
        revoked_on=world.program.today(),
        note="Handed in a signed revocation at group",
    )
    page.get_by_role("navigation", name="Portal").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Your access has ended")).to_be_visible()
    expect(page.locator("main")).to_contain_text(
        "the consent that allowed it is no longer in force"
    )
    expect(page.locator("main")).not_to_contain_text("Family session")
    expect(page.get_by_role("navigation", name="Portal")).to_have_count(0)
    page.screenshot(path=str(DOCS_IMG / "family-access-ended.png"), full_page=True)
    # Every page answers the same.
    response = page.goto(live_server.url + "/family/learn/")
    assert response is not None and response.status == 403


def test_a_counsellor_invites_families_to_a_workshop_and_takes_their_attendance(
    browser, live_server, world, artifacts
):
    from openiop.family.models import FamilyAttendance, FamilyInvitation
    from openiop.participants.models import Contact
    from openiop.portal.models import Invitation
    from openiop.privacy import services as privacy
    from openiop.testing import add_family_portal, family_consent_input, make_family_session

    add_family_portal(world)
    riley = Contact.objects.create(
        participant=world.active, name="Riley Active", relationship="sibling", phone="2075550142"
    )
    privacy.record_consent(world.active, family_consent_input(riley), actor=world.counsellor)
    Contact.objects.create(participant=world.active, name="Casey Active", relationship="partner")
    workshop = make_family_session(
        world, day=world.program.today(), kind="family_workshop", start=dt.time(0, 5)
    )

    page = staff_page(browser, live_server, world.counsellor)
    page.goto(f"{live_server.url}/attendance/sessions/{workshop.pk}/")
    page.get_by_role("link", name="Family invitations and attendance").click()
    expect(page.get_by_role("heading", name=re.compile("^Family: Family workshop"))).to_be_visible()
    invite = page.locator("section").filter(
        has=page.get_by_role("heading", name="Invite family members")
    )
    # Casey has no consent: not offered, and the reason is given.
    expect(invite.get_by_label(re.compile("^Casey Active"))).to_have_count(0)
    invite.get_by_text("Cannot be invited").click()
    expect(invite).to_contain_text("No consent names this person for family involvement.")
    invite.get_by_label(re.compile("^Jordan Active")).check()
    invite.get_by_label(re.compile("^Riley Active")).check()
    invite.get_by_role("button", name="Invite").click()
    expect(page.locator(".messages")).to_contain_text("Invited Jordan Active, Riley Active")
    assert FamilyInvitation.objects.filter(session=workshop, status="invited").count() == 2

    page.get_by_label("Attendance of Jordan Active").select_option("present")
    page.get_by_label("Attendance of Riley Active").select_option("excused")
    page.get_by_label("Note for Riley Active").fill("Working late; will come next week")
    page.screenshot(path=str(DOCS_IMG / "family-session.png"), full_page=True)
    page.get_by_role("button", name="Save family attendance").click()
    expect(page.locator(".messages")).to_contain_text("Family attendance saved (2 changed)")
    marks = {m.contact.name: m.status for m in FamilyAttendance.objects.filter(session=workshop)}
    assert marks == {"Jordan Active": "present", "Riley Active": "excused"}

    # The participant's family page: Riley gets a printed family portal invitation.
    page.get_by_role("link", name=world.active.display_name).first.click()
    expect(page.get_by_role("heading", name=f"Family: {world.active.display_name}")).to_be_visible()
    row = page.locator("tr").filter(has_text="Riley Active")
    row.get_by_role("link", name="Invite to the family portal").click()
    page.get_by_label("Language").select_option("es")
    page.get_by_role("button", name="Make the invitation").click()
    expect(page.locator(".notice")).to_contain_text("Invitation link for Riley Active")
    expect(page.locator(".notice .mono")).to_contain_text(reverse_accept_prefix())
    page.screenshot(path=str(DOCS_IMG / "family-participant.png"), full_page=True)
    assert Invitation.objects.get(contact=riley).language == "es"
    # Casey cannot be invited: no button.
    expect(page.locator("tr").filter(has_text="Casey Active").get_by_role("link")).to_have_count(0)


def test_a_director_publishes_education_families_read(browser, live_server, world, artifacts):
    from openiop.family.models import EducationArticle
    from openiop.testing import PASSWORD, add_family_portal

    add_family_portal(world)
    page = staff_page(browser, live_server, world.director)
    page.goto(live_server.url + "/education/")
    page.get_by_role("link", name="Write an article").click()
    page.get_by_label("Title").fill("How to talk about a slip")
    page.get_by_label("Summary").fill("Staying calm and connected when something goes wrong.")
    page.get_by_label("Body").fill(
        "A slip is not the end of recovery.\n\nSay what you saw, without blame."
    )
    page.get_by_label("Where it appears").select_option("support")
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_role("heading", name="As families see it")).to_be_visible()
    page.screenshot(path=str(DOCS_IMG / "family-education-edit.png"), full_page=True)
    page.get_by_role("link", name="Publish or retire").click()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("was published")
    assert EducationArticle.objects.get(title="How to talk about a slip").published

    family = browser.new_context(viewport=PHONE).new_page()
    family.goto(live_server.url + "/my/sign-in/")
    family.get_by_label("Username").fill("portal-family")
    family.get_by_label("Password").fill(PASSWORD)
    family.get_by_role("button", name="Sign in").click()
    family.wait_for_url(live_server.url + "/family/")
    family.get_by_role("navigation", name="Portal").get_by_role(
        "link", name="How to support"
    ).click()
    family.get_by_role("link", name="How to talk about a slip").click()
    expect(family.locator("article")).to_contain_text("Say what you saw, without blame.")
