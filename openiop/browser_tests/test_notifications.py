"""Issue 9, point 4: notifications. The participant chooses, on a phone (360 x 740), how
and when the program may write (text messages off, quiet hours, the daily check-in
link); the worker makes and sends the day's messages by those choices; the director
reads the outbox (record numbers and masked addresses only, the reason a message was
skipped) and sees the choices on the chart."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core import mail
from playwright.sync_api import expect

from openiop.notify import delivery, makers, services
from openiop.notify.models import Message, Preference
from openiop.testing import PASSWORD, add_portal

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width}px wide at 360px"


def test_participant_chooses_and_the_outbox_follows(world, page, sign_in, live_server, artifacts):
    base = live_server.url
    add_portal(world)
    participant = world.active
    participant.phone = "(207) 555-0101"
    participant.email = "pat.active@example.org"
    participant.save(update_fields=["phone", "email"])
    Preference.objects.create(participant=world.referred, sms_on=False, email_on=False)
    services.notify_participant(world.referred, "letter_ready", key="browser:skipped")

    # 1. The participant opens "Messages" from the portal's menu, on a phone.
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/my/sign-in/")
    page.get_by_label("Username").fill("portal-active")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Messages").click()
    expect(page.locator("h1")).to_have_text("Messages from us")
    body = page.locator("body")
    expect(body).to_contain_text("•••01")  # the number, masked
    expect(body).not_to_contain_text("555-0101")
    expect(page.get_by_label("Text messages")).to_be_checked()
    expect(page.get_by_label("Sign messages with the program's name")).not_to_be_checked()

    # 2. No texts (a shared phone), email instead; quiet 22:00–07:00; the daily link.
    page.get_by_label("Text messages").uncheck()
    page.get_by_label("A daily check-in link each morning").check()
    page.get_by_label("Quiet from").select_option("22:00")
    page.get_by_label("Quiet until").select_option("07:00")
    no_sideways_scroll(page)
    page.screenshot(path=str(DOCS_IMG / "notify-portal-preferences.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your choices are saved.")
    expect(page.get_by_label("Text messages")).not_to_be_checked()
    expect(page.get_by_label("Quiet from")).to_have_value("22:00")
    no_sideways_scroll(page)
    pref = Preference.objects.get(participant=participant)
    assert (pref.sms_on, pref.check_in_links_on) == (False, True)
    assert (pref.quiet_start, pref.quiet_end) == (dt.time(22), dt.time(7))

    # 3. The worker: at 09:00 the check-in link is made, and goes by email, not text.
    today = world.program.today()
    tz = world.program.tz
    makers.check_in_links(dt.datetime.combine(today, dt.time(9), tzinfo=tz))
    message = Message.objects.get(template="check_in_link", participant=participant)
    assert delivery.deliver(message, now=dt.datetime.combine(today, dt.time(9, 5), tzinfo=tz))
    message.refresh_from_db()
    assert (message.status, message.channel) == ("sent", "email")
    assert "/t/" in mail.outbox[-1].body and "[[link]]" not in mail.outbox[-1].body

    # 4. The director reads the outbox: record numbers and masked addresses, no names.
    page.get_by_role("button", name="Sign out").click()
    page.set_viewport_size(DESKTOP)
    sign_in(world.director)
    page.goto(f"{base}/messages/")
    expect(page.locator("h1")).to_have_text("Outbox")
    table = page.locator("table.data")
    expect(table).to_contain_text(participant.record_number)
    expect(table).to_contain_text("p•••@example.org")
    expect(table).to_contain_text("Sent")
    expect(table).to_contain_text("turned off text messages and email")
    expect(table).not_to_contain_text(participant.legal_last_name)
    page.screenshot(path=str(DOCS_IMG / "notify-outbox.png"), full_page=True)
    page.get_by_label("Status").select_option("skipped")
    page.get_by_role("button", name="Show").click()
    expect(table).to_contain_text(world.referred.record_number)
    expect(table).not_to_contain_text(participant.record_number)

    # One message: what it said, the one-tap link never kept.
    page.goto(f"{base}/messages/{message.pk}/")
    expect(page.locator("pre.message-body")).to_contain_text("Check in with one tap")
    expect(page.locator("pre.message-body")).to_contain_text("[link]")
    expect(page.locator("pre.message-body")).not_to_contain_text("/t/")
    page.screenshot(path=str(artifacts / "notify-message.png"), full_page=True)

    # 5. The chart shows the participant's choices, read-only.
    page.goto(f"{base}/participants/{participant.pk}/")
    expect(page.locator("body")).to_contain_text("22:00–07:00")
    expect(page.locator("body")).to_contain_text("Only the participant changes these")
    page.locator("text=Only the participant changes these").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "notify-chart-section.png"))
