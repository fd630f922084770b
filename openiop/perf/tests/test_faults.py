"""Faults (issue 13, point 5): a worker killed mid-job, the database unreachable, twenty
clients saving one roster at once. Each runs on SQLite and on PostgreSQL, in seconds.

The restart of PostgreSQL under load is `openiop faults` (a throwaway cluster, gunicorn):
too slow for the suite. Its application side — the 503 — is tested here.
"""

from __future__ import annotations

import datetime as dt
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import OperationalError, connection, connections
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from openiop.core.choices import AuditAction, JobStatus
from openiop.core.models import AuditEvent, JobRun, Sequence

# ---------------------------------------------------------------- 1. worker killed mid-job

PROBE_ROWS = 3


def subprocess_env() -> dict[str, str]:
    """The environment of a worker process that reaches this test's database."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        url = f"sqlite:///{db['NAME']}"
    else:
        auth = quote(db["USER"] or "", safe="")
        if db["PASSWORD"]:
            auth += ":" + quote(db["PASSWORD"], safe="")
        host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        url = f"postgres://{auth}@{host}/{quote(db['NAME'], safe='')}"
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "openiop.settings",
        "OPENIOP_TESTING": "1",
    }


def probe(key: str, *gate: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603  (this interpreter, our own module)
        [sys.executable, "-m", "openiop.perf.probe_job", key, *map(str, gate)],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_line(proc: subprocess.Popen[str], wanted: str, timeout: float = 30) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.2)
        if ready:
            line = proc.stdout.readline()
            if line.strip() == wanted:
                return
            if not line:  # ended without blocking
                break
    proc.kill()
    _, err = proc.communicate()
    pytest.fail(f"the worker never printed {wanted!r}: {err[-2000:]}")


def rows_written(key: str) -> list[int]:
    return [
        s.value for s in Sequence.objects.filter(name__startswith=f"fault:{key}:").order_by("name")
    ]


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_completes_the_job_exactly_once_after_a_restart(tmp_path):
    key = uuid.uuid4().hex[:12]
    job = f"perf.fault_probe.{key}"
    gate = tmp_path / "hold"
    gate.touch()
    first = probe(key, gate)
    try:
        # The job claimed its period and wrote its rows, and now waits: kill it there.
        wait_for_line(first, "blocked")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    # Its transaction never committed: neither the claim nor the rows are there.
    assert not JobRun.objects.filter(job=job).exists()
    assert rows_written(key) == []

    gate.unlink()
    restarted = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "openiop.perf.probe_job", key],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    assert restarted.stdout.split() == [job, key, "ran"]
    again = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "openiop.perf.probe_job", key],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.stdout.split() == [job, key, "skipped-done"], again.stderr[-2000:]

    # Exactly once: each row written once, one successful run, on its first attempt
    # (the killed attempt left no trace to count).
    assert rows_written(key) == [1] * PROBE_ROWS
    run = JobRun.objects.get(job=job)
    assert (run.status, run.attempts, run.result) == (JobStatus.SUCCEEDED, 1, "3 rows")


# ---------------------------------------------------------------- 2. database unreachable


def unreachable_connect(request: HttpRequest) -> HttpResponse:
    """A real failed connect: this database's backend pointed at nothing."""
    default = connections["default"]
    settings_dict = {**default.settings_dict}
    if default.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-openiop-dir/db.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    wrapper = type(default)(settings_dict, alias="unreachable")
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("unreachable")  # pragma: no cover


def lost_mid_request(request: HttpRequest) -> HttpResponse:
    raise OperationalError("server closed the connection unexpectedly")


def a_bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("connect/", unreachable_connect),
    path("lost/", lost_mid_request),
    path("bug/", a_bug),
    path("fhir/R4/Patient", lost_mid_request),
    path("healthz", unreachable_connect),
]
handler500 = "openiop.core.views.server_error"

CALM = "OpenIOP cannot reach its database just now"


@pytest.fixture
def quiet_client(client):
    client.raise_request_exception = False
    return client


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("url", ["/connect/", "/lost/"])
def test_an_unreachable_database_answers_a_calm_503(quiet_client, db, url):
    response = quiet_client.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response["Cache-Control"] == "no-store"
    text = response.content.decode()
    assert CALM in text and "Nothing you sent was saved" in text
    assert response["Content-Security-Policy"]  # the usual headers still come


@pytest.mark.urls(__name__)
def test_the_api_and_the_health_check_answer_503_in_their_own_format(quiet_client, db):
    fhir = quiet_client.get("/fhir/R4/Patient")
    assert fhir.status_code == 503
    assert fhir["Content-Type"].startswith("application/fhir+json")
    body = fhir.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "transient"
    health = quiet_client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["status"] == "unavailable"
    assert health["Retry-After"] == "60"


@pytest.mark.urls(__name__)
def test_a_bug_is_still_a_500(quiet_client, db):
    response = quiet_client.get("/bug/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert CALM not in response.content.decode()


def test_a_database_down_before_the_view_is_a_503_too(world, quiet_client, monkeypatch):
    """Signed in, the first query is the session's, in the middleware: still a 503, and
    the headers middleware does not ask the database who the user is."""
    from django.contrib.sessions.backends.db import SessionStore

    quiet_client.force_login(world.counsellor)

    def down(self: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(SessionStore, "load", down)
    response = quiet_client.get(reverse("core:today"))
    assert response.status_code == 503
    assert CALM in response.content.decode()


# ---------------------------------------------------------------- 3. twenty clients, one roster

CLIENTS = 20


class FormFields(HTMLParser):
    """The fields a browser would post from the roster form (class `roster-form`)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._in_form = "roster-form" in a.get("class", "").split()
        elif not self._in_form:
            return
        elif tag == "input" and a.get("name") and "disabled" not in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
            self.fields.setdefault(a.get("name", ""), "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None


def roster_form(client: Client, url: str) -> dict[str, str]:
    response = client.get(url)
    assert response.status_code == 200
    parser = FormFields()
    parser.feed(response.content.decode())
    assert parser.fields.get("action") == "save"
    return parser.fields


def a_group_of(n: int) -> tuple[Any, list[Any], list[Any]]:
    """A past group session with `n` participants enrolled, everyone marked present, and
    `n` staff who take attendance."""
    from openiop.attendance import services as attendance
    from openiop.core.roles import Role
    from openiop.participants.choices import EpisodeStatus as S
    from openiop.scheduling import services as schedule
    from openiop.scheduling.models import Session, TemplateSlot
    from openiop.testing import make_participant, make_program, make_user

    program = make_program("Fault IOP")
    director = make_user("director", [Role.DIRECTOR], [program])
    staff = [make_user(f"counsellor{i:02d}", [Role.COUNSELLOR], [program]) for i in range(n)]
    track = program.tracks.get(name="Morning")
    TemplateSlot.objects.create(
        track=track,
        weekday=0,
        start_time=dt.time(9),
        end_time=dt.time(12),
        session_type=program.session_types.get(),
        facilitator=staff[0],
        room=program.site.rooms.get(),
    )
    for i in range(n):
        make_participant(
            program, director, last=f"Member{i:02d}", status=S.ACTIVE, counsellor=staff[0]
        )
    today = program.today()
    schedule.generate(track, today - dt.timedelta(days=13), today, actor=director)
    session = Session.objects.filter(track=track, date__lt=today).latest("date")
    episodes = [row.episode for row in attendance.roster(session)]
    assert len(episodes) == n
    attendance.mark_all_present(session, actor=director)
    return session, staff, episodes


def post_all_at_once(clients: list[Client], url: str, forms: list[dict[str, str]]) -> list[Any]:
    """Every client posts its form at the same moment, on its own database connection."""
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [None] * len(clients)

    def post(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = clients[i].post(url, forms[i])
        except Exception as exc:  # reported by the assertion below
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    errors = [r for r in results if not hasattr(r, "status_code")]
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_clients_saving_one_roster_at_once_lose_no_update():
    from openiop.attendance.models import Attendance

    session, staff, episodes = a_group_of(CLIENTS)
    url = reverse("attendance:session", args=[session.pk])
    clients = []
    for user in staff:
        c = Client()
        c.force_login(user)
        clients.append(c)

    # Round 1: everyone loaded the roster (all present), then each marks a different
    # participant absent. Each form still posts the other nineteen rows as "present".
    # The twenty loads would show the same page: one load stands for them (the test client
    # does not check CSRF tokens), which keeps the test quick.
    page = roster_form(clients[0], url)
    forms = [dict(page) for _ in clients]
    for i, form in enumerate(forms):
        form[f"status_{episodes[i].pk}"] = "absent_excused"
        form[f"note_{episodes[i].pk}"] = f"round 1 by client {i}"
    results = post_all_at_once(clients, url, forms)
    assert [r.status_code for r in results] == [302] * CLIENTS, results[0].context["error"]
    marks = {m.episode_id: m for m in Attendance.objects.filter(session=session)}
    for i, episode in enumerate(episodes):
        mark = marks[episode.pk]
        assert (mark.status, mark.note, mark.version) == (
            "absent_excused",
            f"round 1 by client {i}",
            2,
        ), f"client {i}'s change was lost"
        assert mark.updated_by_id == staff[i].pk
    changes = AuditEvent.objects.filter(
        action=AuditAction.CHANGE, object_type="attendance.attendance"
    )
    # Every save is in the history, once, by the one who made it.
    assert sorted((e.object_id, e.actor_id) for e in changes) == sorted(
        (str(marks[ep.pk].pk), staff[i].pk) for i, ep in enumerate(episodes)
    )

    # Round 2: everyone reloads, then all change the same participant's mark. The first
    # save wins; the others were made on a mark that changed since: a clear 409 each,
    # nothing of theirs saved.
    target = episodes[0]
    page = roster_form(clients[0], url)
    forms = [dict(page) for _ in clients]
    for i, form in enumerate(forms):
        form[f"status_{target.pk}"] = "late"
        form[f"minutes_{target.pk}"] = str(i + 1)
        form[f"note_{target.pk}"] = f"round 2 by client {i}"
    results = post_all_at_once(clients, url, forms)
    codes = [r.status_code for r in results]
    assert sorted(codes) == [302] + [409] * (CLIENTS - 1)
    winner = codes.index(302)
    for r in results:
        if r.status_code == 409:
            assert "Someone else saved these marks" in r.content.decode()
    mark = Attendance.objects.get(session=session, episode=target)
    assert (mark.status, mark.minutes_missed, mark.note, mark.version) == (
        "late",
        winner + 1,
        f"round 2 by client {winner}",
        3,
    )
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CHANGE, object_type="attendance.attendance", object_id=str(mark.pk)
        ).count()
        == 2  # round 1's and the winner's
    )
    # The other nineteen marks are as round 1 left them.
    others = Attendance.objects.filter(session=session).exclude(pk=mark.pk)
    assert {(m.status, m.version) for m in others} == {("absent_excused", 2)}
