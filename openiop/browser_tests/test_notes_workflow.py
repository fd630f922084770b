"""Progress notes in a real browser.

Acceptance (issue 6, point 2): a browser test types into a note, closes the browser
context (as a closed tab or an ended session would), signs in again and finds every
character.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

TEXT = (
    "Arrived 10 minutes early; said the weekend was \u201chard but sober\u201d.\n"
    "Named two triggers: payday & the old crew at O'Malley's.\n"
    "Unicode survives too: caf\u00e9, na\u00efve, \u2013 and emoji-free."
)


def test_every_character_typed_survives_a_closed_context(browser, live_server, world, artifacts):
    from openiop.notes.models import Note
    from openiop.testing import PASSWORD

    draft = world.draft_note
    url = f"{live_server.url}/participants/{world.active.pk}/notes/{draft.pk}/edit/"

    def signed_in_page():
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(live_server.url + "/accounts/login/")
        page.get_by_label("Username").fill(world.counsellor.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(live_server.url + "/")
        return context, page

    context, page = signed_in_page()
    page.goto(url)
    box = page.get_by_label("Behavior")
    box.click()
    page.keyboard.type(TEXT)
    # The autosave runs a couple of seconds after typing stops; wait for its word.
    expect(page.locator("[data-autosave-status]")).to_contain_text("Draft saved", timeout=15000)
    page.screenshot(path=str(artifacts / "note-draft.png"), full_page=True)
    context.close()  # no "Save draft" click: the tab is simply gone

    assert Note.objects.get(pk=draft.pk).sections["behavior"] == TEXT

    context, page = signed_in_page()
    # The today board takes the returning author back to the draft.
    drafts = page.locator(".panel-my_drafts")
    expect(drafts).to_contain_text(world.active.display_name)
    drafts.get_by_role("link", name=world.active.display_name).click()
    expect(page.get_by_label("Behavior")).to_have_value(TEXT)
    context.close()
