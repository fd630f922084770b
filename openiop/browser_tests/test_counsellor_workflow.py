"""A counsellor's day in a real browser: sign in, find a referral, admit them, see refusals.

Acceptance: a browser test logs in as a counsellor, searches for a participant, opens
the chart, and moves a referred participant through to active, with screenshots kept
in var/test-artifacts/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from openiop.participants.choices import EpisodeStatus as S
from openiop.testing import make_participant

pytestmark = pytest.mark.browser


def summary(page: Page, term: str):
    """The value shown for `term` in the chart header's summary."""
    return (
        page.locator(".chart-head dl.summary > div")
        .filter(has=page.locator("dt", has_text=term))
        .locator("dd")
    )


def confirm(page: Page, label: str) -> None:
    """Submit a transition form and wait for the chart to confirm the new status."""
    page.get_by_role("button", name=f"Confirm: {label}").click()
    expect(page.get_by_role("status")).to_contain_text(f"is now {label}")
    expect(summary(page, "Status")).to_have_text(label)


def test_counsellor_moves_a_referral_to_active(page, live_server, world, sign_in, artifacts):
    sign_in(world.counsellor)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Counsellor")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    expect(page.get_by_role("heading", name="Participants", level=1)).to_be_visible()
    page.get_by_role("searchbox", name="Search").fill("Referred")
    page.get_by_role("button", name="Search").click()
    # The name searched for never appears in the address bar (PHI stays out of URLs).
    expect(page).to_have_url(re.compile(r"/participants/\?search=1$"))
    rows = page.locator("table.data tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Referred")
    page.screenshot(path=str(artifacts / "participant-list.png"), full_page=True)

    rows.first.get_by_role("link", name="Pat Referred").click()
    expect(page.get_by_role("heading", name="Pat Referred", level=1)).to_be_visible()
    expect(summary(page, "Status")).to_have_text("Referred")

    page.get_by_role("link", name="Start screening").click()
    confirm(page, "Screening")
    # Assessed and Admitted have their own forms (ASAM assessment, guided admission;
    # see test_intake_workflow): the chart links to them.
    expect(page.get_by_role("link", name="Assess (ASAM)")).to_have_attribute(
        "href", re.compile(r"/intake/\d+/assessment/$")
    )
    expect(page.get_by_role("link", name="Mark assessed")).to_have_count(0)

    # A participant admitted through intake starts attending from the chart.
    admitted = make_participant(
        world.program, world.intake, last="Admitted", status=S.ADMITTED, counsellor=world.counsellor
    )
    page.goto(f"{live_server.url}/participants/{admitted.pk}/")
    expect(summary(page, "Track")).to_have_text("Morning")
    page.get_by_role("link", name="Start attending (active)").click()
    confirm(page, "Active")
    expect(summary(page, "Track")).to_have_text("Morning")
    expect(summary(page, "Counsellor")).to_have_text("Counsellor Tester")
    history = page.locator("#section-history ol.timeline li > strong")
    expect(history).to_have_text(["Referred", "Screening", "Assessed", "Admitted", "Active"])
    # Once active, the only way on is discharge: no going back to an earlier step.
    episode = page.locator("#section-episode")
    expect(episode.get_by_role("link", name="Discharge")).to_be_visible()
    expect(episode.get_by_role("link", name="Start screening")).to_have_count(0)
    page.screenshot(path=str(artifacts / "chart-active.png"), full_page=True)

    # Asking for a backward move directly is refused with an explanation, not a 500.
    participant = world.active
    url = (
        f"{live_server.url}/participants/{participant.pk}/episodes/"
        f"{participant.current_episode_id}/to/screening/"
    )
    response = page.goto(url)
    if response is None or response.status != 409:
        pytest.fail(f"Expected 409 for a backward move, got {response and response.status}")
    expect(page.locator(".notice.error[role=alert]")).to_contain_text("do not move backwards")
    expect(page.get_by_role("button", name="Confirm: Screening")).to_have_count(0)
    page.get_by_role("link", name="Back to the chart").click()
    expect(summary(page, "Status")).to_have_text("Active")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    caseload = page.locator("section").filter(has=page.get_by_role("heading", name="My caseload"))
    expect(caseload.get_by_role("link", name="Pat Admitted")).to_be_visible()
    expect(caseload.get_by_role("link", name="Pat Active")).to_be_visible()
    page.screenshot(path=str(artifacts / "today-board.png"), full_page=True)


def test_lab_sees_the_chart_without_edit_or_transition_buttons(
    page, live_server, world, sign_in, artifacts
):
    sign_in(world.lab)
    page.goto(f"{live_server.url}/participants/{world.active.pk}/")
    expect(page.get_by_role("heading", name="Pat Active", level=1)).to_be_visible()
    expect(summary(page, "Status")).to_have_text("Active")
    expect(page.get_by_role("link", name="Edit details")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit episode")).to_have_count(0)
    expect(page.locator("#section-episode .actions a")).to_have_count(0)
    expect(page.locator("a[href*='/to/']")).to_have_count(0)
    page.screenshot(path=str(artifacts / "chart-lab.png"), full_page=True)
