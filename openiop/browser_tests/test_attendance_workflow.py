"""Attendance and check-ins in a real browser.

Acceptance (issue 5, point 2): a browser test takes attendance for a 12-person group where
everyone came in at most 3 actions, then marks one late and one absent with the keyboard
alone.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def a_twelve_person_session(world):
    """A past Morning session with no marks yet, and twelve people enrolled on the day."""
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.scheduling.models import Session
    from openiop.testing import make_participant

    program = world.program
    for i in range(11):
        make_participant(
            program,
            world.intake,
            last=f"Groupmember{i:02d}",
            first=["Ana", "Ben", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kai"][i],
            status=S.ACTIVE,
            counsellor=world.counsellor,
            days_ago=40,
        )
    today = program.today()
    return (
        Session.objects.filter(track__name="Morning", track__program=program, date__lt=today)
        .exclude(attendance__isnull=False)
        .order_by("-starts_at")
        .first()
    )


def tab_to(page: Page, element_id: str, limit: int = 250) -> None:
    """Press Tab until the element has focus (keyboard only; reading focus is observing)."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_twelve_present_in_three_actions_then_exceptions_by_keyboard(
    page, live_server, world, sign_in, artifacts
):
    from openiop.attendance.models import Attendance

    session = a_twelve_person_session(world)
    assert session is not None
    sign_in(world.counsellor)
    # The week of the session on the calendar.
    page.goto(
        f"{live_server.url}/schedule/?program={world.program.pk}&date={session.date.isoformat()}"
    )
    expect(page.get_by_role("heading", name="Schedule", level=1)).to_be_visible()
    page.screenshot(path=str(artifacts / "schedule-week.png"), full_page=True)

    # Action 1: open the session from the calendar.
    page.locator(f"a.cal-session[href='/attendance/sessions/{session.pk}/']").click()
    expect(page.locator(".roster-summary")).to_contain_text("12 on the roster")
    expect(page.locator("table.roster tbody tr")).to_have_count(12)
    # Action 2: everyone came.
    page.get_by_role("button", name="Mark everyone present").click()
    expect(page.get_by_role("status")).to_contain_text("12 marked present")
    expect(page.locator(".roster-summary")).to_contain_text("12 marked")
    marks = Attendance.objects.filter(session=session)
    assert marks.count() == 12
    assert set(marks.values_list("status", flat=True)) == {"present"}
    assert set(marks.values_list("minutes_attended", flat=True)) == {session.minutes}

    # Exceptions with the keyboard alone: Ben came 15 minutes late, Jo did not come.
    late = world.program.participants.get(legal_first_name="Ben")
    absent = world.program.participants.get(legal_first_name="Jo")
    late_ep, absent_ep = late.current_episode_id, absent.current_episode_id
    page.locator("body").focus()
    tab_to(page, f"status_{absent_ep}")
    page.keyboard.type("Absent (u")
    tab_to(page, f"status_{late_ep}")
    page.keyboard.type("Late")
    page.keyboard.press("Tab")  # to Ben's minutes
    page.keyboard.type("15")
    page.screenshot(path=str(artifacts / "attendance-roster.png"), full_page=True)
    page.keyboard.press("Enter")  # submits the roster form
    expect(page.get_by_role("status")).to_contain_text("Attendance saved (2 changed)")

    ben = Attendance.objects.get(session=session, episode_id=late_ep)
    assert (ben.status, ben.minutes_missed, ben.minutes_attended) == (
        "late",
        15,
        session.minutes - 15,
    )
    jo = Attendance.objects.get(session=session, episode_id=absent_ep)
    assert (jo.status, jo.minutes_attended) == ("absent_unexcused", 0)
    assert Attendance.objects.filter(session=session, status="present").count() == 10
    expect(page.locator(f"#status_{late_ep}")).to_have_value("late")
    expect(page.locator(f"#status_{absent_ep}")).to_have_value("absent_unexcused")


def test_a_check_in_in_group_alerts_the_counsellor_and_shows_on_the_chart(
    page, live_server, world, sign_in, artifacts
):
    from openiop.attendance.models import CheckIn, EngagementAlert

    sign_in(world.counsellor)
    page.goto(f"{live_server.url}/attendance/sessions/{world.session.pk}/")
    page.get_by_role("row", name=world.active.display_name).get_by_role(
        "link", name="Check-in"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Daily check-in")
    page.locator("fieldset", has_text="Mood today").get_by_text("4", exact=True).click()
    page.locator("fieldset", has_text="Craving").get_by_text("8", exact=True).click()
    page.locator("fieldset", has_text="Any use").get_by_text("No", exact=True).click()
    page.locator("fieldset", has_text="Stress").get_by_text("6", exact=True).click()
    page.get_by_label("Hours slept last night").fill("5.5")
    page.screenshot(path=str(artifacts / "check-in.png"), full_page=True)
    page.get_by_role("button", name="Save check-in").click()
    expect(page.get_by_role("status")).to_contain_text("The counsellor has been alerted")
    latest = CheckIn.objects.filter(participant=world.active).latest("at")
    assert (latest.mood, latest.craving, latest.used) == (4, 8, False)
    assert latest.day == world.session.date
    assert EngagementAlert.objects.filter(kind="high_craving", episode=latest.episode).exists()

    page.goto(f"{live_server.url}/")
    expect(page.locator(".panel-engagement_alerts")).to_contain_text("Craving 8/10")
    page.goto(f"{live_server.url}/participants/{world.active.pk}/")
    expect(page.locator("#section-attendance")).to_contain_text("Check-ins")
    page.locator("#section-attendance").screenshot(path=str(artifacts / "chart-attendance.png"))
    expect(page.locator("#section-attendance svg")).to_have_count(3)
