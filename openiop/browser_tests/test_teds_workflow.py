"""Issue 10, acceptance 4 in the browser: intake records a participant's TEDS admission
items from the chart (leaving one out), then compliance opens the state-reporting export,
sees that record listed with its problem, fixes nothing and downloads the admissions
file, which leaves the record out. Screenshots for the user guide: docs/img/teds-items.png
and docs/img/teds-export.png."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from openiop.outcomes import teds
from openiop.testing import TEDS_ITEMS

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def test_intake_records_teds_items_and_compliance_exports(
    world, page, sign_in, live_server, settings
):
    settings.OPENIOP_TEDS_STATE = "ME"
    settings.OPENIOP_TEDS_PROVIDER_ID = "ME-IOP-0042"
    base = live_server.url
    page.set_viewport_size(DESKTOP)
    active = world.active
    admitted = active.current_episode.admission_date

    # 1. Intake opens the chart's state-reporting section and records the items, all but
    #    the education level, which the participant has not said yet.
    sign_in(world.intake)
    page.goto(f"{base}/participants/{active.pk}/")
    section = page.locator("#section-teds")
    expect(section).to_contain_text("0 of 26")
    section.get_by_role("link", name="Record TEDS items").click()
    expect(page.locator("h1")).to_contain_text("State reporting (TEDS)")
    expect(page.locator("main")).to_contain_text("6 (Ambulatory, intensive outpatient)")
    for name, value in TEDS_ITEMS.items():
        if value is None or name == "education":
            continue
        field = page.locator(f"#id_{name}")
        if name.startswith("frstuse"):
            field.fill(str(value))
        else:
            field.select_option(str(value))
    page.get_by_role("button", name="Save TEDS items").click()
    expect(page.locator("body")).to_contain_text("TEDS items saved")
    expect(page.locator("main")).to_contain_text("22 of 23")
    expect(page.locator("main")).to_contain_text("Missing: EDUC")
    page.screenshot(path=str(DOCS_IMG / "teds-items.png"), full_page=True)

    # 2. Compliance opens State reporting, chooses the day of the admission, and sees the
    #    record listed with its problem.
    page.context.clear_cookies()
    sign_in(world.compliance)
    page.get_by_role("link", name="State reporting").click()
    expect(page.locator("h1")).to_have_text("State reporting (TEDS)")
    page.get_by_label("From").fill(admitted.isoformat())
    page.get_by_label("To").fill(admitted.isoformat())
    page.get_by_role("button", name="Show the records").click()
    problems = page.locator("#h-admissions-problems").locator("xpath=..")
    expect(problems).to_contain_text(active.record_number)
    row = problems.locator("tr", has_text=active.record_number)
    expect(row).to_contain_text("EDUC: not recorded")
    page.screenshot(path=str(DOCS_IMG / "teds-export.png"), full_page=True)

    # 3. Fixing nothing, compliance downloads the admissions file: the record is left out.
    with page.expect_download() as info:
        page.get_by_role("link", name="Download admissions").click()
    text = Path(info.value.path()).read_text()
    assert text.splitlines()[0] == ",".join(teds.ADMISSION_COLUMNS)
    client_id = teds.client_id(active.record_number, teds.provider_from_settings().client_key)
    assert client_id not in text
    assert active.record_number not in text
