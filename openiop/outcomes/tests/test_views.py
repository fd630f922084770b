"""The dashboard, its CSVs and the definitions page: access, audit, filters and bad
input (a form error or a 4xx, never a 500: acceptance 6)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.outcomes.definitions import DEFINITIONS
from openiop.outcomes.report import FIGURES
from openiop.testing import add_outcome_episode, grow_outcomes


@pytest.fixture
def outcome_world(world):
    today = world.program.today()
    grow_outcomes(world.program, world.intake, 4, today - dt.timedelta(days=120))
    add_outcome_episode(
        world.program,
        world.intake,
        last="Stayer",
        admitted=today - dt.timedelta(days=40),
        source="court",
    )
    return world


def test_the_dashboard_shows_every_figure_without_names(login, outcome_world):
    w = outcome_world
    client = login(w.director)
    response = client.get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for title in ("Census over time", "Retention curve", "Admissions and discharges"):
        assert title in html
    for key in FIGURES:
        assert f"{reverse('outcomes:definitions')}#{key}" in html
        assert reverse("outcomes:csv", args=[key]) in html
    assert 'role="img"' in html and "<desc" in html
    assert "Grown0" not in html and "Stayer" not in html  # figures only
    assert reverse("teds:export") in html  # the director may export TEDS
    assert "style=" not in html.split("<main", 1)[-1]  # the CSP allows no inline style
    assert AuditEvent.objects.filter(actor=w.director, object_type="outcomes.dashboard").exists()


def test_the_supervisor_sees_no_teds_link(login, outcome_world):
    response = login(outcome_world.supervisor).get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    assert reverse("teds:export") not in response.content.decode()


def test_filters_by_track_and_source(login, outcome_world):
    w = outcome_world
    client = login(w.director)
    track = w.program.tracks.get(name="Evening")
    response = client.get(reverse("outcomes:dashboard"), {"track": track.pk, "source": "court"})
    assert response.status_code == 200
    assert "Evening track" in response.content.decode()


def test_each_csv_downloads_and_is_audited_as_an_export(login, outcome_world):
    w = outcome_world
    client = login(w.director)
    today = w.program.today()
    for key in FIGURES:
        response = client.get(
            reverse("outcomes:csv", args=[key]),
            {
                "date_from": (today - dt.timedelta(days=200)).isoformat(),
                "date_to": today.isoformat(),
            },
        )
        assert response.status_code == 200, key
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[0][0] == next(d.title for d in DEFINITIONS if d.key == key)
        assert ["By track"] in rows and ["By referral source"] in rows
        event = AuditEvent.objects.filter(actor=w.director).latest("id")
        assert (event.action, event.object_type, event.object_id) == (
            "export",
            "outcomes.figure",
            key,
        )
    census = client.get(reverse("outcomes:csv", args=["retention"]))
    assert b"Still in program" in census.content


def test_the_csv_links_carry_the_page_filters(login, outcome_world):
    w = outcome_world
    client = login(w.director)
    evening = w.program.tracks.get(name="Evening")
    params = {"date_from": "2026-01-01", "date_to": "2026-03-31", "track": evening.pk}
    html = client.get(reverse("outcomes:dashboard"), params).content.decode()
    link = f"{reverse('outcomes:csv', args=['completion'])}?program={w.program.pk}"
    link += f"&amp;date_from=2026-01-01&amp;date_to=2026-03-31&amp;track={evening.pk}&amp;source="
    assert link in html
    response = client.get(link.replace("&amp;", "&"))
    text = response.content.decode()
    assert "From,2026-01-01,To,2026-03-31" in text and "Track,Evening" in text


def test_an_unknown_figure_is_404(login, outcome_world):
    response = login(outcome_world.director).get(reverse("outcomes:csv", args=["nope"]))
    assert response.status_code == 404


BAD = [
    ({"date_from": "garbage"}, "Enter a valid date"),
    ({"date_to": "2026-13-45"}, "Enter a valid date"),
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "is after"),
    ({"date_from": "2010-01-01", "date_to": "2025-01-01"}, "10 years at most"),
    ({"date_from": "0001-01-01", "date_to": "0002-01-01"}, "too far in the past"),
    ({"date_to": "9999-12-31"}, "more than a year ahead"),
    ({"track": "999999"}, "Select a valid choice"),
    ({"track": "abc"}, "Select a valid choice"),
    ({"source": "martians"}, "Select a valid choice"),
    ({"date_from": "2026-01-01\x00"}, "Enter a valid date"),
    ({"date_from": "x" * 100_000}, "Enter a valid date"),
    ({"program": "999999"}, "not one of yours"),
]


@pytest.mark.parametrize(("params", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_filters_give_a_form_error_not_a_500(login, outcome_world, params, message):
    client = login(outcome_world.director)
    response = client.get(reverse("outcomes:dashboard"), params)
    assert response.status_code == 400
    assert message in response.content.decode()
    response = client.get(reverse("outcomes:csv", args=["census"]), params)
    assert response.status_code == 400
    assert message.split("“")[0] in response.content.decode()


def test_a_track_of_another_program_is_refused(login, outcome_world):
    w = outcome_world
    theirs = w.other_program.tracks.first()
    response = login(w.director).get(reverse("outcomes:dashboard"), {"track": theirs.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()


def test_the_other_program_sees_only_its_own_figures(login, outcome_world):
    response = login(outcome_world.outsider).get(reverse("outcomes:dashboard"))
    assert response.status_code == 200
    assert "Other IOP" in response.content.decode()


def test_the_definitions_page_has_an_anchor_per_figure(login, outcome_world):
    response = login(outcome_world.director).get(reverse("outcomes:definitions"))
    html = response.content.decode()
    for d in DEFINITIONS:
        assert f'id="{d.key}"' in html and d.definition.split(" (")[0][:60] in html


def test_the_user_guide_describes_every_figure():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[3] / "docs/user-guide/outcomes.md").read_text()
    for d in DEFINITIONS:
        assert d.title in guide, d.title
        assert d.definition in " ".join(guide.split()), d.key
