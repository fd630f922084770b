"""The consent registry in a real browser: a counsellor records a TPO consent and a
consent for a family member, revokes one, and prints a form to sign on paper.
Screenshots go to docs/img/ for the user guide (consents.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_record_revoke_and_print_consents(browser, live_server, world, artifacts):
    from openiop.participants.models import Contact
    from openiop.privacy import gate
    from openiop.privacy.models import Consent
    from openiop.privacy.tests.test_consent_pages import pdftotext
    from openiop.testing import PASSWORD

    person = world.active
    contact = Contact.objects.create(
        participant=person, name="Jordan Active", relationship="parent", phone="(207) 555-0110"
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(world.counsellor.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")

    # 1. From the chart's Consents section: no consent yet.
    page.goto(f"{live_server.url}/participants/{person.pk}/")
    section = page.locator("#section-consents")
    expect(section).to_contain_text("No consent in force")
    section.get_by_role("link", name="Record a consent").click()

    # 2. A TPO consent: the kind first, then a form prefilled for TPO.
    expect(page.get_by_role("heading", name="Record a consent")).to_be_visible()
    page.get_by_role("link", name="Record a signed TPO consent").click()
    expect(page.get_by_role("textbox", name="Recipient (element 4)")).to_have_value(
        "My treating providers, health plans, third-party payers, and people helping to "
        "operate this program"
    )
    expect(page.get_by_label("Treatment", exact=True)).to_be_checked()
    expect(page.get_by_label("…or expires at (element 7)")).to_have_value("end_of_treatment")
    # Recording it without the statements: refused beside the boxes.
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator(".notice.error")).to_contain_text("cannot be recorded yet")
    expect(page.locator(".field.has-error")).to_have_count(3)
    page.get_by_label("I told the participant of the right to revoke").check()
    page.get_by_label("The consent states the consequences of refusing to sign").check()
    page.get_by_label("The consent states that records may be redisclosed").check()
    page.screenshot(path=str(artifacts / "consent-tpo-form.png"), full_page=True)
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator(".messages")).to_contain_text("Consent recorded")
    expect(page.locator(".consent-status")).to_contain_text("In force")
    tpo = Consent.objects.get(participant=person, kind="tpo")
    assert tpo.redisclosure_stated and tpo.expiry_event == "end_of_treatment"

    # 3. A consent for a family member, chosen from the contacts.
    page.get_by_role("link", name="All consents").click()
    page.get_by_role("link", name="Record a consent").click()
    page.get_by_role("link", name="Record a signed consent to a named recipient").click()
    page.get_by_label("Kind of recipient (element 4)").select_option(
        label="Family member or support person"
    )
    page.get_by_label("Family member or support person", exact=True).select_option(
        label="Jordan Active (Parent)"
    )
    page.get_by_label("Family involvement in treatment").check()
    page.get_by_label("Attendance: dates and hours attended").check()
    page.get_by_label("Progress and participation summary").check()
    page.get_by_label("Description of the information (element 3)").fill(
        "Whether I attend, and how I am doing in general terms"
    )
    expires = world.program.today() + dt.timedelta(days=180)
    page.get_by_label("Expires on (element 7)").fill(expires.isoformat())
    page.get_by_label("I told the participant of the right to revoke").check()
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator(".messages")).to_contain_text("Consent recorded")
    family = Consent.objects.get(participant=person, kind="specific")
    assert family.contact == contact and family.recipient_name == "Jordan Active"

    # 4. Revoke the family consent: it stops at once.
    page.get_by_label("Date revoked").fill(world.program.today().isoformat())
    page.get_by_label("How received").fill("Told me at group; signed revocation on file")
    page.get_by_role("button", name="Revoke consent").click()
    expect(page.locator(".messages")).to_contain_text("Consent revoked")
    expect(page.locator(".consent-status")).to_contain_text("Revoked")
    family.refresh_from_db()
    assert gate.consent_status(family)[0] is False

    # 5. The registry: in force first, the revoked one after it.
    page.get_by_role("link", name="All consents").click()
    rows = page.locator("table.consents tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("In force")
    expect(rows.nth(1)).to_contain_text("Revoked")
    page.screenshot(path=str(DOCS_IMG / "consents.png"), full_page=True)

    # 6. Print a form to sign on paper (TPO): a PDF with the participant's name.
    link = page.get_by_role("link", name="Treatment, payment and health care operations (TPO)")
    href = link.get_attribute("href")
    assert href is not None
    response = page.request.get(live_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    text = pdftotext(response.body())
    assert person.legal_name in text and "Signature of the participant" in text
    (artifacts / "consent-form-tpo.pdf").write_bytes(response.body())

    # 7. The recorded TPO consent prints too.
    page.goto(f"{live_server.url}/participants/{person.pk}/consents/{tpo.pk}/")
    href = page.get_by_role("link", name="Print the consent (PDF)").get_attribute("href")
    response = page.request.get(live_server.url + str(href))
    assert response.status == 200
    context.close()
