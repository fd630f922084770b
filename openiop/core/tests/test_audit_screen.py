"""The compliance audit screen (issue 8, point 6; 45 CFR 170.315(d)(3)): filters by user,
participant, action and dates; sorting by each recorded element; each event's details;
the CSV export (filtered, streamed, formula-safe, audited); the Verify button; bad filters
answered with a message, never a 500; a query count that does not grow with the log.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.core import audit, chain
from openiop.core.audit_views import csv_cell
from openiop.core.context import request_context
from openiop.core.forms import AUDIT_SORTS
from openiop.core.models import AuditEvent

pytestmark = pytest.mark.django_db

LOG = reverse("core:audit_log")
EXPORT = reverse("core:audit_export")
VERIFY = reverse("core:audit_verify")
ZONE = ZoneInfo(django_settings.TIME_ZONE)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)


@pytest.fixture
def dated(world):
    """Events on three days of March 2021 (local time; the rest of the log is of today), by
    three users, two participants: 1 March 23:30 (late in the day), 2 March 00:10,
    3 March 12:00."""
    made = {}
    for key, when, actor, obj in [
        ("mar1", at(dt.date(2021, 3, 1), 23).replace(minute=30), world.counsellor, world.active),
        ("mar2", at(dt.date(2021, 3, 2), 0).replace(minute=10), world.supervisor, world.active),
        ("mar3", at(dt.date(2021, 3, 3), 12), world.lab, world.referred),
    ]:
        with time_machine.travel(when, tick=False), request_context(client_ip="10.0.0.9"):
            made[key] = audit.record(
                "change",
                actor=actor,
                obj=obj,
                changes={"status": ["open", "closed"]},
                reason=f"reason {key}",
            )
    return made


def rows_of(response) -> list[AuditEvent]:
    return [row["event"] for row in response.context["rows"]]


def export_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


# --- filters ----------------------------------------------------------------------------------


def test_a_record_number_is_posted_and_never_reaches_the_address(world, login, dated):
    client = login(world.compliance)
    response = client.post(
        LOG,
        {
            "participant": world.active.record_number.lower(),
            "action": "change",
            "date_to": "2021-12-31",
        },
    )
    assert response.status_code == 302
    location = response["Location"]
    assert world.active.record_number.lower() not in location.lower()
    assert f"participant={world.active.pk}" in location and "action=change" in location
    page = client.get(location)
    assert page.status_code == 200
    assert {e.pk for e in rows_of(page)} == {dated["mar1"].pk, dated["mar2"].pk}
    html = page.content.decode()
    assert f'value="{world.active.record_number}"' in html  # shown in the box, not the URL
    for link in [*(c["url"] for c in page.context["sort_links"]), page.context["export_url"]]:
        assert world.active.record_number not in link


def test_filter_by_user_is_case_insensitive(world, login, dated):
    page = login(world.compliance).get(LOG, {"user": "SUPERVISOR", "date_to": "2021-12-31"})
    assert [e.pk for e in rows_of(page)] == [dated["mar2"].pk]


def test_the_date_range_takes_whole_local_days(world, login, dated):
    client = login(world.compliance)
    page = client.get(LOG, {"date_from": "2021-03-01", "date_to": "2021-03-01"})
    assert [e.pk for e in rows_of(page)] == [dated["mar1"].pk]  # 23:30 is still 1 March
    page = client.get(LOG, {"date_from": "2021-03-02", "date_to": "2021-03-03"})
    assert [e.pk for e in rows_of(page)] == [dated["mar3"].pk, dated["mar2"].pk]
    page = client.get(LOG, {"date_to": "2021-03-02"})
    assert [e.pk for e in rows_of(page)] == [dated["mar2"].pk, dated["mar1"].pk]


def test_filters_combine(world, login, dated):
    response = login(world.compliance).post(
        LOG,
        {
            "participant": world.active.record_number,
            "user": "counsellor",
            "action": "change",
            "date_from": "2021-03-01",
            "date_to": "2021-03-31",
        },
    )
    page = login(world.compliance).get(response["Location"])
    assert [e.pk for e in rows_of(page)] == [dated["mar1"].pk]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2026-02-30"}, "Enter a valid date."),
        ({"date_to": "0001-01-01"}, "Give a date between 1970-01-01 and 2999-12-31."),
        ({"date_from": "9999-12-31"}, "Give a date between"),
        ({"date_from": "2021-03-02", "date_to": "2021-03-01"}, "“To” is before “From”."),
        ({"action": "bogus"}, "Select a valid choice."),
        ({"sort": "password"}, "Select a valid choice."),
        ({"sort": "-hash; DROP TABLE core_auditevent"}, "Select a valid choice."),
        ({"participant": "abc"}, "No participant has that id."),
        ({"participant": "99999999999999999999"}, "No participant has that id."),
        ({"participant": "424242"}, "No participant has that id."),
        ({"participant": "-1"}, "No participant has that id."),
        ({"user": "x" * 151}, "at most 150 characters"),
        ({"user": "coun\x00sellor"}, "Null characters are not allowed."),
    ],
)
def test_bad_filters_are_explained_with_a_400(world, login, params, message):
    client = login(world.compliance)
    for url in (LOG, EXPORT):
        response = client.get(url, params)
        assert response.status_code == 400, (url, response.status_code)
        assert not response.streaming
        assert message in response.content.decode()
        assert response.context["rows"] == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"participant": "OI-999999-0"}, "No participant has that record number"),
        ({"participant": "x" * 41}, "at most 40 characters"),
        ({"date_from": "2026-13-01"}, "Enter a valid date."),
        ({"action": ["view", "bogus"]}, "Select a valid choice."),
    ],
)
def test_bad_posted_filters_are_shown_again_with_a_400(world, login, data, message):
    response = login(world.compliance).post(LOG, data)
    assert response.status_code == 400
    assert message in response.content.decode()


FILTER_NAMES = ["participant", "user", "action", "date_from", "date_to", "sort", "page"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    params=st.dictionaries(
        st.sampled_from(FILTER_NAMES),
        st.one_of(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
            st.sampled_from(["2026-03-01", "-at", "view", "1", "0", "99999999999999999999"]),
        ),
        max_size=7,
    )
)
def test_arbitrary_filters_never_break_the_page_or_the_export(world, login, params):
    client = login(world.compliance)
    for url in (LOG, EXPORT):
        response = client.get(url, params)
        assert response.status_code in (200, 400), (url, params)
        if response.streaming:
            b"".join(response.streaming_content)


def test_a_bad_page_number_shows_a_page(world, login):
    for value in ("abc", "-1", "99999999999999999999", "last"):
        assert login(world.compliance).get(LOG, {"page": value}).status_code == 200


# --- sorting -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(AUDIT_SORTS))
def test_every_recorded_element_sorts_both_ways(world, login, dated, key):
    client = login(world.compliance)
    for sort in (key, f"-{key}"):
        page = client.get(LOG, {"sort": sort})
        assert page.status_code == 200, sort
        assert len(rows_of(page)) == min(AuditEvent.objects.count() - 1, 100)  # minus the view


def test_sorting_orders_the_rows(world, login, dated):
    client = login(world.compliance)
    params = {"date_from": "2021-03-01", "date_to": "2021-12-31"}
    by_user = rows_of(client.get(LOG, {**params, "sort": "actor_username"}))
    assert [e.actor_username for e in by_user] == ["counsellor", "lab", "supervisor"]
    by_user = rows_of(client.get(LOG, {**params, "sort": "-actor_username"}))
    assert [e.actor_username for e in by_user] == ["supervisor", "lab", "counsellor"]
    oldest = rows_of(client.get(LOG, {**params, "sort": "at"}))
    assert [e.pk for e in oldest] == [dated["mar1"].pk, dated["mar2"].pk, dated["mar3"].pk]
    # Events without a participant go last in both directions.
    everything = rows_of(client.get(LOG, {"sort": "participant_id"}))
    ids = [e.participant_id for e in everything]
    assert ids == sorted(ids, key=lambda i: (i is None, i or 0))


def test_column_headers_toggle_the_sort_and_say_which_is_current(world, login, dated):
    page = login(world.compliance).get(LOG, {"sort": "actor_username", "action": "change"})
    links = {c["label"]: c for c in page.context["sort_links"]}
    assert links["Who"]["aria_sort"] == "ascending"
    assert "sort=-actor_username" in links["Who"]["url"] and "action=change" in links["Who"]["url"]
    assert "sort=-at" in links["When"]["url"]  # the newest first on a first click
    assert 'aria-sort="ascending"' in page.content.decode()


# --- details ------------------------------------------------------------------------------------


def test_each_event_shows_its_details(world, login, dated):
    page = login(world.compliance).get(LOG, {"user": "lab", "date_to": "2021-12-31"})
    html = page.content.decode()
    event = dated["mar3"]
    for text in (
        "reason mar3",
        "&quot;open&quot; → &quot;closed&quot;",
        "10.0.0.9",
        f"seq {event.seq}",
        world.referred.record_number,
    ):
        assert text in html, text
    assert world.referred.legal_last_name not in html  # record numbers, never names


# --- export ----------------------------------------------------------------------------------


def test_the_export_has_the_filtered_events_in_the_pages_order(world, login, dated):
    client = login(world.compliance)
    response = client.get(
        EXPORT, {"participant": world.active.pk, "date_to": "2021-12-31", "sort": "at"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    rows = export_rows(response)
    assert [int(r["seq"]) for r in rows] == [dated["mar1"].seq, dated["mar2"].seq]
    first = rows[0]
    assert first["user"] == "counsellor" and first["action"] == "change"
    assert first["participant_record_number"] == world.active.record_number
    assert first["participant_id"] == str(world.active.pk)
    assert first["ip_address"] == "10.0.0.9" and first["reason"] == "reason mar1"
    assert first["changes"] == '{"status": ["open", "closed"]}'
    assert first["time"].startswith("2021-03-01T23:30:00")
    assert first["hash"] == dated["mar1"].hash


def test_the_export_is_audited_with_its_filter(world, login, dated):
    client = login(world.compliance)
    since = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    export_rows(client.get(EXPORT, {"participant": world.active.pk, "date_from": "2021-03-01"}))
    events = list(AuditEvent.objects.filter(seq__gt=since))
    assert [e.action for e in events] == ["export"]  # no page view besides
    event = events[0]
    assert event.actor_id == world.compliance.pk and event.object_type == "core.auditevent"
    assert event.participant_id == world.active.pk  # in the participant's own trail
    assert event.changes == {
        "filter": {"participant": str(world.active.pk), "date_from": "2021-03-01"}
    }


def test_the_export_cannot_smuggle_a_formula_into_a_spreadsheet(world, login):
    with request_context(path="/x/"):
        for text in ('=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "ok"):
            audit.record("view", actor=world.director, object_type="t", object_repr=text)
    rows = export_rows(login(world.compliance).get(EXPORT, {"sort": "seq", "user": "director"}))
    reprs = [r["object"] for r in rows if r["object_type"] == "t"]
    assert reprs == ['\'=HYPERLINK("http://evil")', "'+1+1", "'-2+3", "'@SUM(A1)", "'\tx", "ok"]
    assert csv_cell(None) == "" and csv_cell(-1) == "'-1" and csv_cell(5) == "5"


def test_a_large_export_streams_every_event(world, login):
    with request_context(path="/x/"):
        for n in range(2300):  # more than two chunks
            audit.record("view", actor=world.director, object_type="bulk", object_id=str(n))
    rows = export_rows(login(world.compliance).get(EXPORT, {"user": "director", "sort": "seq"}))
    bulk = [r["object_id"] for r in rows if r["object_type"] == "bulk"]
    assert bulk == [str(n) for n in range(2300)]


def test_others_cannot_export_or_verify(world, login):
    client = login(world.counsellor)
    assert client.get(EXPORT).status_code == 403
    assert client.post(VERIFY).status_code == 403


# --- verify -------------------------------------------------------------------------------------


def test_the_verify_button_reports_ok_and_is_audited(world, login):
    client = login(world.compliance)
    page = client.post(VERIFY, follow=True)
    assert page.redirect_chain == [(LOG, 302)]
    html = page.content.decode()
    assert "OK: " in html and "every link intact" in html
    event = AuditEvent.objects.filter(object_type=audit.VERIFY_TYPE).get()
    assert event.actor_id == world.compliance.pk and event.changes["ok"] is True
    assert "intact" in html  # the integrity box shows the last verification
    history = client.get(VERIFY)
    assert history.status_code == 200 and "OK: " in history.content.decode()


def test_the_verify_button_names_an_altered_event(world, login):
    target = AuditEvent.objects.order_by("seq")[5]
    chain.remove_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET reason = 'x' WHERE id = %s", [target.pk])
    chain.install_triggers(connection)
    page = login(world.compliance).post(VERIFY, follow=True)
    html = page.content.decode()
    assert f"event #{target.pk} (seq {target.seq}) was altered" in html
    assert "problem found" in html
    assert AuditEvent.objects.filter(object_type=audit.VERIFY_TYPE).get().changes["ok"] is False


# --- query count -----------------------------------------------------------------------------

# core:audit_log for the compliance user, any number of events, no participant filter:
#   1. session  2. user  3. roles                          (every signed-in page)
#   4. count: SELECT COUNT(*) of the filtered events (paginator)
#   5. page: the page's events (100 at most)
#   6. record numbers of the page's participants (one query)
#   7. usernames for the user box's suggestions
#   8. the last verification of the chain (the audit_object index)
#   9-11. the page's own view event: lock the chain head, INSERT, move the head
LOG_QUERIES = 11


@pytest.mark.parametrize("extra", [3, 250])
def test_the_page_runs_a_fixed_number_of_queries(world, login, django_assert_num_queries, extra):
    with request_context(path="/x/"):
        for n in range(extra):
            obj = world.active if n % 2 else world.referred
            audit.record("view", actor=world.counsellor, obj=obj, changes={"n": n})
    client = login(world.compliance)
    client.get(LOG)  # warm the session
    with django_assert_num_queries(LOG_QUERIES):
        response = client.get(LOG)
    assert len(response.context["rows"]) == min(AuditEvent.objects.count() - 1, 100)
    # A participant filter adds one query: the participant's record number.
    with django_assert_num_queries(LOG_QUERIES + 1):
        response = client.get(LOG, {"participant": world.active.pk, "sort": "-participant_id"})
    assert response.context["rows"]
