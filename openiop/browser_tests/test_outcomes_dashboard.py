"""Issue 10, point 4: a director opens the outcomes dashboard, changes the range and the
track, opens a figure's definition and downloads a CSV. The screenshot is the user
guide's (docs/user-guide/outcomes.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from playwright.sync_api import expect

from openiop.testing import add_outcomes_story

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def test_director_reads_the_outcomes_dashboard(world, page, sign_in, live_server):
    base = live_server.url
    add_outcomes_story(world)
    page.set_viewport_size(DESKTOP)
    sign_in(world.director)
    page.get_by_role("link", name="Outcomes").click()
    expect(page.locator("h1")).to_have_text("Outcomes: Harbor IOP")
    expect(page.locator("#fig-retention svg[role=img]")).to_be_visible()
    page.screenshot(path=str(DOCS_IMG / "outcomes-dashboard.png"), full_page=True)

    # A narrower range and the Evening track.
    today = world.program.today()
    page.get_by_label("From", exact=True).fill((today - dt.timedelta(days=180)).isoformat())
    page.get_by_label("Track", exact=True).select_option(label="Evening")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".page-head")).to_contain_text("Evening track")

    # A range the wrong way round is refused with a message, not an error page.
    page.get_by_label("From", exact=True).fill(today.isoformat())
    page.get_by_label("To", exact=True).fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".notice.error")).to_contain_text("is after")
    page.go_back()

    # The retention curve's definition, one click away.
    page.locator("#fig-retention").get_by_role("link", name="How is this counted?").click()
    expect(page).to_have_url(f"{base}/outcomes/definitions/#retention")
    expect(page.locator("#retention")).to_contain_text("Kaplan–Meier")
    page.go_back()

    # The completion rate as CSV, with the page's filters.
    with page.expect_download() as download:
        page.locator("#fig-stay").get_by_role("link", name="Download CSV").nth(1).click()
    path = download.value.path()
    text = Path(path).read_text()
    assert text.startswith("Completion rate,Harbor IOP")
    assert "Track,Evening" in text and "By referral source" in text
