"""Issue 10, acceptance 3: "A browser test discharges a participant as completed, signs
the summary, and finds the 30-day follow-up on the alumni worklist."

The counsellor opens world.active's chart, follows "Discharge…", discharges as completed
(the form warns of what is still open), edits the summary and signs it, opens the PDF,
then finds the participant's 30-day follow-up on the alumni worklist (upcoming) with its
due date. Screenshots of the form and the signed summary go to docs/img/ for the guide."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from playwright.sync_api import expect

from openiop.discharge.models import Discharge

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def test_discharge_sign_and_find_the_30_day_follow_up(world, page, sign_in, live_server):
    base = live_server.url
    participant = world.active
    page.set_viewport_size(DESKTOP)
    sign_in(world.counsellor)

    # 1. From the chart to the discharge form.
    page.goto(f"{base}/participants/{participant.pk}/")
    page.get_by_role("link", name="Discharge…").first.click()
    expect(page.locator("h1")).to_have_text("Discharge")
    expect(page.locator("body")).to_contain_text("Still open in the record")
    expect(page.get_by_label("Discharge date")).to_have_value(world.program.today().isoformat())
    page.get_by_label("Reason for discharge").select_option("completed")
    page.get_by_label("What happened").fill("Completed all phases; last group on Thursday.")
    page.get_by_label("Primary substance at discharge").select_option("2")
    page.get_by_label("Use of it in the past 30 days").select_option("1")
    page.screenshot(path=str(DOCS_IMG / "discharge-form.png"), full_page=True)
    page.get_by_role("button", name="Discharge", exact=True).click()

    # 2. The draft summary: the facts are assembled; the counsellor writes and signs.
    expect(page.locator("h1")).to_have_text("Discharge summary")
    expect(page.locator("body")).to_contain_text("is discharged")
    expect(page.locator("body")).to_contain_text("Hours attended")
    page.get_by_label("Condition at discharge").fill(
        "Sober 28 days by self-report and screens; mood and sleep improved."
    )
    page.get_by_label("Recommendations and aftercare").fill(
        "Weekly outpatient therapy; alumni group on Thursdays; SMART Recovery meetings."
    )
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("body")).to_contain_text("Summary saved.")
    page.get_by_role("button", name="Save and sign…").click()
    expect(page.locator("h1")).to_have_text("Sign the discharge summary")
    page.get_by_label("I have reviewed this summary").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.locator("body")).to_contain_text("signed and locked")
    expect(page.locator("body")).to_contain_text("Signed by Counsellor Tester")
    expect(page.get_by_role("button", name="Save", exact=True)).to_have_count(0)
    page.screenshot(path=str(DOCS_IMG / "discharge-summary.png"), full_page=True)

    # 3. The PDF.
    pdf_url = page.get_by_role("link", name="PDF").first.get_attribute("href")
    response = page.request.get(base + pdf_url)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"

    # 4. The 30-day follow-up on the alumni worklist.
    record = Discharge.objects.get(episode=participant.current_episode_id)
    due = record.discharge_date + dt.timedelta(days=30)
    page.goto(f"{base}/alumni/?show=upcoming")
    row = page.locator("tr", has_text=participant.display_name).filter(
        has_text=re.compile(r"\b30-day\b")
    )
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{due:%b} {due.day}, {due.year}")
