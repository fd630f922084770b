"""Amendment requests in a real browser (issue 8, point 7; ONC 170.315(d)(4)).

A counsellor logs two requests against a signed progress note from the chart; the
compliance officer (who cannot read notes) finds them on the today board, denies one with
a reason and accepts the other; the note's page then shows the amendment and the denied
request with its reason. Screenshots for the user guide go to docs/img/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def log_request(page: Page, live_server, participant, target_label: str, change: str) -> None:
    page.goto(f"{live_server.url}/participants/{participant.pk}/")
    section = page.locator("#section-amendments")
    expect(section).to_be_visible()
    section.get_by_role("link", name="Log a request").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Log an amendment request")
    page.get_by_label("Record to amend").select_option(label=target_label)
    page.get_by_label("What the participant asks to change").fill(change)
    page.get_by_role("button", name="Log the request").click()
    expect(page.get_by_role("status")).to_contain_text("Request logged")
    expect(page.locator(".amendment-request")).to_contain_text(change)


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def test_log_deny_and_accept_requests_and_see_them_on_the_note(
    page, live_server, world, sign_in, artifacts
):
    from openiop.privacy import amendment_services as services
    from openiop.privacy.models import AmendmentRequest

    note = world.signed_note
    label = next(
        t.label for t in services.targets_for(world.active) if t.value == f"notes.note:{note.pk}"
    )

    # The counsellor logs two requests from the chart.
    sign_in(world.counsellor)
    log_request(
        page, live_server, world.active, label, "Say that I arrived on time; the bus was late."
    )
    log_request(page, live_server, world.active, label, "The craving was at home, not at work.")
    assert AmendmentRequest.objects.filter(status="pending").count() == 2
    sign_out(page)

    # Compliance: the today board lists them; each is decided on its page.
    sign_in(world.compliance)
    panel = page.locator(".panel-amendments_waiting")
    expect(panel).to_contain_text("2 requests to decide")
    panel.get_by_role("link", name=world.active.display_name).first.click()
    expect(page.locator(".amendment-request")).to_contain_text("the bus was late")
    # The record is named, not shown or linked: compliance reads no notes.
    expect(page.locator(".amendment-request").get_by_role("link")).to_have_count(0)
    page.screenshot(path=str(DOCS_IMG / "amendment-request.png"), full_page=True)
    page.get_by_label("Ground for the denial").select_option("accurate")
    page.get_by_label("Reason, in plain language").fill(
        "The attendance record shows you arrived 25 minutes after the start."
    )
    page.get_by_role("button", name="Deny the request").click()
    expect(page.get_by_role("status")).to_contain_text("Denied")
    expect(page.locator(".amendment-request")).to_contain_text("25 minutes after the start")

    page.goto(f"{live_server.url}/privacy/amendments/")
    expect(page.locator("table.amendments-table tbody tr")).to_have_count(1)
    page.locator("table.amendments-table tbody tr a").first.click()
    expect(page.locator(".amendment-request")).to_contain_text("craving was at home")
    page.get_by_label("The amendment").fill(
        "Correction at the participant's request: the craving was at home, not at work."
    )
    page.get_by_role("button", name="Accept and append the amendment").click()
    expect(page.get_by_role("status")).to_contain_text("Accepted")
    assert set(AmendmentRequest.objects.values_list("status", flat=True)) == {
        "accepted",
        "denied",
    }
    sign_out(page)

    # The note's page shows the amendment and the denied request beside the signed text.
    sign_in(world.counsellor)
    page.goto(f"{live_server.url}/participants/{world.active.pk}/notes/{note.pk}/")
    record = page.locator(".amendments-on-record")
    expect(record).to_contain_text("the craving was at home, not at work")
    expect(record).to_contain_text("Accepted by Compliance Tester")
    expect(record).to_contain_text("Say that I arrived on time")
    expect(record).to_contain_text("25 minutes after the start")
    expect(page.locator(".note-body")).to_contain_text("shared a craving at work")
    record.scroll_into_view_if_needed()
    page.screenshot(path=str(DOCS_IMG / "amendments.png"), full_page=True)
    page.screenshot(path=str(artifacts / "amendments-note.png"), full_page=True)
