"""Issue 9, acceptance 4: "The attendance letter is refused without consent, produced with
it, and its verification page confirms it; a forged code is rejected."

The participant asks for the letter in the portal on a phone (360 by 740); the counsellor
finds it on the today board, is refused without a consent (409, the gate's reasons and a
link to record one), records the participant's consent and produces the letter; the
verification page confirms the code printed on it (the QR code's link fills the form) and
rejects a forged one."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from openiop.core.pdf import pdf_text
from openiop.letters.models import LetterRequest
from openiop.privacy.models import Disclosure
from openiop.testing import PASSWORD, add_portal

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at 360px"


def no_serious_axe_violation(page) -> None:
    """axe-core (issue 9, point 7): no violation of serious or critical impact."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    serious = [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{page.url}:\n" + "\n".join(serious)


def record_employer_consent(page, base: str, world) -> None:
    """The counsellor records the participant's signed consent for Acme Logistics."""
    page.goto(f"{base}/participants/{world.active.pk}/consents/new/specific/")
    page.locator("#id_recipient_kind").select_option("employer")
    page.locator("#id_recipient_name").fill("Acme Logistics")
    page.locator("#id_recipient_address").fill("12 Dock Road, Portland")
    page.get_by_label("Employment (verify attendance or fitness for work)").check()
    page.get_by_label("Enrolment: that the person is or was in the program, and dates").check()
    page.get_by_label("Attendance: dates and hours attended").check()
    page.locator("#id_information_detail").fill(
        "Dates of enrolment and the dates and hours attended"
    )
    today = world.program.today()
    page.locator("#id_expires_on").fill(today.replace(year=today.year + 1).isoformat())
    page.get_by_label("I told the participant of the right to revoke, and how (element 6)").check()
    page.locator("#id_signed_by").fill(world.active.legal_name)
    page.locator("#id_signed_on").fill(today.isoformat())
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("body")).to_contain_text("Consent recorded")


def test_letter_requested_refused_produced_and_verified(world, page, sign_in, live_server):
    base = live_server.url
    add_portal(world)

    # 1. The participant asks for a letter in the portal, on a phone.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/my/sign-in/")
    page.get_by_label("Username").fill("portal-active")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Letters").click()
    expect(page.locator("h1")).to_have_text("Attendance letters")
    page.get_by_role("link", name="Request a letter").click()
    page.get_by_label("Employer").check()
    page.get_by_label("Name of the person or organisation").fill("Acme Logistics")
    page.get_by_label("Their address (optional)").fill("12 Dock Road, Portland")
    page.get_by_label("A note for your counsellor (optional)").fill("For the HR office.")
    no_sideways_scroll(page)
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-portal-request.png"), full_page=True)
    page.get_by_role("button", name="Send the request").click()
    letters = page.locator("[data-letters]")
    expect(letters).to_contain_text("Acme Logistics")
    expect(letters).to_contain_text("Waiting")
    no_sideways_scroll(page)
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-portal-list.png"), full_page=True)
    request = LetterRequest.objects.get()
    page.get_by_role("button", name="Sign out").click()

    # 2. The counsellor finds it on the today board; without a consent it is refused.
    page.set_viewport_size(DESKTOP)
    sign_in(world.counsellor)
    expect(page.locator("body")).to_contain_text("Attendance letters to produce")
    page.get_by_role("link", name="Attendance letters", exact=True).click()
    page.locator("[data-letter-worklist]").get_by_role("link").first.click()
    expect(page.locator("[data-letter-request]")).to_contain_text("Acme Logistics")
    page.get_by_role("button", name="Check consent and produce the letter").click()
    refusal = page.locator("[data-refusal]")
    expect(refusal).to_contain_text("Refused: no consent in force covers this letter.")
    expect(refusal).to_contain_text("There is no consent on file for this participant.")
    expect(refusal.get_by_role("link", name="Record a consent")).to_be_visible()
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-refused.png"), full_page=True)
    assert not Disclosure.objects.exists()

    # 3. The participant signs the consent; the counsellor records it and produces.
    record_employer_consent(page, base, world)
    page.goto(f"{base}/participants/{world.active.pk}/letters/{request.pk}/")
    page.get_by_label("Acme Logistics — Employer").check()
    page.get_by_role("button", name="Check consent and produce the letter").click()
    expect(page.locator("body")).to_contain_text("produced under the participant's consent")
    expect(page.locator("[data-letter-request]")).to_contain_text("Ready")
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-produced.png"), full_page=True)
    disclosure = Disclosure.objects.get()
    text = " ".join(pdf_text(bytes(disclosure.document)).split())
    assert "protected by Federal confidentiality rules (42 CFR part 2)" in text
    code = re.search(r"Verification code: (\w{4}-\w{4}-\w{4})", text).group(1)

    # 4. The employer checks the letter: the QR code's link fills in the code.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/verify/#{code}")
    expect(page.get_by_label("Verification code")).to_have_value(code)
    no_serious_axe_violation(page)
    page.get_by_role("button", name="Check the letter").click()
    verified = page.locator("[data-verified]")
    expect(verified).to_contain_text("This letter is genuine")
    expect(verified).to_contain_text(disclosure.reference)
    expect(verified).to_contain_text("Acme Logistics")
    expect(verified).to_contain_text(world.active.legal_name)
    no_sideways_scroll(page)
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-verified.png"), full_page=True)

    # 5. A forged code (one character changed) is rejected.
    page.get_by_role("link", name="Check another letter").click()
    forged = code[:-1] + ("X" if code[-1] != "X" else "Y")
    page.get_by_label("Verification code").fill(forged)
    page.get_by_role("button", name="Check the letter").click()
    expect(page.locator("[data-unknown]")).to_contain_text("No letter has this code.")
    expect(page.locator("body")).not_to_contain_text(world.active.legal_name)
    no_sideways_scroll(page)
    no_serious_axe_violation(page)
    page.screenshot(path=str(DOCS_IMG / "letter-verify-rejected.png"), full_page=True)

    # 6. The participant finds the letter ready in the portal.
    page.goto(f"{base}/my/sign-in/")
    page.get_by_label("Username").fill("portal-active")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/my/letters/")
    expect(page.locator("[data-letters]")).to_contain_text("Ready")
    expect(page.get_by_role("link", name="Open the letter (PDF)")).to_be_visible()
