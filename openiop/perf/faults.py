"""`openiop faults` (issue 13, point 5): PostgreSQL restarted under load, and the other
faults re-run on PostgreSQL, each with a PASS or FAIL.

The restart fault needs a PostgreSQL it may stop, so it makes a throwaway cluster of its
own (`initdb` into a temporary directory, its own port and socket directory; run as the
`postgres` OS user when started as root, since initdb refuses root). The server on 5432
is never touched. In that cluster:

1. a fresh database, migrated, the demo loaded; `plan` (a child process on that
   database) picks the demo counsellor's participants and a past group session with
   everyone marked present, for the writes to change;
2. gunicorn with three workers on 127.0.0.1 (DEBUG off; OPENIOP_DEMO=1 only so plain
   http to 127.0.0.1 works without a secret key);
3. client threads (plain http.client, signed in as the demo counsellor) keep writing —
   check-ins that report use (a check-in, an alert and their audit events: several rows
   in one transaction) and attendance saves changing three marks at once, each carrying
   a unique marker — and reading pages, while the cluster is restarted (`pg_ctl restart
   -m fast`) and then stopped for a few seconds and started again;
4. `verify` (a child process) checks every write against the database.

PASS when every answer was a success or the calm 503 page (no 500, no reset), every
write answered with success is there exactly once and whole, every write answered 503
left nothing, and after the outage requests succeed again with the same gunicorn
processes. Then the worker-kill and twenty-clients tests run under pytest against the
same cluster, and the backup round trip (`openiop.perf.backup.roundtrip_check`) on the
database the load wrote.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

CALM = "OpenIOP cannot reach its database just now"
DEMO_PASSWORD = "openiop-demo"  # noqa: S105  (the published demo password)
COUNSELLOR = "counsellor"
WRITERS = 4
READERS = 2
ROWS_PER_SAVE = 3  # at most: fewer when the biggest group is small
DB_NAME = "openiop_faults"

Log = Callable[[str], None]


# ------------------------------------------------------------------ the throwaway cluster


def pg_bindir() -> Path:
    """PostgreSQL's programs: `pg_config --bindir`, else the newest /usr/lib/postgresql."""
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        out = subprocess.run(  # noqa: S603
            ["pg_config", "--bindir"],  # noqa: S607  (found on PATH, like psql)
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if (Path(out) / "initdb").exists():
            return Path(out)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    if not found:
        raise RuntimeError("No PostgreSQL server programs (initdb) found.")
    return Path(found[-1]).parent


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"/(\d+)(?:\.(\d+))?/bin/", path)[0] if p)


def free_port(start: int) -> int:
    for port in range(start, start + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"No free port from {start}.")


class Cluster:
    """A PostgreSQL cluster in a temporary directory, trust authentication on 127.0.0.1."""

    def __init__(self, port: int, log: Log) -> None:
        self.bindir = pg_bindir()
        self.port = port
        self.log = log
        self.dir = Path(tempfile.mkdtemp(prefix="openiop-faults-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.as_postgres = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        # PostgreSQL's own programs, with arguments made here.
        subprocess.run(  # noqa: S603
            [*self.as_postgres, *args], check=True, capture_output=True, text=True
        )

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile),
            "-w", "-t", "60", "-o", options, *args,
        )  # fmt: skip

    def create(self) -> None:
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--no-sync",
        )  # fmt: skip
        self.pg_ctl("start")
        self.log(f"Throwaway PostgreSQL ({self.bindir.parent.name}) on 127.0.0.1:{self.port}")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def createdb(self, name: str) -> None:
        subprocess.run(  # noqa: S603
            [
                str(self.bindir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ],
            check=True,
            capture_output=True,
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------ one simulated browser


@dataclass
class Answer:
    """One request and what came back, for the pass/fail rules."""

    thread: str
    kind: str  # checkin, attendance (writes) or read
    method: str
    path: str
    started: float
    ended: float
    status: int = 0  # 0: no HTTP answer (reset, refused, timeout)
    error: str = ""
    calm: bool = False  # the 503 page (or the API's / health check's 503) came
    marker: str = ""
    rows: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (200, 302)

    @property
    def acceptable(self) -> bool:
        return self.ok or (self.status == 503 and self.calm)


class Browser:
    """Cookies and CSRF over one keep-alive http.client connection (no gevent, no
    redirects followed: a 302 after a POST is the success answer)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, data: dict[str, str] | None = None
    ) -> tuple[int, str]:
        headers = {"Host": "127.0.0.1", "Referer": f"http://127.0.0.1:{self.port}/"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST", "/accounts/login/", {"username": username, "password": DEMO_PASSWORD}
        )
        if status != 302:
            raise RuntimeError(f"Signing in as {username} answered {status}.")


# ------------------------------------------------------------------ the load


class Load:
    """Writer and reader threads, each request recorded, until `stop` is set."""

    def __init__(self, port: int, plan: dict[str, Any]) -> None:
        self.port = port
        self.plan = plan
        self.answers: list[Answer] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def _call(self, browser: Browser, answer: Answer, data: dict[str, str] | None = None) -> None:
        try:
            answer.status, text = browser.request(answer.method, answer.path, data)
            answer.calm = answer.status == 503 and (
                CALM in text or '"transient"' in text or '"unavailable"' in text
            )
        except Exception as exc:  # a reset or a refused connection: recorded, fails the run
            answer.error = f"{type(exc).__name__}: {exc}"[:200]
        answer.ended = time.monotonic()
        with self.lock:
            self.answers.append(answer)

    def writer(self, n: int, browser: Browser) -> None:
        name = f"writer{n}"
        participants = self.plan["participants"]
        per = self.plan["rows_per_save"]
        rows = self.plan["episodes"][n * per : (n + 1) * per]
        session = self.plan["session"]
        turn = 0
        while not self.stop.is_set():
            turn += 1
            marker = f"FW-{uuid.uuid4().hex}"
            if turn % 2:
                pk = participants[(n + turn) % len(participants)]
                answer = Answer(
                    name, "checkin", "POST", f"/participants/{pk}/check-ins/new/",
                    time.monotonic(), 0.0, marker=marker, rows=[pk],
                )  # fmt: skip
                data = {
                    "mood": "5", "craving": "3", "used": "yes", "substances": "alcohol",
                    "stress": "4", "sleep_hours": "7", "note": marker,
                }  # fmt: skip
            else:
                answer = Answer(
                    name, "attendance", "POST", f"/attendance/sessions/{session}/",
                    time.monotonic(), 0.0, marker=marker, rows=list(rows),
                )  # fmt: skip
                # A form that changes this writer's three rows (nobody else's): one save,
                # three marks, all or nothing.
                data = {"action": "save"}
                for episode in rows:
                    data[f"status_{episode}"] = "present"
                    data[f"note_{episode}"] = marker
            self._call(browser, answer, data)
            time.sleep(0.02)

    def reader(self, n: int, browser: Browser) -> None:
        name = f"reader{n}"
        rng = random.Random(n)  # noqa: S311  (which page to read next)
        pages = ["/", "/healthz", f"/attendance/sessions/{self.plan['session']}/"] + [
            f"/participants/{pk}/" for pk in self.plan["participants"][:5]
        ]
        while not self.stop.is_set():
            path = rng.choice(pages)
            self._call(browser, Answer(name, "read", "GET", path, time.monotonic(), 0.0))
            time.sleep(0.02)

    def start(self) -> None:
        """Sign everyone in first (before any fault), then start the threads."""
        for n in range(WRITERS):
            self.threads.append(threading.Thread(target=self._guard(self.writer, n)))
        for n in range(READERS):
            self.threads.append(threading.Thread(target=self._guard(self.reader, n)))
        for t in self.threads:
            t.start()

    def _guard(self, target: Callable[[int, Browser], None], n: int) -> Callable[[], None]:
        browser = Browser(self.port)
        browser.sign_in(COUNSELLOR)

        def run() -> None:
            try:
                target(n, browser)
            except Exception as exc:  # a bug of this script: the run fails
                self.failures.append(f"{target.__name__}{n}: {exc}")

        return run

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


# ------------------------------------------------------------------ the steps in the database


def plan_step() -> dict[str, Any]:
    """(In a child process on the faults database.) The demo counsellor's participants in
    care, and a past group session with enough people, everyone marked present."""
    from openiop.accounts.models import User
    from openiop.attendance import services as attendance
    from openiop.participants.choices import IN_CARE
    from openiop.participants.models import Episode
    from openiop.scheduling.choices import SessionKind, SessionStatus
    from openiop.scheduling.models import Session

    counsellor = User.objects.get(username=COUNSELLOR)
    episodes = Episode.objects.filter(
        primary_counsellor=counsellor, status__in=IN_CARE, voided=False
    ).order_by("pk")
    participants = [e.participant_id for e in episodes]
    if not participants:
        raise RuntimeError("The demo counsellor has nobody in care.")
    program_ids = list(counsellor.programs.values_list("pk", flat=True))
    candidates = Session.objects.filter(
        program_id__in=program_ids, kind=SessionKind.GROUP, voided=False
    ).exclude(status=SessionStatus.CANCELLED)
    # The biggest of the recent past groups: each writer owns rows of its roster.
    best: tuple[int, Any, list[Any]] | None = None
    for session in candidates.order_by("-date")[:60]:
        if session.date > session.program.today():
            continue
        roster = attendance.roster(session)
        if best is None or len(roster) > best[0]:
            best = (len(roster), session, roster)
    per_writer = min(ROWS_PER_SAVE, best[0] // WRITERS) if best else 0
    if best is None or per_writer < 1:
        raise RuntimeError(f"No past group session with {WRITERS} people or more.")
    _, session, roster = best
    attendance.mark_all_present(session, actor=counsellor)
    return {
        "participants": participants,
        "session": session.pk,
        "rows_per_save": per_writer,
        "episodes": [r.episode.pk for r in roster][: per_writer * WRITERS],
    }


def verify_step(writes: list[dict[str, Any]]) -> dict[str, Any]:
    """(In a child process on the faults database.) Every write against the rows."""
    from openiop.attendance.models import Attendance, CheckIn, EngagementAlert
    from openiop.core.choices import AuditAction
    from openiop.core.models import AuditEvent

    problems: list[str] = []
    counts: Counter[str] = Counter()
    checkins: dict[str, list[CheckIn]] = {}
    for c in CheckIn.objects.filter(note__startswith="FW-"):
        checkins.setdefault(c.note, []).append(c)
    alerts = set(
        EngagementAlert.objects.filter(key__startswith="checkin-").values_list("key", flat=True)
    )
    created = set(
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, object_type="attendance.checkin"
        ).values_list("object_id", flat=True)
    )
    mark_changes: dict[str, list[str]] = {}
    for event in AuditEvent.objects.filter(
        action=AuditAction.CHANGE, object_type="attendance.attendance"
    ).only("object_id", "changes"):
        note = (event.changes or {}).get("note")
        if isinstance(note, list) and len(note) == 2 and str(note[1]).startswith("FW-"):
            mark_changes.setdefault(str(note[1]), []).append(event.object_id)
    session = w_session(writes)
    marks = {a.episode_id: a for a in Attendance.objects.filter(session_id=session or 0)}
    last_ok: dict[int, str] = {}
    for w in writes:
        marker, ok, got_503 = w["marker"], w["status"] in (200, 302), w["status"] == 503
        if w["kind"] == "checkin":
            rows = checkins.get(marker, [])
            whole = [c for c in rows if f"checkin-{c.pk}" in alerts and str(c.pk) in created]
            if len(rows) != len(whole):
                problems.append(f"check-in {marker}: partly written (no alert or audit event)")
            found = len(rows)
        else:
            found_ids = mark_changes.get(marker, [])
            if len(found_ids) not in (0, len(w["rows"])):
                problems.append(
                    f"attendance {marker}: {len(found_ids)} of {len(w['rows'])} marks (partial)"
                )
            found = 1 if found_ids else 0
            if len(found_ids) > len(set(found_ids)):
                problems.append(f"attendance {marker}: a mark changed twice")
            if ok:
                for episode in w["rows"]:
                    last_ok[episode] = marker
        if ok:
            counts["ok"] += 1
            if found != 1:
                problems.append(
                    f"{w['kind']} {marker}: answered {w['status']}, found {found} times"
                )
        elif got_503:
            counts["503"] += 1
            if found:
                problems.append(f"{w['kind']} {marker}: answered 503 but was saved")
        else:
            counts["other"] += 1  # no answer: either way is right; reported
            counts["other_saved"] += bool(found)
    for episode, marker in last_ok.items():
        mark = marks.get(episode)
        if mark is None or mark.note != marker:
            problems.append(f"mark of episode {episode}: not the last saved ({marker})")
    return {"problems": problems, "counts": dict(counts)}


def w_session(writes: list[dict[str, Any]]) -> int | None:
    for w in writes:
        if w["kind"] == "attendance":
            return int(w["path"].rstrip("/").rsplit("/", 1)[1])
    return None


def child_main(argv: list[str]) -> int:
    """`python -m openiop.perf.faults plan|verify FILE`, on DATABASE_URL."""
    import django

    django.setup()
    step, path = argv[0], Path(argv[1])
    if step == "plan":
        path.write_text(json.dumps(plan_step()))
    elif step == "verify":
        result = verify_step(json.loads(path.read_text()))
        path.with_suffix(".result.json").write_text(json.dumps(result))
    else:
        raise SystemExit(f"unknown step {step}")
    return 0


# ------------------------------------------------------------------ orchestration


class Run:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.results: dict[str, bool] = {}
        self.cluster = Cluster(free_port(54329), log)
        self.work = Path(tempfile.mkdtemp(prefix="openiop-faults-"))
        self.gunicorn: subprocess.Popen[bytes] | None = None
        self.app_log: Any = None

    def env(self, **more: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DEBUG", "OPENIOP_TESTING", "SECRET_KEY", "SECRET_KEY_FILE"}
        }
        env.update(
            DATABASE_URL=self.cluster.url(DB_NAME),
            DJANGO_SETTINGS_MODULE="openiop.settings",
            # Plain http on 127.0.0.1 without a secret key: no secure cookies, no https
            # redirect. DEBUG stays off, so errors go through handler500 as in production.
            OPENIOP_DEMO="1",
            OPENIOP_VAR_DIR=str(self.work / "var"),
            LOG_LEVEL="CRITICAL",
        )
        env.update(more)
        return env

    def openiop(self, *args: str) -> None:
        proc = subprocess.run(  # noqa: S603  (this interpreter, our own command)
            [sys.executable, "-m", "openiop.cli", *args],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"openiop {' '.join(args)} failed:\n{proc.stderr[-3000:]}")

    def child(self, step: str, path: Path) -> None:
        proc = subprocess.run(  # noqa: S603  (this interpreter, this module)
            [sys.executable, "-m", "openiop.perf.faults", step, str(path)],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if proc.returncode:
            raise RuntimeError(f"step {step} failed:\n{proc.stderr[-3000:]}")

    # -- fault 2 ------------------------------------------------------------------------

    def start_gunicorn(self) -> int:
        port = free_port(18790)
        log_file = self.app_log = (self.work / "app.log").open("ab")
        self.gunicorn = subprocess.Popen(  # noqa: S603  (this interpreter's gunicorn)
            [
                *(sys.executable, "-m", "gunicorn", "openiop.wsgi:application"),
                *("-w", "3", "-b", f"127.0.0.1:{port}", "--timeout", "60"),
                *("--log-level", "warning", "--error-logfile", str(self.work / "gunicorn.log")),
            ],
            env=self.env(),
            # The application's own error log (the 503s' causes) goes to the file too.
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                status, _ = Browser(port).request("GET", "/healthz")
                if status == 200:
                    return port
            if self.gunicorn.poll() is not None:
                break
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz.")

    def outage_causes(self) -> Counter[str]:
        """The database errors the application logged, by message (first line)."""
        causes: Counter[str] = Counter()
        with contextlib.suppress(OSError):
            text = (self.work / "app.log").read_text(errors="replace")
            for m in re.finditer(r"^django\.db\.utils\.(\w+Error): (.*)$", text, re.M):
                causes[f"{m[1]}: {m[2][:110]}"] += 1
        return causes

    def gunicorn_pids(self) -> set[int]:
        if self.gunicorn is None:
            return set()
        pid = self.gunicorn.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        found = {pid}
        with contextlib.suppress(OSError):
            found |= {int(p) for p in children.read_text().split()}
        return found

    def restart_under_load(self) -> bool:
        self.log("Fault: PostgreSQL restarted under load")
        self.cluster.createdb(DB_NAME)
        self.log("  migrating and loading the demo ...")
        self.openiop("migrate", "--noinput", "-v0")
        self.openiop("demo")
        plan_file = self.work / "plan.json"
        self.child("plan", plan_file)
        plan = json.loads(plan_file.read_text())
        port = self.start_gunicorn()
        pids_before = self.gunicorn_pids()
        self.log(
            f"  gunicorn (3 workers) on 127.0.0.1:{port}; {WRITERS} writers, {READERS} readers"
        )
        load = Load(port, plan)
        load.start()
        events: list[tuple[str, float]] = []
        time.sleep(5)
        events.append(("restart -m fast", time.monotonic()))
        self.cluster.pg_ctl("restart", "-m", "fast")
        events.append(("back", time.monotonic()))
        time.sleep(5)
        events.append(("stop -m fast", time.monotonic()))
        self.cluster.pg_ctl("stop", "-m", "fast")
        time.sleep(4)
        events.append(("start", time.monotonic()))
        self.cluster.pg_ctl("start")
        back = time.monotonic()
        events.append(("back", back))
        time.sleep(8)
        load.finish()
        pids_after = self.gunicorn_pids()
        return self.judge(load, back, pids_before, pids_after, events)

    def judge(
        self,
        load: Load,
        back: float,
        pids_before: set[int],
        pids_after: set[int],
        events: list[tuple[str, float]],
    ) -> bool:
        answers = sorted(load.answers, key=lambda a: a.started)
        t0 = answers[0].started if answers else back
        # Each step of the run with the answers to the requests started in it.
        bounds = [*events, ("end", float("inf"))]
        self.log(f"  {0.0:6.1f} s  load starts")
        for (name, at), (_, until) in zip([("load", t0), *events], bounds, strict=True):
            seen = Counter(a.status or "no answer" for a in answers if at <= a.started < until)
            if name != "load":
                self.log(f"  {at - t0:6.1f} s  {name}")
            self.log(
                "            "
                + (", ".join(f"{k}: {v}" for k, v in sorted(seen.items(), key=str)) or "-")
            )
        causes = self.outage_causes()
        if causes:
            self.log("  causes of the 503s (the application's log):")
            for cause, n in causes.most_common(8):
                self.log(f"    {n:5d}  {cause}")
        by_status = Counter(a.status or a.error.split(":")[0] for a in answers)
        self.log(
            f"  {len(answers)} requests: " + ", ".join(f"{k}: {v}" for k, v in by_status.items())
        )
        ok = True
        if load.failures:
            ok = False
            self.log("  FAIL: " + "; ".join(load.failures))
        bad = [a for a in answers if not a.acceptable]
        if bad:
            ok = False
            self.log(f"  FAIL: {len(bad)} answers neither a success nor the calm 503:")
            for a in bad[:10]:
                self.log(f"    {a.started - t0:6.1f} s {a.method} {a.path}: {a.status} {a.error}")
        outage = [a for a in answers if a.status == 503]
        if not outage:
            ok = False
            self.log("  FAIL: no request met the outage (nothing was tested)")
        after = [a for a in answers if a.started > back + 1.0]
        failed_after = [a for a in after if not a.ok]
        if len(after) < 20 or failed_after:
            ok = False
            self.log(
                f"  FAIL: after the restart {len(failed_after)} of {len(after)} requests failed"
            )
        else:
            self.log(f"  service resumed: {len(after)} requests after the restart, all succeeded")
        if pids_before != pids_after:
            ok = False
            self.log("  FAIL: gunicorn's processes changed (a worker died or was restarted)")
        writes = [asdict(a) for a in answers if a.kind != "read"]
        writes_file = self.work / "writes.json"
        writes_file.write_text(json.dumps(writes))
        self.child("verify", writes_file)
        result = json.loads(writes_file.with_suffix(".result.json").read_text())
        counts = result["counts"]
        self.log(
            f"  writes: {counts.get('ok', 0)} succeeded (each found once, whole), "
            f"{counts.get('503', 0)} answered 503 (none left a row), "
            f"{counts.get('other', 0)} without an answer"
        )
        if result["problems"]:
            ok = False
            self.log(f"  FAIL: {len(result['problems'])} write problems:")
            for p in result["problems"][:20]:
                self.log(f"    {p}")
        return ok

    # -- faults 1 and 3 under pytest, the backup round trip -----------------------------

    def pytest_faults(self) -> dict[str, bool]:
        self.log("Faults: worker killed mid-job; twenty clients on one roster (pytest, PostgreSQL)")
        junit = self.work / "junit.xml"
        root = Path(__file__).resolve().parents[2]
        env = self.env(OPENIOP_TESTING="1")
        env.pop("OPENIOP_DEMO", None)
        env["DATABASE_URL"] = self.cluster.url("openiop_faults_tests")
        proc = subprocess.run(  # noqa: S603  (this interpreter's pytest)
            [
                *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"),
                *("-p", "no:xdist", f"--junitxml={junit}", "--rootdir", str(root)),
                str(root / "openiop/perf/tests/test_faults.py"),
            ],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
        )
        outcome: dict[str, bool] = {}
        if junit.exists():
            # The report pytest just wrote here, not outside input.
            for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
                failed = any(case.find(t) is not None for t in ("failure", "error", "skipped"))
                outcome[case.get("name", "")] = not failed
        if proc.returncode and not outcome:
            self.log(proc.stdout[-3000:] + proc.stderr[-3000:])
        for line in proc.stdout.strip().splitlines()[-1:]:
            self.log("  pytest: " + line)

        def passed(part: str) -> bool:
            found = [v for k, v in outcome.items() if part in k]
            return bool(found) and all(found)

        return {
            "worker killed mid-job": passed("worker_killed"),
            "twenty clients on one roster": passed("twenty_clients"),
            "503 when the database is unreachable (unit tests)": passed("503")
            and passed("a_bug_is_still_a_500"),
        }

    def backup_roundtrip(self) -> bool | None:
        try:
            from openiop.perf.backup import roundtrip_check
        except ImportError:
            return None
        self.log("Fault: backup and restore into an empty database")
        # Its `openiop backup` and `restore` children take this process's environment.
        with patched_environ(OPENIOP_DEMO="1", OPENIOP_VAR_DIR=str(self.work / "var")):
            return bool(
                roundtrip_check(self.cluster.url(DB_NAME), log=lambda s: self.log("  " + s))
            )

    # -- all ----------------------------------------------------------------------------

    def run(self, only: set[str] | None = None) -> bool:
        try:
            self.cluster.create()
            if not only or "restart" in only:
                self.results["PostgreSQL restarted under load"] = self.guard(
                    self.restart_under_load
                )
                self.stop_gunicorn()
            if not only or "pytest" in only:
                self.results.update(self.pytest_faults())
            if not only or "backup" in only:
                if "PostgreSQL restarted under load" not in self.results:
                    self.cluster.createdb(DB_NAME)
                    self.openiop("migrate", "--noinput", "-v0")
                    self.openiop("demo")
                result = self.guard(self.backup_roundtrip)
                if result is None:
                    self.log("Backup round trip: openiop.perf.backup.roundtrip_check not found")
                else:
                    self.results["backup and restore round trip"] = result
        finally:
            self.stop_gunicorn()
            self.cluster.destroy()
            shutil.rmtree(self.work, ignore_errors=True)
        self.log("")
        for name, passed in self.results.items():
            self.log(f"{'PASS' if passed else 'FAIL'}  {name}")
        return bool(self.results) and all(self.results.values())

    def guard(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except Exception as exc:
            self.log(f"  FAIL: {type(exc).__name__}: {exc}")
            return False

    def stop_gunicorn(self) -> None:
        if self.gunicorn is not None and self.gunicorn.poll() is None:
            self.gunicorn.send_signal(signal.SIGTERM)
            try:
                self.gunicorn.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.gunicorn.kill()
                self.gunicorn.wait()
        self.gunicorn = None
        if self.app_log is not None:
            self.app_log.close()
            self.app_log = None


@contextlib.contextmanager
def patched_environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_all(log: Log = print, only: set[str] | None = None) -> bool:
    return Run(log).run(only)


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
