"""Issue 8, acceptance 2: a letter for an employer is refused without consent; after a
consent is recorded it is produced with the re-disclosure notice; the accounting shows
it; after revocation it is refused again."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from openiop.privacy.models import Disclosure

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def ask_for_the_letter(page, base: str, pk: int) -> None:
    page.goto(f"{base}/participants/{pk}/privacy/release/")
    page.get_by_label("Attendance letter (dates and hours attended)").check()
    page.get_by_label("Or: kind of recipient").select_option("employer")
    page.get_by_label("Recipient's name").fill("Acme Logistics")
    page.get_by_label("Address").fill("12 Dock Road, Portland")
    page.locator("#id_purpose").select_option("employment")
    page.get_by_role("button", name="Check consent and produce").click()


def test_employer_letter_refused_then_produced_then_refused_after_revocation(
    world, sign_in, live_server, artifacts
):
    page = sign_in(world.counsellor)
    base, pk = live_server.url, world.active.pk

    # 1. No consent: refused, with the reason.
    ask_for_the_letter(page, base, pk)
    refusal = page.locator("[data-refusal]")
    expect(refusal).to_contain_text("Refused: no consent in force covers this disclosure")
    expect(refusal).to_contain_text("There is no consent on file for this participant.")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(DOCS_IMG / "release-refused.png"), full_page=True)
    assert not Disclosure.objects.exists()

    # 2. The counsellor records the participant's signed consent for the employer.
    page.goto(f"{base}/participants/{pk}/consents/new/specific/")
    page.locator("#id_recipient_kind").select_option("employer")
    page.locator("#id_recipient_name").fill("Acme Logistics")
    page.locator("#id_recipient_address").fill("12 Dock Road, Portland")
    page.get_by_label("Employment (verify attendance or fitness for work)").check()
    page.get_by_label("Enrolment: that the person is or was in the program, and dates").check()
    page.get_by_label("Attendance: dates and hours attended").check()
    page.locator("#id_information_detail").fill(
        "Dates of enrolment and the dates and hours attended"
    )
    expires = world.program.today().replace(year=world.program.today().year + 1)
    page.locator("#id_expires_on").fill(expires.isoformat())
    page.get_by_label("I told the participant of the right to revoke, and how (element 6)").check()
    page.locator("#id_signed_by").fill("Pat Active")
    page.locator("#id_signed_on").fill(world.program.today().isoformat())
    page.get_by_role("button", name="Record consent").click()
    expect(page.locator("body")).to_contain_text("Consent recorded")
    consent_url = page.url

    # 3. Now the letter goes out, with the §2.32 notice; the accounting lists it.
    ask_for_the_letter(page, base, pk)
    expect(page.locator("h1")).to_contain_text("Disclosure")
    expect(page.locator("[data-notice]")).to_contain_text(
        "protected by Federal confidentiality rules (42 CFR part 2)"
    )
    expect(page.locator("[data-notice]")).to_contain_text("Acme Logistics")
    disclosure = Disclosure.objects.get()
    assert disclosure.document_sha256
    page.get_by_role("link", name="Accounting of disclosures").click()
    expect(page.locator("[data-accounting]")).to_contain_text("Acme Logistics")
    expect(page.locator("[data-accounting]")).to_contain_text("Attendance letter")
    page.screenshot(path=str(DOCS_IMG / "accounting.png"), full_page=True)

    # 4. The participant revokes it: the same request is refused again.
    page.goto(consent_url)
    revoke = page.locator("#revoke")
    revoke.locator("#id_revoked_on").fill(world.program.today().isoformat())
    revoke.locator("#id_note").fill("In writing, handed in at group")
    revoke.get_by_role("button", name="Revoke consent").click()
    expect(page.locator("body")).to_contain_text("evoked")
    ask_for_the_letter(page, base, pk)
    expect(page.locator("[data-refusal]")).to_contain_text("revoked on")
    assert Disclosure.objects.count() == 1
    page.screenshot(path=str(artifacts / "release-refused-after-revocation.png"), full_page=True)
