"""The TEDS export page and its files (`teds:export`, `teds:download`): who may export,
the user's programs only, counts and every record with a problem, CSV of valid records
only, the export audited with its period and counts, bad input answered with a reason,
and a number of queries that does not grow with the number of episodes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from openiop.core.models import AuditEvent
from openiop.discharge.models import Discharge
from openiop.intake.teds_services import record_teds_items
from openiop.outcomes import teds
from openiop.participants.choices import EpisodeStatus as S
from openiop.testing import TEDS_ITEMS, World, add_teds_items, make_participant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _provider(settings):
    settings.OPENIOP_TEDS_STATE = "ME"
    settings.OPENIOP_TEDS_PROVIDER_ID = "ME-IOP-0042"


def period(world: World, back: int = 60) -> dict[str, str]:
    today = world.program.today()
    return {
        "date_from": (today - dt.timedelta(days=back)).isoformat(),
        "date_to": today.isoformat(),
    }


def export_url() -> str:
    return reverse("teds:export")


def download_url(kind: str) -> str:
    return reverse("teds:download", kwargs={"kind": kind})


def teds_discharge(world: World, last: str, **changes: Any) -> Any:
    """A participant admitted and discharged as completed, with a Discharge record and
    complete TEDS items (made directly: the discharge service is another area's)."""
    participant = make_participant(
        world.program, world.intake, last=last, status=S.DISCHARGED, counsellor=world.counsellor
    )
    episode = participant.current_episode
    record_teds_items(episode, actor=world.intake, values=TEDS_ITEMS, expected_version=0)
    values: dict[str, Any] = {
        "reason": "completed",
        "discharge_date": episode.discharge_date,
        "last_contact_date": episode.discharge_date,
        "level_at_discharge": "3:2.1",
        "sub1_d": 2,
        "freq1_d": 1,
        "employ_d": 1,
        "livarag_d": 3,
        "arrests_d": 0,
        "self_help_d": 3,
        **changes,
    }
    Discharge.objects.create(
        episode=episode, participant=participant, program=world.program, **values
    )
    return participant


@pytest.fixture
def reporting(world: World) -> World:
    """world.active: complete items (valid); world.teds_gap: admitted, no items (a problem);
    world.teds_done: discharged with a complete Discharge (valid both ways);
    world.teds_closed: closed as discharged without a Discharge (REASON missing)."""
    add_teds_items(world)
    world.participants["teds_gap"] = make_participant(
        world.program, world.intake, last="Gap", status=S.ACTIVE, counsellor=world.counsellor
    )
    world.participants["teds_done"] = teds_discharge(world, "Done")
    world.participants["teds_closed"] = make_participant(
        world.program, world.intake, last="Closed", status=S.DISCHARGED
    )
    return world


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["compliance", "director"])
def test_compliance_and_the_director_export(login, world, persona):
    response = login(world.users[persona]).get(export_url())
    assert response.status_code == 200
    assert b"42 CFR Part 2" in response.content and b"counsel" in response.content


@pytest.mark.parametrize("persona", ["counsellor", "intake", "supervisor", "billing", "lab"])
def test_others_may_not_export(login, world, persona):
    client = login(world.users[persona])
    assert client.get(export_url()).status_code == 403
    assert client.get(download_url("admissions")).status_code == 403


def test_the_nav_leads_compliance_to_state_reporting(login, world):
    page = login(world.compliance).get(reverse("core:today")).content.decode()
    assert f'href="{export_url()}"' in page and "State reporting" in page


def test_only_state_reporting_is_the_current_menu_item_on_its_page(login, world):
    """Outcomes (/outcomes/) and State reporting (/outcomes/teds/) share a section: the
    director on the export page sees only State reporting marked as the current page."""
    page = login(world.director).get(export_url()).context
    current = [item["label"] for item in page["nav_items"] if item["active"]]
    assert current == ["State reporting"]
    page = login(world.director).get(reverse("outcomes:dashboard")).context
    assert [item["label"] for item in page["nav_items"] if item["active"]] == ["Outcomes"]


def test_each_user_sees_the_records_of_their_programs(login, reporting):
    w = reporting
    record_teds_items(
        w.foreign.current_episode, actor=w.outsider, values=TEDS_ITEMS, expected_version=0
    )
    mine = login(w.compliance).get(export_url(), period(w)).context
    admitted = {r.participant.pk for r in _records(mine, "admissions")}
    assert w.active.pk in admitted and w.foreign.pk not in admitted
    theirs = login(w.outsider).get(export_url(), period(w)).context
    admitted = {r.participant.pk for r in _records(theirs, "admissions")}
    assert admitted == {w.foreign.pk}


def _records(context: Any, kind: str) -> list[Any]:
    """Every record of `kind` the page counted, through a fresh load (the page lists only
    those with problems)."""
    k = next(k for k in context["kinds"] if k["kind"] == kind)
    assert k["counts"]["records"] >= len(k["problems"])
    user = context["request"].user
    return teds_records(user, context["start"], context["end"])[kind]


def teds_records(user: Any, start: dt.date, end: dt.date) -> dict[str, list[Any]]:
    from openiop.outcomes.teds_views import load_records

    return load_records(user, start, end, teds.provider_from_settings())


# --- the page ---------------------------------------------------------------------------------


def test_the_page_counts_and_lists_every_record_with_a_problem(login, reporting):
    w = reporting
    response = login(w.compliance).get(export_url(), period(w))
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.context["kinds"]}
    admissions, discharges = kinds["admissions"], kinds["discharges"]
    problem_people = {r.participant.pk for r in admissions["problems"]}
    assert w.teds_gap.pk in problem_people
    assert w.active.pk not in problem_people and w.teds_done.pk not in problem_people
    assert admissions["counts"]["with_problems"] == len(admissions["problems"])
    assert {r.participant.pk for r in discharges["problems"]} >= {w.teds_closed.pk}
    assert w.teds_done.pk not in {r.participant.pk for r in discharges["problems"]}
    text = response.content.decode()
    assert w.teds_gap.record_number in text and w.teds_gap.display_name in text
    assert "REASON" in text and "the reason is not recorded" in text
    assert "GENDER" in text and "not recorded" in text
    # Compliance cannot open the items (no clinical.view or intake.view): no link to them.
    assert reverse("teds_items:edit", kwargs={"pk": w.teds_gap.pk}) not in text


def test_the_director_gets_a_link_to_fix_the_items(login, reporting):
    w = reporting
    text = login(w.director).get(export_url(), period(w)).content.decode()
    link = reverse("teds_items:edit", kwargs={"pk": w.teds_gap.pk})
    assert f"{link}?episode={w.teds_gap.current_episode_id}" in text


def test_the_default_period_is_last_month(login, world):
    response = login(world.compliance).get(export_url())
    start, end = response.context["start"], response.context["end"]
    assert start.day == 1 and (end + dt.timedelta(days=1)).day == 1
    assert end < world.program.today().replace(day=1)


def test_an_unset_state_is_shown_and_no_file_is_written(login, world, settings):
    settings.OPENIOP_TEDS_STATE = ""
    client = login(world.compliance)
    page = client.get(export_url()).content.decode()
    assert "Not set up for reporting yet" in page and "OPENIOP_TEDS_STATE" in page
    response = client.get(download_url("admissions"))
    assert response.status_code == 409
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ({"date_from": "not-a-date", "date_to": "2026-01-31"}, "Enter a valid date"),
        ({"date_from": "2026-02-30", "date_to": "2026-03-01"}, "Enter a valid date"),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "ends before it starts"),
        ({"date_from": "2020-01-01", "date_to": "2026-01-01"}, "at most two years"),
        ({"date_from": "0001-01-01", "date_to": "0001-01-02"}, "between 1970 and 2999"),
        ({"date_from": "99999-01-01", "date_to": "2026-01-01"}, "Enter a valid date"),
        ({"date_from": "2026-01-01"}, "This field is required"),
        ({"date_from": ["2026-01-01", "x\x00"], "date_to": "2026-02-01"}, "valid date"),
        ({"date_to": "x" * 10_000}, "required"),
    ],
)
def test_a_bad_period_is_a_form_error_never_a_500(login, world, query, error):
    client = login(world.compliance)
    for url in (export_url(), download_url("admissions"), download_url("discharges")):
        response = client.get(url, query)
        assert response.status_code == 400, url
        assert error in response.content.decode()
    assert not AuditEvent.objects.filter(action="export").exists()


@pytest.mark.parametrize("kind", ["patients", "admissions.csv", "ADMISSIONS", "%00"])
def test_an_unknown_file_is_not_found(login, world, kind):
    response = login(world.compliance).get(f"/outcomes/teds/{kind}.csv")
    assert response.status_code == 404


# --- the files --------------------------------------------------------------------------------


def test_the_admissions_file_holds_valid_records_only_and_is_audited(login, reporting):
    w = reporting
    response = login(w.compliance).get(download_url("admissions"), period(w))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    lines = response.content.decode().split("\r\n")
    assert lines[0] == ",".join(teds.ADMISSION_COLUMNS)
    rows = [line.split(",") for line in lines[1:] if line]
    key = teds.provider_from_settings().client_key
    ids = {row[2] for row in rows}
    assert teds.client_id(w.active.record_number, key) in ids
    assert teds.client_id(w.teds_done.record_number, key) in ids
    assert teds.client_id(w.teds_gap.record_number, key) not in ids  # left out
    assert all(row[0] == "23" and row[1] == "ME-IOP-0042" for row in rows)
    # No name or record number reaches the file.
    text = response.content.decode()
    assert w.active.record_number not in text and w.active.legal_last_name not in text
    event = AuditEvent.objects.filter(action="export", object_type="outcomes.teds").get()
    assert event.actor_id == w.compliance.pk and event.object_id == "admissions"
    counts = teds_records(w.compliance, *_dates(period(w)))["admissions"]
    valid = sum(1 for r in counts if r.valid)
    assert event.changes["period"] == [period(w)["date_from"], period(w)["date_to"]]
    assert event.changes["records"] == len(counts)
    assert event.changes["written"] == valid == len(rows)
    assert event.changes["left_out"] == len(counts) - valid >= 1
    assert response["X-Records-Left-Out"] == str(len(counts) - valid)


def test_the_discharges_file_holds_the_complete_discharge(login, reporting):
    w = reporting
    response = login(w.director).get(download_url("discharges"), period(w))
    lines = response.content.decode().split("\r\n")
    assert lines[0] == ",".join(teds.DISCHARGE_COLUMNS)
    rows = [line.split(",") for line in lines[1:] if line]
    key = teds.provider_from_settings().client_key
    done = [r for r in rows if r[2] == teds.client_id(w.teds_done.record_number, key)]
    assert len(done) == 1
    episode = w.teds_done.current_episode
    assert done[0][5:8] == [
        f"{episode.admission_date:%Y%m%d}",
        f"{episode.discharge_date:%Y%m%d}",
        f"{episode.discharge_date:%Y%m%d}",
    ]
    assert done[0][8] == str((episode.discharge_date - episode.admission_date).days + 1)
    assert done[0][9:] == ["6", "1", "2", "1", "1", "3", "0", "3"]
    closed = teds.client_id(w.teds_closed.record_number, key)
    assert closed not in {r[2] for r in rows}


def _dates(query: dict[str, str]) -> tuple[dt.date, dt.date]:
    return dt.date.fromisoformat(query["date_from"]), dt.date.fromisoformat(query["date_to"])


# --- query counts -------------------------------------------------------------------------------

# teds:export for compliance (a period given):
#   1–3. frame: session, user, roles
#   4. programs: accounts_user_programs (user.program_ids)
#   5. admissions: the episodes admitted in the period with participant, program and items
#   6. discharges: the episodes discharged in the period with participant, program and
#      discharge record
#   7–9. audit: the view event (lock the chain head, INSERT, move the head)
# No banner: compliance sees no safety alerts.
EXPORT_QUERIES = 9


def grow(world: World, n: int, grown: list[Any]) -> None:
    for _ in range(n):
        k = len(grown)
        if k % 3 == 0:
            participant = make_participant(
                world.program, world.intake, last=f"Grown{k}", status=S.ACTIVE
            )
            add_teds_items_to(world, participant)
        elif k % 3 == 1:
            participant = make_participant(
                world.program, world.intake, last=f"Grown{k}", status=S.ACTIVE
            )
        else:
            participant = teds_discharge(world, f"Grown{k}")
        grown.append(participant)


def add_teds_items_to(world: World, participant: Any) -> None:
    record_teds_items(
        participant.current_episode, actor=world.intake, values=TEDS_ITEMS, expected_version=0
    )


def test_the_export_runs_the_same_queries_for_n_and_3n_episodes(login, world):
    client = login(world.compliance)
    grown: list[Any] = []
    query = period(world)

    def measure() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(export_url(), query)
        assert response.status_code == 200
        return len(ctx.captured_queries), "\n".join(q["sql"] for q in ctx.captured_queries)

    grow(world, 3, grown)
    small, sql = measure()
    grow(world, 6, grown)
    large, _ = measure()
    assert small == large == EXPORT_QUERIES, sql
