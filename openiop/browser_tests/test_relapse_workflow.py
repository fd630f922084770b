"""A relapse-prevention plan in a real browser, from the first contact to the
participant's signature drawn on the tablet page.

The counsellor adds a contact, writes the plan, names the contact as a support person
and signs; the participant reads the plan on a tablet, types their name and draws a
signature (a finger stroke and a mouse stroke) on the pad. Screenshots go to docs/img/
for the user guide.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def signed_in_page(browser, live_server, user, **context_args) -> tuple:
    from openiop.testing import PASSWORD

    context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context_args})
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live_server.url + "/")
    return context, page


def touch_stroke(page: Page, points: list[tuple[float, float]]) -> None:
    """A finger drawing through `points` (page coordinates), as a touch screen sends it."""
    cdp = page.context.new_cdp_session(page)
    first, *rest = points
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": first[0], "y": first[1]}]},
    )
    for x, y in rest:
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_contact_plan_signatures_and_the_tablet(browser, live_server, world, artifacts):
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.participants.models import Contact
    from openiop.relapse.models import RelapsePlan
    from openiop.testing import make_participant

    person = make_participant(
        world.program,
        world.intake,
        first="Morgan",
        last="Rivera",
        status=S.ACTIVE,
        counsellor=world.counsellor,
    )
    chart = f"{live_server.url}/participants/{person.pk}/"
    context, page = signed_in_page(browser, live_server, world.counsellor)

    # 1. A contact, from the chart.
    page.goto(chart)
    contacts = page.locator("#section-contacts")
    contacts.get_by_role("link", name="Add a contact").click()
    page.get_by_label("Name").fill("Alex Rivera")
    page.get_by_label("Relationship").select_option(label="Sibling")
    page.get_by_label("Phone").fill("(207) 555-0163")
    page.get_by_label("Recovery support person").check()
    page.get_by_label("Notes").fill("Knows about the program; best reached after 5 pm.")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_role("heading", name="Contacts: Morgan Rivera")).to_be_visible()
    expect(page.locator("table.contacts")).to_contain_text("Alex Rivera")
    page.screenshot(path=str(DOCS_IMG / "contacts.png"), full_page=True)
    contact = Contact.objects.get(participant=person)
    assert contact.is_support and contact.relationship == "sibling"

    # 2. The plan: from the chart section to the editor.
    page.goto(chart)
    section = page.locator("#section-relapse")
    section.get_by_role("link", name="Relapse-prevention plan").click()
    page.get_by_role("button", name="Write the plan").click()
    expect(page.get_by_role("heading", name="Relapse-prevention plan: draft")).to_be_visible()
    page.get_by_label("Reasons for recovery").fill(
        "I want to be there for my daughter.\nI want my health back."
    )
    page.get_by_label("Triggers", exact=True).fill(
        "Payday Fridays\nArguments with my ex\nThe bar on Fore Street"
    )
    page.get_by_label("High-risk situations").fill("Being alone on a Friday night\nWork parties")
    page.get_by_label("Warning signs").fill(
        "Skipping group\nNot sleeping\nTelling myself one won't hurt"
    )
    page.get_by_label("Coping strategies").fill("Urge surfing\nWalk the dog\nA meeting at noon")
    page.get_by_label("When cravings hit").fill(
        "1. Wait 15 minutes and breathe\n2. Call Alex\n3. Go to a meeting"
    )
    page.get_by_label("Alex Rivera (Sibling)").check()
    page.get_by_label("What Alex Rivera will do").fill(
        "Call when a craving hits; drive me to a meeting"
    )
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Draft saved")
    page.screenshot(path=str(DOCS_IMG / "relapse-plan-editor.png"), full_page=True)

    # 3. Review and sign.
    page.get_by_role("button", name="Save and review for signing").click()
    expect(page.get_by_role("heading", name="Review and sign the plan")).to_be_visible()
    expect(page.locator(".plan-diff")).to_contain_text("First version")
    page.get_by_role("button", name="Sign and lock version 1").click()
    expect(page.locator(".messages")).to_contain_text("signed and locked")
    plan = RelapsePlan.objects.get(participant=person)
    assert plan.status == "signed" and plan.craving_steps[1] == "Call Alex"
    assert [p.contact_id for p in plan.support_people.all()] == [contact.pk]
    tablet_url = page.get_by_role("link", name="Participant signs on the tablet").get_attribute(
        "href"
    )
    context.close()

    # 4. The participant, on a tablet: reads the plan, types a name, draws a signature.
    context, page = signed_in_page(
        browser,
        live_server,
        world.counsellor,
        viewport={"width": 1024, "height": 1366},
        has_touch=True,
    )
    page.goto(live_server.url + tablet_url)
    expect(page.get_by_role("heading", name="My relapse-prevention plan")).to_be_visible()
    expect(page.locator(".tablet")).to_contain_text("Call when a craving hits")
    page.get_by_label("Type your name").fill("Morgan Rivera")
    pad = page.locator("canvas[data-signature-pad]")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    # A finger stroke: the first letter.
    touch_stroke(page, [(x + w * (0.10 + 0.02 * i), y + h * (0.7 - 0.05 * i)) for i in range(9)])
    signature = page.locator("#id_signature")
    assert signature.input_value().startswith("data:image/png;base64,")
    # Clear empties the pad and the field; then sign with the mouse.
    page.get_by_role("button", name="Clear").click()
    assert signature.input_value() == ""
    # A looping, handwriting-like stroke with the mouse.
    points = [
        (
            x + w * (0.08 + 0.78 * t + 0.025 * math.sin(t * 38)),
            y + h * (0.55 - 0.22 * math.sin(t * 19) * (1 - 0.6 * t) - 0.08 * math.cos(t * 38)),
        )
        for t in (i / 160 for i in range(161))
    ]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point)
    page.mouse.up()
    drawn = signature.input_value()
    assert drawn.startswith("data:image/png;base64,") and len(drawn) > 500
    page.screenshot(path=str(DOCS_IMG / "relapse-plan-tablet.png"), full_page=True)
    page.get_by_role("button", name="I agree to this plan: sign").click()
    expect(page.locator(".messages")).to_contain_text("the plan is signed")
    plan.refresh_from_db()
    assert plan.participant_signed_name == "Morgan Rivera"
    assert plan.participant_signature == drawn
    context.close()

    # 5. The plan with both signatures, and the chart section.
    context, page = signed_in_page(browser, live_server, world.counsellor)
    page.goto(f"{live_server.url}/participants/{person.pk}/relapse-plan/")
    expect(page.locator("img.signature-image")).to_be_visible()
    page.screenshot(path=str(DOCS_IMG / "relapse-plan.png"), full_page=True)
    # 6. Version 2: a trigger learned, a step moved; the review shows what changed.
    page.get_by_role("button", name="Start version 2").click()
    triggers = page.get_by_label("Triggers", exact=True)
    triggers.fill(triggers.input_value().replace("Payday Fridays\n", "") + "\nGetting paid in cash")
    page.get_by_label("When cravings hit").fill(
        "Call Alex\nWait 15 minutes and breathe\nGo to a meeting"
    )
    page.get_by_role("button", name="Save and review for signing").click()
    diff = page.locator(".plan-diff")
    expect(diff).to_contain_text("Changes from version 1")
    expect(diff.locator(".diff-added")).to_contain_text("Getting paid in cash")
    expect(diff.locator(".diff-removed")).to_contain_text("Payday Fridays")
    expect(diff).to_contain_text("The steps are in a new order.")
    diff.screenshot(path=str(DOCS_IMG / "relapse-plan-diff.png"))
    page.goto(chart)
    section = page.locator("#section-relapse")
    expect(section).to_contain_text("Alex Rivera ((207) 555-0163)")
    section.screenshot(path=str(DOCS_IMG / "chart-relapse-plan.png"))
    page.screenshot(path=str(artifacts / "relapse-chart.png"), full_page=True)
    context.close()
