"""Take the screenshots used in the user guide from a running demo server.

    OPENIOP_DEMO=1 DEBUG=1 .venv/bin/openiop migrate && ... openiop demo && ... openiop serve
    .venv/bin/python docs/screenshots.py [BASE_URL]      # default http://127.0.0.1:8000

BASE_URL may also come from OPENIOP_URL. Signs in with the published demo logins
(counsellor, and director for program set-up) and writes PNGs into docs/img/.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from openiop.browser import CHROMIUM, CHROMIUM_ARGS

DEMO_PASSWORD = "openiop-demo"  # noqa: S105  (the published demo password)
VIEWPORT = {"width": 1280, "height": 800}
OUT = Path(__file__).resolve().parent / "img"


def sign_in(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def shoot(page: Page, name: str, *, full_page: bool = True) -> None:
    path = OUT / name
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


def counsellor_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "counsellor", password)
    caseload = page.locator("section").filter(has=page.get_by_role("heading", name="My caseload"))
    expect(caseload.locator("tbody tr").first).to_be_visible()
    shoot(page, "today-board.png")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    expect(page.locator("table.data tbody tr").first).to_be_visible()
    shoot(page, "participant-list.png", full_page=False)

    page.goto(f"{base}/")
    active = caseload.locator("tbody tr").filter(has=page.locator(".badge-active")).first
    active.get_by_role("link").first.click()
    expect(page.locator(".chart-head")).to_be_visible()
    shoot(page, "chart.png")


def intake_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "intake", password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", name="Referral pipeline")).to_be_visible()
    shoot(page, "referral-pipeline.png")
    assessed = page.locator(".pipeline-col").filter(has=page.locator("h2", has_text="Assessed"))
    assessed.locator(".pipeline-card").first.click()
    expect(page.get_by_role("heading", name="Next steps")).to_be_visible()
    shoot(page, "referral.png")
    page.locator("ol.stepper").get_by_role("link", name=re.compile("signed")).click()
    expect(page.get_by_role("heading", name="ASAM multidimensional assessment")).to_be_visible()
    shoot(page, "asam-assessment.png")
    page.get_by_role("link", name="Referral", exact=True).click()
    page.get_by_role("link", name="Admit", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("^Admit "))).to_be_visible()
    shoot(page, "admission.png")


def measures_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "counsellor", password)
    panel = page.locator("section.panel-safety")
    expect(panel).to_be_visible()
    shoot(page, "safety-alert.png", full_page=False)
    panel.locator(".safety-alert").first.get_by_role("link").first.click()
    expect(page.locator("#section-measures")).to_be_visible()
    page.locator("#section-measures").get_by_role("link", name="Trends and history").click()
    expect(page.locator(".trend svg").first).to_be_visible()
    shoot(page, "measures.png")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Measures due").click()
    expect(page.get_by_role("heading", name="Instruments due")).to_be_visible()
    shoot(page, "instruments-due.png", full_page=False)


def schedule_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "counsellor", password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    expect(page.get_by_role("heading", name="Schedule", level=1)).to_be_visible()
    shoot(page, "schedule-week.png")
    page.get_by_role("link", name=re.compile("Previous week")).click()
    taken = page.locator("a.cal-session").filter(has_text="attendance taken").first
    taken.click()
    expect(page.locator("table.roster")).to_be_visible()
    shoot(page, "roster.png")
    page.locator("table.roster tbody tr").first.get_by_role("link").first.click()
    expect(page.locator("#section-attendance")).to_be_visible()
    page.locator("#section-attendance").screenshot(path=str(OUT / "chart-attendance.png"))
    print(f"wrote {OUT / 'chart-attendance.png'}")
    curriculum = page.locator("#section-curriculum")
    if curriculum.count():
        curriculum.screenshot(path=str(OUT / "chart-curriculum.png"))
        print(f"wrote {OUT / 'chart-curriculum.png'}")
    page.locator("#section-attendance").get_by_role("link", name="Record a check-in").click()
    expect(page.get_by_role("heading", name=re.compile("Daily check-in"))).to_be_visible()
    shoot(page, "check-in.png")


def director_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "director", password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Program set-up").click()
    expect(page.get_by_role("heading", name="Program set-up", level=1)).to_be_visible()
    shoot(page, "program-setup.png")
    page.get_by_role("link", name="Harbor Light IOP").click()
    expect(page.get_by_role("heading", name="Tracks")).to_be_visible()
    shoot(page, "program-detail.png")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    page.get_by_role("link", name=re.compile("template$")).first.click()
    expect(page.get_by_role("heading", name=re.compile("weekly template"))).to_be_visible()
    shoot(page, "weekly-template.png")


def admin_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "admin", password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff", level=1)).to_be_visible()
    shoot(page, "staff.png")
    page.get_by_role("row").filter(has_text="Casey Romero").get_by_role("link", name="Edit").click()
    expect(page.get_by_text("Roles decide what someone can see")).to_be_visible()
    shoot(page, "staff-edit.png")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Background jobs")).to_be_visible()
    shoot(page, "jobs.png")


def compliance_pages(page: Page, base: str, password: str) -> None:
    sign_in(page, base, "compliance", password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    shoot(page, "audit-log.png", full_page=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "base_url", nargs="?", default=os.environ.get("OPENIOP_URL", "http://127.0.0.1:8000")
    )
    parser.add_argument(
        "--password", default=os.environ.get("OPENIOP_DEMO_PASSWORD", DEMO_PASSWORD)
    )
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            for take in (
                counsellor_pages,
                intake_pages,
                measures_pages,
                schedule_pages,
                director_pages,
                admin_pages,
                compliance_pages,
            ):
                context = browser.new_context(viewport=VIEWPORT)
                take(context.new_page(), base, args.password)
                context.close()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
