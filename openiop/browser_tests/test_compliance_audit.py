"""The compliance audit screen in a real browser (issue 8, point 6; ONC 170.315(d)(2),
(d)(3)): the compliance officer filters the log by a participant's record number and a
date range, reads an event's details, downloads the filtered events as CSV, and verifies
the hash chain. The screenshot for the user guide goes to docs/img/audit-log.png.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def _history(world):
    """Work on three days of March 2021, written through the services' audit call as it
    happened (time travel puts it on those days): two participants, three users."""
    import time_machine
    from django.conf import settings

    from openiop.core import audit
    from openiop.core.context import request_context

    zone = ZoneInfo(settings.TIME_ZONE)
    entries: list[tuple[int, int, Any, Any, str, dict[str, Any], str]] = [
        (1, 9, world.counsellor, world.active, "view", {}, ""),
        (1, 10, world.counsellor, world.active, "change", {"phone": ["555-0100", "555-0199"]}, ""),
        (2, 14, world.supervisor, world.active, "sign", {"version": 2}, "Plan review"),
        (2, 15, world.lab, world.referred, "view", {}, ""),
        (3, 11, world.director, world.active, "change", {"track": ["Morning", "Evening"]}, ""),
    ]
    for day, hour, actor, obj, action, changes, reason in entries:
        when = dt.datetime(2021, 3, day, hour, tzinfo=zone)
        with (
            time_machine.travel(when, tick=False),
            request_context(client_ip="10.20.0.5", path=f"/participants/{obj.pk}/", source="web"),
        ):
            audit.record(action, actor=actor, obj=obj, changes=changes, reason=reason)


def test_compliance_filters_exports_and_verifies_the_log(
    page, live_server, world, sign_in, artifacts
):
    _history(world)
    record_number = world.active.record_number

    sign_in(world.compliance)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")

    # Filter: the participant's record number (posted, never in the address) and 1–2 March.
    page.get_by_label("Participant record no.").fill(record_number)
    page.get_by_label("From", exact=True).fill("2021-03-01")
    page.get_by_label("To", exact=True).fill("2021-03-02")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(rf"participant={world.active.pk}\b"))
    assert record_number not in page.url
    expect(page.get_by_label("Participant record no.")).to_have_value(record_number)
    rows = page.locator("table.audit-table tbody tr")
    expect(rows).to_have_count(3)  # not the 3 March change, not the other participant
    expect(rows.first).to_contain_text("supervisor")
    expect(rows.first).to_contain_text("Plan review")
    expect(rows.last).to_contain_text("2021-03-01 09:00:00")

    # Sort by user (a column header), then read the details of the phone change.
    page.get_by_role("link", name="Who").click()
    expect(page.locator("th[aria-sort=ascending]")).to_contain_text("Who")
    change = rows.filter(has_text="Changed")
    change.get_by_text("Details").click()
    expect(change.locator(".audit-details")).to_contain_text('"555-0100" → "555-0199"')
    expect(change.locator(".audit-details")).to_contain_text("10.20.0.5")

    # Export what is shown.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert re.fullmatch(r"audit-log-\d{8}-\d{4}\.csv", download.suggested_filename)
    saved = artifacts / "audit-log-export.csv"
    download.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert [r["user"] for r in exported] == ["counsellor", "counsellor", "supervisor"]
    assert {r["participant_record_number"] for r in exported} == {record_number}
    assert exported[1]["changes"] == '{"phone": ["555-0100", "555-0199"]}'

    # Verify the chain: OK, and back on the same filtered page.
    page.get_by_role("button", name="Verify the audit chain").click()
    expect(page.locator(".messages .success")).to_contain_text("every link intact")
    expect(page).to_have_url(re.compile(rf"participant={world.active.pk}\b"))
    expect(page.locator(".audit-chain")).to_contain_text("intact")
    expect(rows).to_have_count(3)
    rows.filter(has_text="Changed").get_by_text("Details").click()
    page.screenshot(path=str(artifacts / "audit-log.png"), full_page=True)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS_IMG / "audit-log.png"))

    # The export and the verification are in the log themselves.
    page.goto(f"{live_server.url}/audit/?user=compliance&date_from=2021-01-01")
    expect(page.locator("table.audit-table")).to_contain_text("Exported")
    page.get_by_role("link", name="Past verifications").click()
    expect(page.locator("table.data")).to_contain_text("intact")
