"""Issue 10, points 2 and 3: the aftercare plan and the alumni follow-ups.

The counsellor adds a referral to a participant's aftercare plan and gives it (the plan
says it was given); then opens the alumni worklist, opens a follow-up that is due, logs a
call nobody answered, then a call that reached the person with the outcomes they gave, and
finds it under "Done"; and records who came to an alumni event. Screenshots for the user
guide: docs/img/aftercare-plan.png and docs/img/alumni-worklist.png."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from openiop.alumni.choices import FollowUpStatus
from openiop.alumni.models import AlumniAttendance, FollowUp
from openiop.discharge.choices import AftercareStatus
from openiop.discharge.models import AftercarePlan
from openiop.testing import add_aftercare, add_discharged

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DESKTOP = {"width": 1280, "height": 900}


def test_aftercare_plan_given(world, page, sign_in, live_server):
    base = live_server.url
    add_aftercare(world)
    page.set_viewport_size(DESKTOP)
    sign_in(world.counsellor)

    page.goto(f"{base}/participants/{world.active.pk}/aftercare/")
    expect(page.locator("h1")).to_contain_text("Aftercare plan")
    page.get_by_role("link", name="Add a referral").click()
    page.get_by_label("Referral to").select_option("mutual_help")
    page.get_by_label("Provider or meeting").fill("SMART Recovery, Tuesday 7 pm, Library")
    page.get_by_label("Phone, address or link").fill("smartrecovery.org")
    page.get_by_label("Who arranges it").select_option("participant")
    page.get_by_role("button", name="Add the referral").click()
    expect(page.locator("[data-referrals]")).to_contain_text("SMART Recovery")

    page.get_by_role("button", name="Give to the participant").click()
    expect(page.locator("[data-plan-status]")).to_have_text("Given to the participant")
    plan = AftercarePlan.objects.get(pk=world.aftercare_plan.pk)
    assert plan.status == AftercareStatus.GIVEN and len(plan.given_sha256) == 64
    page.screenshot(path=str(DOCS_IMG / "aftercare-plan.png"), full_page=True)


def test_follow_up_calls_and_alumni_event(world, page, sign_in, live_server):
    add_discharged(world)
    follow_up = world.follow_up
    page.set_viewport_size(DESKTOP)
    sign_in(world.counsellor)

    # 1. The worklist: the 30-day call, five days overdue, first.
    page.get_by_role("link", name="Alumni").first.click()
    expect(page.locator("h1")).to_have_text("Alumni follow-ups")
    first_row = page.locator("[data-alumni-worklist] tbody tr").first
    expect(first_row).to_contain_text(world.alumnus.display_name)
    expect(first_row).to_contain_text("5 days overdue")
    page.screenshot(path=str(DOCS_IMG / "alumni-worklist.png"), full_page=True)

    # 2. No answer.
    first_row.get_by_role("link", name="30-day").click()
    expect(page.locator("h1")).to_contain_text("30-day follow-up")
    page.get_by_label("Method").select_option("phone")
    page.locator("[data-attempt-form] input[name=note]").fill("No answer; left a voicemail")
    page.get_by_label("No — no answer, message left, wrong number…").check()
    page.get_by_role("button", name="Save the attempt").click()
    expect(page.locator("[data-attempts]")).to_contain_text("left a voicemail")
    expect(page.locator("[data-follow-up-status]")).to_contain_text("To do")

    # 3. Reached, with the outcomes.
    page.get_by_label("Yes", exact=True).first.check()
    page.get_by_label("Alcohol or drug use since discharge").select_option("none")
    page.get_by_label("Days of use in the past 30").fill("0")
    page.get_by_label("Work or school").select_option("full_time")
    page.get_by_label("Housing").select_option("stable")
    page.get_by_label("Back in treatment").select_option("no")
    page.get_by_label("Quality of life (0–10)").fill("8")
    page.get_by_label("Keeping to the aftercare plan").select_option("yes")
    page.get_by_role("button", name="Save the attempt").click()
    expect(page.locator("[data-follow-up-status]")).to_contain_text("Reached")
    expect(page.locator("[data-outcomes]")).to_contain_text("8 / 10")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.REACHED
    assert FollowUp.objects.get(pk=follow_up.pk).attempts.count() == 2

    # 4. Under "Done".
    page.get_by_role("link", name="Worklist").click()
    page.get_by_role("link", name="Done").click()
    expect(page.locator("[data-alumni-worklist]")).to_contain_text(world.alumnus.display_name)
    expect(page.locator("[data-alumni-worklist]")).to_contain_text("Reached")

    # 5. Who came to last night's alumni event.
    page.get_by_role("link", name="Alumni events").click()
    page.get_by_role("link", name="Alumni night").click()
    page.get_by_label(f"{world.alumnus.display_name} ({world.alumnus.record_number})").check()
    page.get_by_role("button", name="Save attendance").click()
    expect(page.locator("[data-present]")).to_contain_text(world.alumnus.display_name)
    assert AlumniAttendance.objects.filter(
        event=world.alumni_event, participant=world.alumnus, attended=True
    ).exists()
