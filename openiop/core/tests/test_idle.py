"""Automatic log-off after inactivity (issue 8, point 5; ONC 170.315(d)(5)).

The server ends a session after the user's period of inactivity (a program setting, the
smallest of the user's programs), audits it as TIMED_OUT and sends the user to sign in
again; a form posted after the end is parked, never lost, and given back on the page
after the next sign-in. Polling by the page's script is not activity.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from openiop.accounts.models import ParkedDraft
from openiop.core import idle
from openiop.core.choices import AuditAction
from openiop.core.models import AuditEvent
from openiop.core.roles import Role
from openiop.core.worker import REGISTRY, run_period
from openiop.participants.models import Participant
from openiop.testing import make_participant, make_program, make_user

T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def clinic(db):
    program = make_program("Harbor IOP")
    counsellor = make_user("counsellor", [Role.COUNSELLOR], [program])
    colleague = make_user("colleague", [Role.COUNSELLOR], [program])
    participant = make_participant(program, counsellor, last="Parked", counsellor=counsellor)
    return {
        "program": program,
        "counsellor": counsellor,
        "colleague": colleague,
        "participant": participant,
    }


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_url(participant: Participant) -> str:
    return reverse("participants:edit", args=[participant.pk])


def timed_out_events(user):
    return AuditEvent.objects.filter(action=AuditAction.TIMED_OUT, actor=user)


# --- the program setting ------------------------------------------------------------------


def test_the_timeout_is_the_smallest_of_the_users_programs(clinic):
    counsellor, program = clinic["counsellor"], clinic["program"]
    assert program.idle_timeout_minutes == 15  # the default
    assert idle.minutes_for(counsellor) == 15
    strict = make_program("Strict IOP")
    strict.idle_timeout_minutes = 5
    strict.save(update_fields=["idle_timeout_minutes"])
    retired = make_program("Old IOP")
    retired.idle_timeout_minutes = 2
    retired.retired = True
    retired.save(update_fields=["idle_timeout_minutes", "retired"])
    counsellor.programs.add(strict, retired)
    assert idle.minutes_for(counsellor) == 5  # a retired program does not count
    # Staff without a program (an administrator): the default.
    admin = make_user("admin", [Role.ADMIN], [])
    assert idle.minutes_for(admin) == idle.DEFAULT_MINUTES == 15
    # Computed once at sign-in and kept in the session: no query per page.
    client = signed_in(counsellor)
    assert client.session[idle.TIMEOUT] == 300
    response = client.get(reverse("core:today"))
    assert b'data-idle-timeout="300"' in response.content


def test_the_program_form_sets_the_timeout_within_its_bounds(clinic):
    program = clinic["program"]
    director = make_user("director", [Role.DIRECTOR], [program])
    client = signed_in(director)
    url = reverse("programs:edit", args=["program", program.pk])
    data = {
        "name": program.name,
        "site": program.site_id,
        "time_zone": "America/New_York",
        "level_of_care": "3:2.1",
        "population": "adult",
        "min_weekly_hours": "9",
        "idle_timeout_minutes": "30",
    }
    assert b"Sign out after inactivity" in client.get(url).content
    assert client.post(url, data).status_code == 302
    program.refresh_from_db()
    assert program.idle_timeout_minutes == 30
    for wrong in ("1", "121", "-5", "abc", "99999999999999999999"):
        assert client.post(url, {**data, "idle_timeout_minutes": wrong}).status_code == 400
    program.refresh_from_db()
    assert program.idle_timeout_minutes == 30
    assert client.post(url, {**data, "idle_timeout_minutes": ""}).status_code == 302
    program.refresh_from_db()
    assert program.idle_timeout_minutes == 15  # blank keeps the default


# --- the server's clock -------------------------------------------------------------------


def test_inactive_beyond_the_timeout_is_signed_out_and_audited(clinic, clock):
    counsellor, participant = clinic["counsellor"], clinic["participant"]
    client = signed_in(counsellor)
    clock.move_to(T0 + 15 * MINUTE + dt.timedelta(seconds=1))
    url = reverse("participants:chart", args=[participant.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    event = timed_out_events(counsellor).get()
    assert event.actor_username == "counsellor"
    assert "15 min" in event.reason
    # Signed out: re-authentication is needed to resume.
    assert "_auth_user_id" not in client.session
    login_page = client.get(response["Location"])
    assert b"You were signed out after 15 minutes without activity." in login_page.content
    again = client.get(url)
    assert again.status_code == 302 and timed_out_events(counsellor).count() == 1


def test_an_active_user_stays_signed_in(clinic, clock):
    client = signed_in(clinic["counsellor"])
    today = reverse("core:today")
    for minutes in (10, 20, 30, 44):  # never 15 minutes without a request
        clock.move_to(T0 + minutes * MINUTE)
        assert client.get(today).status_code == 200
    assert not timed_out_events(clinic["counsellor"]).exists()
    clock.move_to(T0 + 60 * MINUTE)
    assert client.get(today).status_code == 302
    assert timed_out_events(clinic["counsellor"]).count() == 1


def test_the_keepalive_extends_the_session(clinic, clock):
    client = signed_in(clinic["counsellor"])
    clock.move_to(T0 + 14 * MINUTE)
    answer = client.post(reverse("core:keepalive")).json()
    assert answer == {"remaining": 900, "timeout": 900}
    clock.move_to(T0 + 28 * MINUTE)
    assert client.get(reverse("core:today")).status_code == 200


def test_the_idle_scripts_polling_does_not_extend_the_session(clinic, clock):
    client = signed_in(clinic["counsellor"])
    clock.move_to(T0 + 14 * MINUTE)
    answer = client.post(reverse("core:keepalive"), {"poll": "1"}).json()
    assert answer == {"remaining": 60, "timeout": 900}
    clock.move_to(T0 + 15 * MINUTE + dt.timedelta(seconds=30))
    # Polling after the end answers 0 and does not sign out (the page parks first) ...
    assert client.post(reverse("core:keepalive"), {"poll": "1"}).json()["remaining"] == 0
    # ... and a keepalive after the end does not bring the session back.
    assert client.post(reverse("core:keepalive")).json()["remaining"] == 0
    assert client.get(reverse("core:today")).status_code == 302
    assert timed_out_events(clinic["counsellor"]).count() == 1


def test_the_session_is_written_at_most_once_a_minute(clinic, clock):
    client = signed_in(clinic["counsellor"])
    clock.move_to(T0 + dt.timedelta(seconds=30))
    client.get(reverse("core:today"))
    assert client.session[idle.LAST_ACTIVITY] == T0.timestamp()  # not written yet
    clock.move_to(T0 + dt.timedelta(seconds=61))
    client.get(reverse("core:today"))
    assert client.session[idle.LAST_ACTIVITY] == T0.timestamp() + 61
    body = client.get(reverse("core:today")).content.decode()
    assert 'data-idle-remaining="900"' in body


def test_a_form_posted_after_the_timeout_is_parked_without_secrets(clinic, clock):
    counsellor, participant = clinic["counsellor"], clinic["participant"]
    client = signed_in(counsellor)
    clock.move_to(T0 + 16 * MINUTE)  # the computer slept; the user presses Save
    url = edit_url(participant)
    response = client.post(
        url,
        {
            "csrfmiddlewaretoken": "token-value",
            "preferred_name": "Sam\x00",
            "phone": "(207) 555-0101",
            "password": "hunter2-hunter2",
            "new_password1": "another-secret",
            "signature": "data:image/png;base64,AAAA",
            "version": "3",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    draft = ParkedDraft.objects.get(user=counsellor)
    assert draft.path == url and draft.restored_at is None
    (form,) = draft.data["forms"]
    assert form["action"] == url
    assert form["fields"] == [
        ["preferred_name", "Sam"],
        ["phone", "(207) 555-0101"],
        ["version", "3"],
    ]
    assert "hunter2" not in json.dumps(draft.data) and "token-value" not in json.dumps(draft.data)
    # The post itself did not reach the view: nothing changed.
    assert Participant.objects.get(pk=participant.pk).preferred_name != "Sam"
    event = timed_out_events(counsellor).get()
    assert "parked" in event.reason
    page = client.get(response["Location"]).content.decode()
    assert "Your unsaved work was kept; it will be back when you sign in." in page


def test_the_page_the_form_was_on_is_where_it_is_given_back(clinic, clock):
    counsellor, participant = clinic["counsellor"], clinic["participant"]
    client = signed_in(counsellor)
    clock.move_to(T0 + 16 * MINUTE)
    page = reverse("participants:chart", args=[participant.pk])
    response = client.post(
        edit_url(participant), {"phone": "1"}, HTTP_REFERER=f"http://testserver{page}"
    )
    assert response["Location"].endswith(f"?next={page}")
    assert ParkedDraft.objects.get().path == page
    # A referring page of another site is not trusted.
    client = signed_in(counsellor)
    clock.move_to(T0 + 40 * MINUTE)
    client.post(edit_url(participant), {"phone": "2"}, HTTP_REFERER="https://evil.example/x/")
    assert ParkedDraft.objects.latest("id").path == edit_url(participant)


def test_a_forged_post_after_the_timeout_keeps_nothing(clinic, clock):
    """The check runs after the CSRF check: a post without the token is refused first."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(clinic["counsellor"])
    clock.move_to(T0 + 16 * MINUTE)
    response = client.post(edit_url(clinic["participant"]), {"phone": "1"})
    assert response.status_code == 403
    assert not ParkedDraft.objects.exists()


def test_a_get_after_the_timeout_parks_nothing(clinic, clock):
    client = signed_in(clinic["counsellor"])
    clock.move_to(T0 + 16 * MINUTE)
    client.get(edit_url(clinic["participant"]))
    assert not ParkedDraft.objects.exists()


# --- park and give back -------------------------------------------------------------------


def park_payload(path: str, **fields: str) -> dict[str, str]:
    pairs = [[k, v] for k, v in fields.items()]
    forms = [{"action": path, "index": 1, "fields": pairs, "names": [*fields, "urgent"]}]
    return {"path": path, "forms": json.dumps(forms)}


def parked_block(html: str) -> dict | None:
    found = re.search(
        r'<script id="openiop-parked-draft" type="application/json">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1)) if found else None


def test_a_parked_draft_is_given_back_to_its_owner_only(clinic, clock):
    counsellor, colleague = clinic["counsellor"], clinic["colleague"]
    url = edit_url(clinic["participant"])
    client = signed_in(counsellor)
    payload = park_payload(
        url, preferred_name="Sammy <b>", password="secret-secret", csrfmiddlewaretoken="t"
    )
    answer = client.post(reverse("core:park"), payload)
    assert answer.status_code == 200 and answer.json() == {"parked": True}
    draft = ParkedDraft.objects.get(user=counsellor)
    assert draft.data["forms"][0]["fields"] == [["preferred_name", "Sammy <b>"]]
    assert draft.data["forms"][0]["names"] == ["preferred_name", "urgent"]
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="accounts.parkeddraft", actor=counsellor
    ).exists()

    # The owner, signed in again, gets it on that page (escaped inside the data block).
    client = signed_in(counsellor)
    html = client.get(url).content.decode()
    assert "Sammy \\u003Cb\\u003E" in html
    block = parked_block(html)
    assert block == {"id": draft.pk, "forms": draft.data["forms"]}
    assert parked_block(client.get(reverse("core:today")).content.decode()) is None

    # A colleague on the same page does not, and cannot mark it given back.
    other = signed_in(colleague)
    assert parked_block(other.get(url).content.decode()) is None
    response = other.post(reverse("core:park_restored"), {"draft": draft.pk})
    assert response.status_code == 404
    assert ParkedDraft.objects.get(pk=draft.pk).restored_at is None

    # Given back: not offered again.
    response = client.post(reverse("core:park_restored"), {"draft": draft.pk})
    assert response.status_code == 200 and response.json() == {"restored": True}
    assert ParkedDraft.objects.get(pk=draft.pk).restored_at is not None
    assert parked_block(client.get(url).content.decode()) is None
    assert parked_block(signed_in(counsellor).get(url).content.decode()) is None
    assert client.post(reverse("core:park_restored"), {"draft": draft.pk}).status_code == 404


def test_parking_after_the_timeout_still_keeps_the_forms(clinic, clock):
    """The page woke after the end: its park request is the post that arrives late."""
    counsellor = clinic["counsellor"]
    url = edit_url(clinic["participant"])
    client = signed_in(counsellor)
    clock.move_to(T0 + 20 * MINUTE)
    response = client.post(reverse("core:park"), park_payload(url, phone="(207) 555-0110"))
    assert response.json() == {"parked": True, "signed_out": True}
    assert ParkedDraft.objects.get(user=counsellor).path == url
    assert timed_out_events(counsellor).count() == 1
    assert "_auth_user_id" not in client.session


def test_only_the_page_with_a_parked_draft_runs_a_query_for_it(clinic):
    counsellor = clinic["counsellor"]
    url = edit_url(clinic["participant"])
    ParkedDraft.objects.create(user=counsellor, path=url, data={"forms": []})
    client = signed_in(counsellor)  # sign-in notes the pages with a parked draft

    def draft_queries(address: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(address).status_code == 200
        return sum("accounts_parkeddraft" in q["sql"] for q in queries.captured_queries)

    assert draft_queries(reverse("core:today")) == 0
    assert draft_queries(reverse("participants:chart", args=[clinic["participant"].pk])) == 0
    assert draft_queries(url) == 1


BAD_PARK = {
    "nothing": {},
    "no page": {"forms": "[]"},
    "another site": {"path": "https://evil.example/", "forms": '[{"fields": [["a", "b"]]}]'},
    "protocol-relative": {"path": "//evil.example/x", "forms": '[{"fields": [["a", "b"]]}]'},
    "a relative path": {"path": "participants/", "forms": '[{"fields": [["a", "b"]]}]'},
    "a path with NUL": {"path": "/x\x00/", "forms": '[{"fields": [["a", "b"]]}]'},
    "a huge path": {"path": "/" + "x" * 400, "forms": '[{"fields": [["a", "b"]]}]'},
    "forms not JSON": {"path": "/", "forms": "{nope"},
    "forms an object": {"path": "/", "forms": '{"fields": []}'},
    "no forms": {"path": "/", "forms": "[]"},
    "too many forms": {"path": "/", "forms": json.dumps([{"fields": []}] * 21)},
    "fields not a list": {"path": "/", "forms": '[{"fields": "a=b"}]'},
    "a field of three": {"path": "/", "forms": '[{"fields": [["a", "b", "c"]]}]'},
    "a number as value": {"path": "/", "forms": '[{"fields": [["a", 1]]}]'},
    "deep JSON": {"path": "/", "forms": "[" * 100_000 + "]" * 100_000},
    "too much text": {"path": "/", "forms": json.dumps([{"fields": [["a", "x" * 100_000]] * 5}])},
    "too many fields": {"path": "/", "forms": json.dumps([{"fields": [["a", "b"]] * 501}])},
}


@pytest.mark.parametrize("case", sorted(BAD_PARK))
def test_bad_park_input_is_refused_with_400(clinic, case):
    client = signed_in(clinic["counsellor"])
    response = client.post(reverse("core:park"), BAD_PARK[case])
    assert response.status_code == 400, response.content
    assert "error" in response.json()
    assert not ParkedDraft.objects.exists()


@pytest.mark.parametrize("draft", ["", "abc", "-1", "1.5", "99999999999999999999", "1\x00"])
def test_bad_restored_input_is_refused(clinic, draft):
    client = signed_in(clinic["counsellor"])
    response = client.post(reverse("core:park_restored"), {"draft": draft})
    assert response.status_code in (400, 404)


def test_the_endpoints_answer_post_only_and_need_a_sign_in(clinic):
    for name in ("core:keepalive", "core:park", "core:park_restored"):
        assert Client().post(reverse(name)).status_code == 302  # to the login page
        assert signed_in(clinic["counsellor"]).get(reverse(name)).status_code == 405
    assert Client().get(reverse("core:idle_logout")).status_code == 405


def test_parking_a_form_with_nothing_worth_keeping_keeps_nothing(clinic):
    client = signed_in(clinic["counsellor"])
    payload = park_payload("/", password="x", csrfmiddlewaretoken="y")
    assert client.post(reverse("core:park"), payload).json() == {"parked": False}
    assert not ParkedDraft.objects.exists()


# --- signing out at the end ---------------------------------------------------------------


def test_the_idle_logout_signs_out_with_timed_out(clinic):
    counsellor = clinic["counsellor"]
    client = signed_in(counsellor)
    url = edit_url(clinic["participant"])
    response = client.post(reverse("core:idle_logout"), {"next": url, "minutes": "15"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"
    assert timed_out_events(counsellor).count() == 1
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"]).content.decode()
    assert page.count("You were signed out after 15 minutes without activity.") == 1
    assert "Your unsaved work was kept; it will be back when you sign in." in page


def test_the_idle_logout_after_the_server_ended_the_session_says_it_once(clinic, clock):
    counsellor = clinic["counsellor"]
    client = signed_in(counsellor)
    clock.move_to(T0 + 20 * MINUTE)
    client.post(reverse("core:park"), park_payload("/", phone="1"))  # signs out
    response = client.post(reverse("core:idle_logout"), {"next": "https://evil.example/"})
    assert response["Location"] == f"{reverse('accounts:login')}?next=/"
    page = client.get(response["Location"]).content.decode()
    assert page.count("You were signed out after") == 1
    assert timed_out_events(counsellor).count() == 1


def test_old_parked_drafts_are_purged_by_the_worker(clinic):
    counsellor = clinic["counsellor"]
    old = ParkedDraft.objects.create(user=counsellor, path="/old/", data={"forms": []})
    ParkedDraft.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=8))
    recent = ParkedDraft.objects.create(user=counsellor, path="/new/", data={"forms": []})
    outcome = run_period(REGISTRY["core.purge_parked_drafts"], "2026-03-02")
    assert outcome.status == "ran"
    assert list(ParkedDraft.objects.values_list("pk", flat=True)) == [recent.pk]
