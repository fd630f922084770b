"""Intake and measurement-based care in a real browser.

Acceptance (issue 4): a browser test takes a referral through screening, assessment and
admission and ends on the new participant's chart; another shows the suicide-risk alert
appearing for the counsellor (and staying until a clinician documents a response).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def radio_group(page: Page, legend: str):
    return page.locator("fieldset").filter(has=page.locator("legend", has_text=legend))


def test_a_referral_goes_through_screening_assessment_and_admission(
    page, live_server, world, sign_in, artifacts
):
    sign_in(world.intake)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", name="Referral pipeline", level=1)).to_be_visible()
    page.get_by_role("link", name="New referral").click()

    page.get_by_label("Legal first name").fill("Jordan")
    page.get_by_label("Legal last name").fill("Whitaker")
    page.get_by_label("Date of birth").fill("1985-03-14")
    page.get_by_label("Phone", exact=True).fill("(207) 555-0199")
    page.get_by_label("Source").select_option(label="Residential / inpatient step-down")
    page.get_by_label("Reason for referral").fill("Stepping down after 21 days residential.")
    page.get_by_label("Referrer", exact=True).fill("Paul Lemieux")
    page.get_by_label("Organisation").fill("Bayview Residential")
    page.get_by_label("Insurance", exact=True).fill("Anthem BCBS")
    page.screenshot(path=str(artifacts / "intake-new-referral.png"), full_page=True)
    page.get_by_role("button", name="Save referral").click()

    expect(page.get_by_role("heading", name="Jordan Whitaker", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Referral recorded")
    # Log a contact attempt from the referral page.
    page.get_by_label("Contact method").select_option(label="Phone call")
    page.get_by_label("Contact outcome").select_option(label="Reached; assessment scheduled")
    page.get_by_role("button", name="Log attempt").click()
    expect(page.locator("ol.timeline")).to_contain_text("Reached; assessment scheduled")

    # Pre-admission screening: one answer points elsewhere and is flagged, not hidden.
    page.get_by_role("link", name="Screen now").click()
    for fieldset in page.locator("ol.questions fieldset").all():
        fieldset.get_by_label("No", exact=True).or_(fieldset.get_by_label("7", exact=True)).check()
    radio_group(page, "stable").get_by_label("Yes", exact=True).check()
    radio_group(page, "attend").get_by_label("Yes", exact=True).check()
    radio_group(page, "get to the program").get_by_label("No", exact=True).check()
    page.get_by_role("button", name="Record screening").click()
    expect(page.locator("#h-screen + p, ul.flags").first).to_be_visible()
    expect(page.locator("ul.flags")).to_contain_text("Barrier")

    # ASAM assessment: six ratings and narratives, a recommendation, signed.
    page.get_by_role("link", name="Start").click()
    expect(page.get_by_role("heading", name=re.compile("ASAM assessment"))).to_be_visible()
    ratings = [1, 1, 2, 2, 2, 1]
    dims = page.locator("fieldset.dimension")
    for n, rating in enumerate(ratings, start=1):
        dim = dims.nth(n - 1)
        dim.get_by_label(re.compile(rf"{rating} · ")).check()
        dim.locator(f"textarea[name=narrative_{n}]").fill(f"Findings for dimension {n}.")
    page.screenshot(path=str(artifacts / "intake-assessment.png"), full_page=True)
    page.get_by_role("button", name="Sign assessment").click()
    expect(page.get_by_role("status")).to_contain_text("Assessment signed")
    expect(page.locator("dl.facts")).to_contain_text("2.1 Intensive Outpatient")
    page.screenshot(path=str(artifacts / "intake-assessment-signed.png"), full_page=True)

    # Admission: the guided form ends on the new participant's chart.
    page.get_by_role("link", name="Referral", exact=True).click()
    page.get_by_role("link", name="Admit", exact=True).click()
    expect(page.get_by_role("heading", name="Admit Jordan Whitaker")).to_be_visible()
    page.get_by_label("Track").select_option(label="Morning")
    page.get_by_label("Primary counsellor").select_option(label="Counsellor Tester")
    page.get_by_label("Diagnosis 1 code").fill("F10.20")
    page.get_by_label("Diagnosis 2 code").fill("F41.1")
    page.get_by_label(re.compile("participant's signature")).fill("Jordan Whitaker")
    page.get_by_label(re.compile("received the confidentiality notice")).check()
    page.screenshot(path=str(artifacts / "intake-admit.png"), full_page=True)
    page.get_by_role("button", name="Admit", exact=True).click()

    expect(page.get_by_role("heading", name="Jordan Whitaker", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("is admitted")
    status = page.locator(".chart-head dl.summary > div").filter(has_text="Status")
    expect(status.locator("dd")).to_have_text("Admitted")
    intake = page.locator("#section-intake")
    expect(intake).to_contain_text("F10.20")
    expect(intake).to_contain_text("Alcohol dependence")
    expect(intake).to_contain_text("Treatment consent signed")
    page.screenshot(path=str(artifacts / "intake-chart.png"), full_page=True)


def test_a_positive_suicide_risk_answer_alerts_the_counsellor_until_answered(
    page, live_server, world, sign_in, artifacts
):
    participant = world.active  # Counsellor Tester is the primary counsellor
    # The intake coordinator gives the PHQ-9 at the desk...
    sign_in(world.intake)
    page.goto(f"{live_server.url}/participants/{participant.pk}/measures/give/PHQ-9/")
    items = page.locator("ol.items fieldset")
    expect(items).to_have_count(9)
    for k in range(8):
        items.nth(k).get_by_label("Several days").check()
    items.nth(8).get_by_label("More than half the days").check()
    page.get_by_role("button", name="Score and save").click()
    notice = page.locator(".notice.safety")
    expect(notice).to_contain_text("Safety alert (High risk)")
    alert_href = notice.locator("a[href*='/measures/alerts/']").get_attribute("href")
    if not alert_href:
        pytest.fail("the safety notice links to its alert")
    this_alert = f"a[href='{alert_href}']"
    page.get_by_role("button", name="Sign out").click()

    # ...and the participant's counsellor sees it as soon as they open the board.
    sign_in(world.counsellor)
    page.goto(f"{live_server.url}/")

    # The today board leads with it, unmissably, for the participant's counsellor.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    panel = page.locator("section.panel-safety")
    expect(panel).to_be_visible()
    expect(panel.locator("li").filter(has=page.locator(this_alert))).to_contain_text(
        participant.display_name
    )
    expect(panel.locator("li").filter(has=page.locator(this_alert))).to_contain_text("High risk")
    page.screenshot(path=str(artifacts / "safety-alert-board.png"), full_page=True)
    # Every other page carries a banner while an alert is open.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Participants").click()
    expect(page.locator(".banner-danger")).to_contain_text("open safety alert")

    # It stays until a clinician documents a response.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    panel.locator(this_alert).click()
    page.get_by_label("Suicide risk assessment completed").check()
    page.get_by_label("Safety plan made or reviewed with the participant").check()
    page.get_by_label("Moderate", exact=True).check()
    page.get_by_label("Response note").fill("Seen same day; passive thoughts, no plan.")
    page.get_by_role("button", name="Save response and close the alert").click()
    expect(page.get_by_role("status")).to_contain_text("Response documented")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Today").click()
    expect(page.locator(this_alert)).to_have_count(0)
