"""Importing a lab's HL7 results in a real browser (issue 7, point 6): the lab user uploads
an ORU^R01 file, sees the preview (an expected buprenorphine positive, an unexpected THC
positive), imports it, and the results are recorded. The Import button posts the previewed
text back from a hidden field, so the HL7 segment breaks survive the browser's own
line-break handling. A screenshot of the preview goes to docs/img/ for the user guide.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "screening"
    / "tests"
    / "samples"
    / "oru_r01_two_specimens.hl7"
)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def _specimens(world) -> None:
    """HL7-2001 from Sam Rivera (on buprenorphine) and HL7-2002 from Jordan Lee, collected
    on Jan 5, 2026, as the sample file's results expect."""
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.screening import services
    from openiop.screening.models import Analyte
    from openiop.testing import ensure_screening_library, make_participant

    ensure_screening_library()
    at = dt.datetime(2026, 1, 5, 9, tzinfo=zoneinfo.ZoneInfo(world.program.time_zone))
    for specimen_id, first, last in (("HL7-2001", "Sam", "Rivera"), ("HL7-2002", "Jordan", "Lee")):
        person = make_participant(
            world.program,
            world.intake,
            first=first,
            last=last,
            status=S.ACTIVE,
            counsellor=world.counsellor,
        )
        if specimen_id == "HL7-2001":
            services.add_expected_medication(
                person,
                actor=world.counsellor,
                name="Suboxone",
                analytes=list(Analyte.objects.filter(code__in=["BUP", "NORBUP"])),
                start_date=dt.date(2025, 12, 1),
            )
        order = services.order_test(
            person.current_episode,
            actor=world.counsellor,
            day=at.date(),
            reason="for_cause",
            reason_detail="Lab confirmation",
        )
        services.record_collection(
            order,
            services.CollectionInput(specimen_id=specimen_id, collected_at=at),
            actor=world.lab,
        )


def test_the_lab_imports_an_hl7_file(page, live_server, world, sign_in, artifacts):
    from openiop.screening.models import Result, Review

    _specimens(world)
    sign_in(world.lab)
    page.goto(live_server.url + reverse("screening:import"))
    page.get_by_label("Results file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_role("heading", name="Ready to import")).to_be_visible()
    expect(page.get_by_text("Expected — suboxone")).to_be_visible()
    expect(page.get_by_text("Unexpected positive: opens a review")).to_be_visible()
    expect(page.get_by_text("not a drug result; not imported")).to_be_visible()
    page.screenshot(path=str(artifacts / "screening-import-preview.png"), full_page=True)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "screening-import-preview.png"), full_page=True)
    assert not Result.objects.exists()

    page.get_by_role("button", name="Import 7 results").click()

    expect(page.get_by_text("Imported 7 results for 2 specimens")).to_be_visible()
    page.screenshot(path=str(artifacts / "screening-import-done.png"))
    assert Result.objects.filter(source="hl7").count() == 7
    assert Review.objects.filter(detail="THC").count() == 1

    # The same file again: every line is listed as already recorded, and no Import button.
    page.get_by_label("Results file").set_input_files(str(SAMPLE))
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Nothing can be imported yet")).to_be_visible()
    expect(page.locator("table.import-problems tbody tr")).to_have_count(7)
    expect(page.get_by_role("button", name="Import 7 results")).to_have_count(0)
    page.screenshot(path=str(artifacts / "screening-import-problems.png"), full_page=True)
    assert Result.objects.count() == 7
