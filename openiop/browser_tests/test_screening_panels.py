"""Panel set-up in a real browser (issue 7, point 1): the director changes a cut-off in the
line's table row (its inputs belong to the row's form through the HTML `form` attribute),
adds an analyte, and is refused when retiring the policy's panel.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def test_the_director_changes_a_cut_off_and_adds_an_analyte(
    page, live_server, world, sign_in, artifacts
):
    from openiop.screening import services
    from openiop.screening.models import Panel, PanelAnalyte
    from openiop.testing import ensure_screening_library

    ensure_screening_library()
    services.policy_for(world.program)
    sign_in(world.director)
    page.goto(live_server.url + "/screening/policy/")
    page.get_by_role("link", name="Panels and cut-offs").click()
    page.get_by_role("link", name="12-panel urine cup").click()
    expect(page.get_by_role("heading", name="Panel: 12-panel urine cup")).to_be_visible()
    page.get_by_label("Cut-off of THC", exact=True).fill("20")
    page.get_by_label("Definitive cut-off of THC").fill("15")
    thc = PanelAnalyte.objects.get(panel__name="12-panel urine cup", analyte__code="THC")
    amp = PanelAnalyte.objects.get(panel__name="12-panel urine cup", analyte__code="AMP")
    page.locator(f"#line-row-{thc.pk}").get_by_role("button", name="Save").click()
    expect(page.get_by_text("The cut-off of THC is saved.")).to_be_visible()
    thc.refresh_from_db()
    assert (thc.cutoff, thc.confirm_cutoff) == (Decimal("20"), Decimal("15"))
    # A bad cut-off is explained in its row.
    page.get_by_label("Cut-off of AMP", exact=True).fill("0")
    page.locator(f"#line-row-{amp.pk}").get_by_role("button", name="Save").click()
    expect(page.get_by_text("The cut-off must be above 0 and below 1,000,000.")).to_be_visible()
    page.screenshot(path=str(artifacts / "screening-panel-bad-cutoff.png"), full_page=True)
    # Retiring the policy's panel is refused with the reason.
    page.get_by_role("button", name="Retire the panel").click()
    expect(page.locator(".notice.error")).to_contain_text("screening policy")
    # Adding an analyte to breath alcohol.
    page.goto(live_server.url + "/screening/panels/")
    page.get_by_role("link", name="Breath alcohol").click()
    page.locator("#add_analyte").select_option(label="Ethyl glucuronide (EtG) (ETG)")
    page.locator("#add_cutoff").fill("500")
    page.get_by_role("button", name="Add to the panel").click()
    expect(page.get_by_text("ETG is added to the panel.")).to_be_visible()
    assert PanelAnalyte.objects.filter(panel__name="Breath alcohol", analyte__code="ETG").exists()
    assert not Panel.objects.get(name="12-panel urine cup").retired
    page.screenshot(path=str(artifacts / "screening-panel.png"), full_page=True)
