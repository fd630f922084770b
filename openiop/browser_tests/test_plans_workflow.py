"""Treatment plans in a real browser.

Acceptance (treatment plans): a counsellor builds a plan (a problem, a goal, an objective,
an intervention picked from the library), signs it; the participant signs on the tablet
page by drawing on the pad (mouse, then finger); the supervisor signs; a new version
changes an objective and the version page shows the change. Screenshots for the user
guide go to docs/img/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def browser_context_args(browser_context_args):
    # A touch screen, as the tablet at the desk has; the mouse works as well.
    return {**browser_context_args, "has_touch": True, "viewport": {"width": 1280, "height": 900}}


def draw_with_mouse(page: Page, canvas) -> None:
    box = canvas.bounding_box()
    x, y = box["x"] + 40, box["y"] + box["height"] * 0.6
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 30):
        page.mouse.move(x + i * 12, y - 30 * ((i % 6) / 6), steps=2)
    page.mouse.up()


def draw_with_finger(page: Page, canvas) -> None:
    """Real touch events through the DevTools protocol (the browser turns them into
    pointer events with pointerType "touch", as a finger on a tablet does)."""
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + 60, box["y"] + box["height"] * 0.55
    points = [(x0 + i * 14, y0 - 40 * abs(((i % 8) - 4) / 4)) for i in range(32)]

    def touch(kind: str, points: list[dict]) -> None:
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", [{"x": x0, "y": y0}])
    for x, y in points:
        touch("touchMove", [{"x": x, "y": y}])
    touch("touchEnd", [])
    cdp.detach()


def test_build_sign_and_revise_a_treatment_plan(page, live_server, world, sign_in, artifacts):
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.plans.models import InterventionTemplate, PlanSignature, TreatmentPlan
    from openiop.testing import make_participant

    person = make_participant(
        world.program,
        world.intake,
        last="Rivera",
        first="Sam",
        status=S.ACTIVE,
        counsellor=world.counsellor,
    )
    base = f"{live_server.url}/participants/{person.pk}/plan/"
    target = world.program.today() + dt.timedelta(days=30)
    template = InterventionTemplate.objects.get(modality="cbt", name="Trigger and craving mapping")

    # --- the counsellor builds the plan --------------------------------------------------
    sign_in(world.counsellor)
    page.goto(base)
    expect(page.get_by_text("No treatment plan yet")).to_be_visible()
    page.get_by_role("button", name="Start the treatment plan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Treatment plan (draft)")
    page.get_by_label("In the participant's own words").fill(
        "I want to be someone my daughter can count on, and keep my job."
    )
    page.locator("#plan").get_by_role("button", name="Save").click()
    expect(page.locator("ul.messages")).to_contain_text("Saved.")

    page.locator("#new-dim").select_option("5")
    page.locator("#new-statement").fill(
        "Drinks most evenings after work; two failed attempts to stop alone."
    )
    page.get_by_role("button", name="Add the problem").click()
    expect(page.locator(".plan-problem")).to_contain_text("Drinks most evenings")
    expect(page.locator(".plan-dimension h2")).to_contain_text("Relapse")

    page.get_by_label("Goal, in the participant's words").fill("Stop drinking for good.")
    page.get_by_role("button", name="Add the goal").click()
    expect(page.locator(".plan-goal")).to_contain_text("Stop drinking for good.")

    page.get_by_label("Objective (measurable)").fill(
        "Go 14 days in a row without a drink, logged on the check-in."
    )
    page.get_by_label("Target date").fill(target.isoformat())
    page.get_by_role("button", name="Add the objective").click()
    expect(page.locator(".plan-objective")).to_contain_text("Go 14 days in a row")

    add = page.locator("form[data-add-intervention]")
    add.get_by_label("From the library").select_option(label=template.name)
    # The library's description is filled in (plans.js), ready to adjust.
    expect(add.get_by_label("Description")).to_have_value(template.description)
    add.get_by_label("Frequency").fill("3 groups a week")
    add.get_by_role("button", name="Add the intervention").click()
    expect(page.locator("ul.plan-interventions")).to_contain_text("3 groups a week")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(DOCS_IMG / "treatment-plan-editor.png"), full_page=True)

    page.get_by_role("link", name="Review and sign").click()
    page.get_by_role("button", name="Sign and lock as").click()
    expect(page.locator("ul.messages")).to_contain_text("Signed and locked")
    plan = TreatmentPlan.objects.get(participant=person)
    assert plan.status == "signed" and plan.review_due == plan.effective_date + dt.timedelta(30)

    # --- the participant signs on the tablet ----------------------------------------------
    page.get_by_role("link", name="Participant signs (tablet)").click()
    page.set_viewport_size({"width": 1024, "height": 1366})
    expect(page.get_by_role("heading", name="Your treatment plan")).to_be_visible()
    expect(page.locator(".tablet")).to_contain_text("Stop drinking for good.")
    canvas = page.locator("[data-signature-pad]")
    canvas.scroll_into_view_if_needed()
    image = page.locator("[data-signature-image]")
    draw_with_mouse(page, canvas)
    assert image.input_value().startswith("data:image/png;base64,")
    page.get_by_role("button", name="Clear").click()
    assert image.input_value() == ""
    draw_with_finger(page, canvas)
    drawn = image.input_value()
    assert drawn.startswith("data:image/png;base64,") and len(drawn) > 2000
    page.get_by_label("Type your name").fill("Sam Rivera")
    page.get_by_label("I have read this plan").check()
    page.screenshot(path=str(DOCS_IMG / "treatment-plan-tablet.png"), full_page=False)
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    sig = PlanSignature.objects.get(plan=plan, role="participant")
    assert sig.typed_name == "Sam Rivera" and sig.image == drawn
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- the supervisor signs ---------------------------------------------------------------
    page.context.clear_cookies()
    sign_in(world.supervisor)
    page.goto(base)
    page.get_by_role("link", name="Sign as supervisor").click()
    page.get_by_role("button", name="Sign as supervisor").click()
    expect(page.locator("ul.messages")).to_contain_text("Signed as supervisor")
    expect(page.locator("#signatures")).to_contain_text("Sam Rivera")
    expect(page.locator("#signatures img.signature-image")).to_have_count(1)
    assert page.locator("#signatures").inner_text().count("Electronically signed") == 3
    page.screenshot(path=str(DOCS_IMG / "treatment-plan.png"), full_page=True)
    pdf = page.request.get(f"{base}{plan.pk}/pdf/")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"

    # --- a new version changes an objective ----------------------------------------------------
    page.context.clear_cookies()
    sign_in(world.counsellor)
    page.goto(base)
    page.get_by_role("link", name="Start a new version").click()
    page.get_by_label("Why a new version").select_option("review")
    page.get_by_label("What prompted it").fill("30-day review: one lapse at a wedding.")
    page.get_by_role("button", name="Start the new version").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Treatment plan (draft)")
    objective = page.locator(".plan-objective")
    objective.locator("summary", has_text="Change the objective").click()
    objective.get_by_label("Objective (measurable)").fill(
        "Go 30 days in a row without a drink, logged on the check-in."
    )
    objective.get_by_label("Status").select_option("in_progress")
    objective.get_by_role("button", name="Save the objective").click()
    expect(page.locator(".plan-objective").first).to_contain_text("Go 30 days in a row")
    page.get_by_role("link", name="Review and sign").click()
    page.get_by_role("button", name="Sign and lock as").click()
    changes = page.locator("#changes")
    expect(changes).to_contain_text("What changed since version 1")
    expect(changes).to_contain_text("Objective changed")
    expect(changes.locator("td.diff-old")).to_contain_text(["Go 14 days in a row"])
    expect(changes.locator("td.diff-new")).to_contain_text(["Go 30 days in a row"])
    expect(page.locator(".plan-objective.diff-changed")).to_have_count(1)
    page.screenshot(path=str(DOCS_IMG / "treatment-plan-changes.png"), full_page=True)
    v1, v2 = TreatmentPlan.objects.filter(participant=person).order_by("number")
    assert (v1.status, v2.status) == ("superseded", "signed")
    page.screenshot(path=str(artifacts / "treatment-plan-v2.png"), full_page=True)
