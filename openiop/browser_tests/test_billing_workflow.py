"""Issue 11, acceptance 3: a biller sees an authorisation running out, the days at risk,
builds a claim and exports the claim file. The screenshots are the user guide's
(docs/user-guide/billing.md)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from playwright.sync_api import expect

from openiop.billing.models import Authorisation, ClaimBatch
from openiop.testing import add_billing, add_coverage_days

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def test_biller_sees_the_authorisation_running_out_the_days_at_risk_and_exports_a_claim(
    world, page, sign_in, live_server
):
    base = live_server.url
    add_billing(world)
    # Participant.address is needed on an 837P; the world's participant has none.
    active = world.active
    active.address_line1, active.city, active.state, active.postal_code = (
        "4 Fore Street",
        "Portland",
        "ME",
        "04101",
    )
    active.save()
    # Two units authorised: the world's group uses one, and an individual session the
    # day before it (three hours, no note yet) the other — nothing is left.
    Authorisation.objects.filter(pk=world.authorisation.pk).update(units=2)
    today = world.program.today()
    (session,) = add_coverage_days(world, [(today - world.session.date).days + 1])

    page.set_viewport_size(DESKTOP)
    sign_in(world.billing)
    # The today board warns first thing.
    expect(page.locator("[data-panel-authorisations]")).to_contain_text("AUTH-1001")
    expect(page.locator("[data-panel-authorisations]")).to_contain_text("No units left")
    page.get_by_role("link", name="Billing", exact=True).first.click()
    expect(page.locator("h1")).to_have_text("Billing")
    attention = page.locator("[data-attention]")
    expect(attention).to_contain_text("AUTH-1001")
    expect(attention).to_contain_text("2 / 2")
    expect(attention).to_contain_text("No units left")
    expect(page.locator("[data-days-at-risk]")).to_have_text("1")
    page.screenshot(path=str(DOCS_IMG / "billing-board.png"), full_page=True)

    # The day at risk: yesterday's session has no note.
    page.locator("[data-risk-summary]").get_by_role("link", name=re.compile("No note")).click()
    expect(page.locator("h1")).to_contain_text("Days at risk")
    expect(page.locator("main")).to_contain_text(session.date.strftime("%b"))
    expect(page.locator("main")).to_contain_text("no note")

    # Every day of the period, with why it can or cannot be billed.
    page.goto(f"{base}/billing/days/?start={today - dt.timedelta(days=14)}&end={today}")
    days = page.locator("[data-days]")
    expect(days.locator(f"tr[data-day='{world.session.date:%Y-%m-%d}']")).to_contain_text(
        "Billable: 180 minutes attended"
    )
    expect(days.locator(f"tr[data-day='{session.date:%Y-%m-%d}']")).to_contain_text(
        "Not billable yet"
    )
    page.screenshot(path=str(DOCS_IMG / "billing-days.png"), full_page=True)

    # The participant's billing page shows the authorisation used up.
    page.goto(f"{base}/participants/{active.pk}/billing/")
    expect(page.locator("main")).to_contain_text("AUTH-1001")
    page.screenshot(path=str(DOCS_IMG / "billing-coverage.png"), full_page=True)
    # The concurrent review is due: the packet for the payer's reviewer is one click away.
    page.get_by_role("link", name="Review packet for AUTH-1001").click()
    expect(page.locator("h1")).to_have_text("Concurrent review packet")
    expect(page.locator("[data-gate=allowed]")).to_be_visible()
    with page.expect_response(lambda r: "/packets/" in r.url) as packet:
        page.get_by_role("button", name="Make the packet (PDF)").click()
    assert packet.value.status == 200
    assert packet.value.headers["content-type"] == "application/pdf"
    page.goto(f"{base}/participants/{active.pk}/billing/")

    # Build the claim for the payer over the last two weeks: one day ready.
    page.goto(f"{base}/billing/claims/")
    page.get_by_role("link", name="Build claims").click()
    page.get_by_label("Payer", exact=True).select_option(label="Harbor Health Plan (HHP01)")
    page.locator("#id_start").fill((today - dt.timedelta(days=14)).isoformat())
    page.locator("#id_end").fill(today.isoformat())
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-claimable-days]")).to_have_text("1")
    expect(page.locator("[data-left-out-days]")).to_have_text("1")
    page.get_by_role("button", name="Build 1 claim").click()

    # Submit it as an 837P file, and download the file.
    page.goto(f"{base}/billing/claims/")
    claim_row = page.locator("[data-claims] tbody tr").first
    expect(claim_row).to_contain_text("To review")
    page.screenshot(path=str(DOCS_IMG / "billing-claims.png"), full_page=True)
    claim_row.locator("input[type=checkbox]").check()
    page.get_by_role("button", name=re.compile("Submit")).last.click()
    page.wait_for_url(re.compile(r".*/billing/.*"))
    if page.locator("h1").inner_text().startswith("Submit claims"):
        page.get_by_role("button", name="Submit the chosen claims").click()
    expect(page.locator("h1")).to_contain_text("Claim file")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the 837P file").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("ISA*")
    assert "SV1*HC:H0015*250*UN*1***1~" in text
    assert f"DTP*472*D8*{world.session.date:%Y%m%d}~" in text
    batch = ClaimBatch.objects.get()
    assert batch.content == text and batch.claim_count == 1
