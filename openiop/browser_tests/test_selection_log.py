"""The random-selection log in a real browser (issue 7, point 3 and acceptance 2): the lab
user opens the log, verifies a past day (OK), and a day whose seed was changed in the
database afterwards fails. Today's row shows only the hash and the pool size. The
screenshot for the user guide goes to docs/img/screening-selection-log.png.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def _draws(world):
    """Four more participants on the Morning track, and the draws of the program days of
    the last two weeks and today (fixed seeds, as the demo uses)."""
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.scheduling.models import Session
    from openiop.screening import selection, services
    from openiop.screening.models import ScreeningPolicy
    from openiop.testing import ensure_screening_library, make_participant

    ensure_screening_library()
    program = world.program
    for first, last in [("Sam", "Rivera"), ("Jordan", "Lee"), ("Alex", "Moreau"), ("Kim", "Ng")]:
        make_participant(program, world.intake, last=last, first=first, status=S.ACTIVE)
    policy = services.policy_for(program)
    ScreeningPolicy.objects.filter(pk=policy.pk).update(
        random_rate=Decimal("1.50"), draw_days_per_week=3
    )
    today = program.today()
    days = sorted(
        set(
            Session.objects.filter(program=program, date__lt=today, kind="group").values_list(
                "date", flat=True
            )
        )
    )
    rows = [
        selection.draw_day(program, day, seed=hashlib.sha256(f"log|{day}".encode()).digest())
        for day in [*days, today]
    ]
    selection.reveal_past(program, today)
    return rows[:-1], rows[-1]


def test_the_lab_verifies_past_draws_and_a_tampered_one_fails(
    page, live_server, world, sign_in, artifacts
):
    from openiop.screening.models import SelectionDay

    past, today = _draws(world)
    good, tampered = past[-1], past[-2]

    sign_in(world.lab)
    page.goto(f"{live_server.url}/screening/today/")
    page.get_by_role("link", name="Selection log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Random selection log")

    # Today: the hash and the pool size, no seed and no count of who was picked.
    row = page.locator(f"#day-{today.day.isoformat()}")
    expect(row).to_contain_text(today.seed_hash)
    expect(row).to_contain_text("secret until the day is over")
    expect(row.get_by_role("button", name="Verify")).to_have_count(0)
    expect(row.locator("td").nth(0)).to_have_text(str(len(today.eligible)))
    assert today.seed not in page.content()

    # A past day: its seed is revealed, and it verifies.
    row = page.locator(f"#day-{good.day.isoformat()}")
    expect(row.locator("[data-seed]")).to_have_text(good.seed)
    row.get_by_role("button", name="Verify").click()
    expect(page.locator(".messages .success")).to_contain_text("OK. Verified")
    page.screenshot(path=str(artifacts / "selection-log.png"), full_page=True)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "screening-selection-log.png"))

    # A day whose seed was changed in the database afterwards fails, and says why.
    SelectionDay.objects.filter(pk=tampered.pk).update(seed="00" * 32)
    page.locator(f"#day-{tampered.day.isoformat()}").get_by_role("button", name="Verify").click()
    expect(page.locator(".messages .error")).to_contain_text("FAILED. Tampered seed")
    page.screenshot(path=str(artifacts / "selection-log-failed.png"), full_page=True)

    # Typing a day on the verify page: today is refused until it is over.
    page.goto(f"{live_server.url}/screening/selection/verify/")
    page.get_by_label("Program day").fill(today.day.isoformat())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert")).to_contain_text("not over")
