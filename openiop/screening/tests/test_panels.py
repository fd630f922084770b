"""Panel set-up: directors change panels, cut-offs and analytes; others with screening.view
read. Permissions, bad input (400 with the message), refused states (409), audit, and the
panel page's pinned query count."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.screening import panel_services, services
from openiop.screening.models import Analyte, Panel, PanelAnalyte
from openiop.testing import add_screening_review, ensure_screening_library

CUP = "12-panel urine cup"


@pytest.fixture
def lib(world):
    ensure_screening_library()
    return world


def cup() -> Panel:
    return Panel.objects.get(name=CUP)


def line_of(panel: Panel, code: str) -> PanelAnalyte:
    return PanelAnalyte.objects.get(panel=panel, analyte__code=code)


def panel_url(panel: Panel) -> str:
    return reverse("screening:panel", kwargs={"pk": panel.pk})


def line_post(line: PanelAnalyte, **changes):
    return {
        "action": "line",
        "line": str(line.pk),
        "cutoff": "20",
        "unit": "ng/mL",
        "confirm_cutoff": "15",
        **changes,
    }


def new_panel(name: str = "Oral fluid 10-panel", **changes) -> dict[str, str]:
    return {
        "name": name,
        "specimen_type": "oral_fluid",
        "method": "cup",
        "cpt_code": "80305",
        "device": "Acme OralTox",
        "description": "",
        **changes,
    }


# --- who may do what ------------------------------------------------------------------------


def test_the_director_changes_a_cut_off_and_it_is_audited(lib, login):
    w = lib
    thc = line_of(cup(), "THC")
    client = login(w.director)
    page = client.get(panel_url(cup()))
    assert page.status_code == 200
    assert page.context["can_edit"]
    response = client.post(panel_url(cup()), line_post(thc))
    assert response.status_code == 302
    thc.refresh_from_db()
    assert (thc.cutoff, thc.confirm_cutoff) == (Decimal("20"), Decimal("15"))
    event = AuditEvent.objects.filter(actor=w.director, action="change").latest("pk")
    assert event.object_type == "screening.panel"
    assert event.object_id == str(cup().pk)
    assert event.changes["THC cutoff"] == ["50.000", "20"]


def test_the_counsellor_reads_but_cannot_change(lib, login):
    w = lib
    thc = line_of(cup(), "THC")
    client = login(w.counsellor)
    for url in (reverse("screening:panels"), panel_url(cup()), reverse("screening:analytes")):
        page = client.get(url)
        assert page.status_code == 200
        assert not page.context["can_edit"]
    page = client.get(panel_url(cup()))
    assert all(row["form"] is None for row in page.context["rows"])
    assert "Read only" in page.content.decode()
    assert client.post(panel_url(cup()), line_post(thc)).status_code == 403
    assert client.post(reverse("screening:panels"), new_panel()).status_code == 403
    analyte = {"code": "KRA", "name": "Kratom", "substance": "other", "loinc": ""}
    assert client.post(reverse("screening:analytes"), analyte).status_code == 403
    thc.refresh_from_db()
    assert thc.cutoff == Decimal("50")
    assert not Panel.objects.filter(name="Oral fluid 10-panel").exists()


def test_the_lab_reads_and_billing_is_refused(lib, login):
    w = lib
    assert login(w.lab).get(panel_url(cup())).status_code == 200
    assert login(w.lab).get(reverse("screening:panels")).status_code == 200
    for url in (reverse("screening:panels"), panel_url(cup()), reverse("screening:analytes")):
        assert login(w.billing).get(url).status_code == 403


def test_the_list_shows_every_panel_with_its_analyte_count(lib, login):
    services.policy_for(lib.program)
    page = login(lib.director).get(reverse("screening:panels"))
    counts = {p.name: p.line_count for p in page.context["panels"]}
    assert counts[CUP] == 12
    assert counts["Breath alcohol"] == 1
    assert cup().pk in page.context["in_policy"]


# --- changes --------------------------------------------------------------------------------


def test_the_director_adds_a_panel_with_an_analyte_and_an_analyte(lib, login):
    w = lib
    client = login(w.director)
    response = client.post(reverse("screening:panels"), new_panel())
    assert response.status_code == 302
    panel = Panel.objects.get(name="Oral fluid 10-panel")
    assert response["Location"] == panel_url(panel)
    assert AuditEvent.objects.filter(action="create", object_type="screening.panel").exists()
    response = client.post(
        reverse("screening:analytes"),
        {"code": "kra", "name": "Kratom (mitragynine)", "substance": "other", "loinc": ""},
    )
    assert response.status_code == 302
    kratom = Analyte.objects.get(code="KRA")  # upper-cased
    add = {"action": "add", "analyte": str(kratom.pk), "cutoff": "5", "unit": "ng/mL"}
    assert client.post(panel_url(panel), {**add, "confirm_cutoff": ""}).status_code == 302
    line = line_of(panel, "KRA")
    assert (line.cutoff, line.confirm_cutoff, line.position) == (Decimal("5"), None, 1)
    # The analyte is no longer offered for this panel.
    page = client.get(panel_url(panel))
    assert kratom not in page.context["add_form"].fields["analyte"].queryset
    # Adding it again is a form error.
    again = client.post(panel_url(panel), {**add, "confirm_cutoff": ""})
    assert again.status_code == 400
    # Changing the details.
    details = {"action": "details", **new_panel("Oral fluid 11-panel", device="Acme 2")}
    assert client.post(panel_url(panel), details).status_code == 302
    panel.refresh_from_db()
    assert (panel.name, panel.device) == ("Oral fluid 11-panel", "Acme 2")
    # Removing the line: no results were read against it.
    remove = {"action": "remove", "line": str(line.pk)}
    assert client.post(panel_url(panel), remove).status_code == 302
    assert not PanelAnalyte.objects.filter(pk=line.pk).exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cutoff", "0", "above 0 and below 1,000,000"),
        ("cutoff", "-5", "above 0 and below 1,000,000"),
        ("cutoff", "fifty", "Enter a number"),
        ("cutoff", "1000000", "above 0 and below 1,000,000"),
        ("cutoff", "99999999999", "Ensure that there are no more than"),
        ("cutoff", "NaN", "Enter a number"),
        ("cutoff", "", "This field is required"),
        ("confirm_cutoff", "0", "definitive cut-off must be above 0"),
        ("confirm_cutoff", "-1", "definitive cut-off must be above 0"),
        ("unit", "", "This field is required"),
        ("unit", "u" * 21, "at most 20 characters"),
    ],
)
def test_bad_cut_offs_answer_400_with_the_message(lib, login, field, value, message):
    thc = line_of(cup(), "THC")
    response = login(lib.director).post(panel_url(cup()), line_post(thc, **{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["form"].errors
    thc.refresh_from_db()
    assert thc.cutoff == Decimal("50")


@pytest.mark.parametrize(
    ("cutoff", "message"),
    [("0", "above 0"), ("-1", "above 0"), ("2000000", "below 1,000,000"), ("x", "a number")],
)
def test_the_services_refuse_bad_cut_offs(lib, cutoff, message):
    with pytest.raises(services.ScreeningInputError, match=message):
        panel_services.update_line(
            line_of(cup(), "THC"),
            actor=lib.director,
            cutoff=cutoff,
            unit="ng/mL",
            confirm_cutoff=None,
        )


def test_a_duplicate_panel_name_or_analyte_code_is_a_form_error(lib, login):
    client = login(lib.director)
    response = client.post(reverse("screening:panels"), new_panel("breath ALCOHOL"))
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    # Renaming a panel to another's name.
    details = {"action": "details", **new_panel(CUP)}
    response = client.post(panel_url(Panel.objects.get(name="Breath alcohol")), details)
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    analyte = {"code": "thc", "name": "THC again", "substance": "cannabis", "loinc": ""}
    response = client.post(reverse("screening:analytes"), analyte)
    assert response.status_code == 400
    assert "An analyte with the code THC already exists" in response.content.decode()
    for bad in ("TH C", "THC-1", "Ä"):
        response = client.post(reverse("screening:analytes"), {**analyte, "code": bad})
        assert response.status_code == 400, bad
    assert Analyte.objects.filter(code="THC").count() == 1


# --- refused states -------------------------------------------------------------------------


def test_retiring_the_policy_panel_is_refused_and_another_can_be_retired(lib, login):
    services.policy_for(lib.program)  # its random panel is the 12-panel cup
    client = login(lib.director)
    response = client.post(panel_url(cup()), {"action": "retire"})
    assert response.status_code == 409
    assert "screening policy" in response.content.decode()
    assert not cup().retired
    breath = Panel.objects.get(name="Breath alcohol")
    assert client.post(panel_url(breath), {"action": "retire"}).status_code == 302
    breath.refresh_from_db()
    assert breath.retired and breath.retired_at
    assert client.post(panel_url(breath), {"action": "retire"}).status_code == 409
    assert client.post(panel_url(breath), {"action": "unretire"}).status_code == 302
    breath.refresh_from_db()
    assert not breath.retired


def test_removing_a_line_with_results_is_refused(lib, login):
    add_screening_review(lib)  # THC, BUP and COC results on a 12-panel cup
    client = login(lib.director)
    thc = line_of(cup(), "THC")
    page = client.get(panel_url(cup()))
    removable = {row["line"].analyte.code: row["removable"] for row in page.context["rows"]}
    assert not removable["THC"] and removable["AMP"]
    response = client.post(panel_url(cup()), {"action": "remove", "line": str(thc.pk)})
    assert response.status_code == 409
    assert "results were recorded" in response.content.decode()
    assert PanelAnalyte.objects.filter(pk=thc.pk).exists()
    # A line of another panel is not found through this one.
    etoh = line_of(Panel.objects.get(name="Breath alcohol"), "ETOH")
    response = client.post(panel_url(cup()), {"action": "remove", "line": str(etoh.pk)})
    assert response.status_code == 404


def test_a_retired_panel_cannot_be_ordered(lib):
    w = lib
    breath = Panel.objects.get(name="Breath alcohol")
    panel_services.retire_panel(breath, actor=w.director)
    with pytest.raises(services.ScreeningInputError, match="in use"):
        services.order_test(
            w.active.current_episode,
            actor=w.lab,
            day=w.program.today(),
            reason="for_cause",
            panel=Panel.objects.get(pk=breath.pk),
            reason_detail="Smelled of alcohol.",
        )


# --- query count ----------------------------------------------------------------------------

# screening:panel for a director
#   1-3. session, user, roles
#   4. the panel
#   5. its lines with their analytes
#   6. analytes with results on specimens of this panel (removable lines)
#   7. programs whose policy uses the panel
#   8-9. banner: the user's programs, their open safety alerts
#  10-11. analytes not on the panel (whether any are left, then the choices)
#  12-14. audit: the view event (lock the chain head, INSERT the event, move the head)
PANEL_QUERIES = 14


def _panel_with(n: int) -> Panel:
    panel = Panel.objects.create(name=f"Panel of {n}", specimen_type="urine", method="lab")
    for analyte in Analyte.objects.order_by("code")[:n]:
        PanelAnalyte.objects.create(panel=panel, analyte=analyte, cutoff=Decimal("10"))
    return panel


def test_the_panel_page_runs_a_fixed_number_of_queries(lib, login, django_assert_num_queries):
    client = login(lib.director)
    client.get(reverse("screening:panels"))  # warm the session
    for n in (3, 12):
        url = panel_url(_panel_with(n))
        with django_assert_num_queries(PANEL_QUERIES):
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["rows"]) == n


def test_changing_a_cut_off_leaves_recorded_results_as_they_were(lib):
    from openiop.screening.models import Result

    add_screening_review(lib)
    result = Result.objects.get(analyte__code="THC")
    before = result.cutoff
    panel_services.update_line(
        line_of(cup(), "THC"), actor=lib.director, cutoff="20", unit="ng/mL", confirm_cutoff=""
    )
    result.refresh_from_db()
    assert result.cutoff == before
