"""`make load` (issue 13, point 4): gunicorn on PostgreSQL under locust, and the proof that
no write locust saw succeed was lost or made twice.

`openiop load` runs, each step as its own process against the load database:

1. a fresh PostgreSQL database (`<name>_load` on DATABASE_URL's server, else `openiop_load`
   on 127.0.0.1:5432), migrated, the demo loaded, optionally `openiop generate` history;
2. `prepare`: counsellor and portal logins for the simulated users, made through the app's
   services, and the plan the locustfile reads (who owns which sessions);
3. gunicorn with several workers on 127.0.0.1 (production-like: DEBUG off; the demo's
   settings only so plain http to 127.0.0.1 works without a secret key);
4. locust headless against it twice, as its own command (it patches the process with
   gevent on import): the realistic mix, then the same users and pacing on the bare view;
5. `verify`: every write in locust's log is in the database exactly once, as logged.

The pure parts (the check of writes against rows, locust's CSV, the table) are here and
tested in openiop/perf/tests/test_load.py without locust, gunicorn or PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MARKER = re.compile(r"LW-[0-9a-f]{32}")
# Every logged write must match its row on these facts, besides its own fields.
EXPECTED: dict[str, dict[str, Any]] = {
    "note": {"signed": True, "voided": False},
    "group_note": {"signed": True, "voided": False},
    "attendance": {"voided": False},
    "checkin": {"voided": False},
}
# Log fields that describe the write but are no fact of its row.
NOT_FACTS = {"marker", "user"}


# ------------------------------------------------------------------ the lost-write check


@dataclass
class KindCount:
    logged: int = 0
    found: int = 0
    missing: int = 0
    duplicate: int = 0
    mismatch: int = 0


@dataclass
class WriteCheck:
    """What `check_writes` found: counts per kind and the first problems, for the report."""

    kinds: dict[str, KindCount] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unconfirmed: int = 0  # in the database but not in the log (in flight at the stop)

    @property
    def lost(self) -> int:
        return sum(k.missing + k.mismatch for k in self.kinds.values())

    @property
    def duplicates(self) -> int:
        return sum(k.duplicate for k in self.kinds.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "kinds": {name: vars(k) for name, k in sorted(self.kinds.items())},
            "lost": self.lost,
            "duplicates": self.duplicates,
            "unconfirmed": self.unconfirmed,
            "problems": self.problems[:20],
        }


def check_writes(
    writes: Iterable[dict[str, Any]], rows: dict[str, list[dict[str, Any]]]
) -> WriteCheck:
    """Each logged write (a dict with `kind` and `marker`) against the database rows holding
    its marker (`rows`: marker → each row's facts). Exactly one row, with the write's facts,
    or it is missing, duplicated, or lost as a mismatch (say a note saved but not signed,
    a mark on another participant). A marker logged twice counts as a duplicate too."""
    out = WriteCheck()
    seen: set[str] = set()
    for write in writes:
        kind, mark = write["kind"], write["marker"]
        count = out.kinds.setdefault(kind, KindCount())
        count.logged += 1
        if mark in seen:
            count.duplicate += 1
            out.problems.append(f"{kind} {mark}: logged twice")
            continue
        seen.add(mark)
        held = rows.get(mark, [])
        if not held:
            count.missing += 1
            out.problems.append(f"{kind} {mark}: not in the database")
            continue
        if len(held) > 1:
            count.duplicate += 1
            out.problems.append(f"{kind} {mark}: {len(held)} rows")
            continue
        want = {k: v for k, v in write.items() if k not in NOT_FACTS}
        want.update(EXPECTED.get(kind, {}))
        wrong = {k: held[0].get(k) for k, v in want.items() if held[0].get(k) != v}
        if wrong:
            count.mismatch += 1
            out.problems.append(f"{kind} {mark}: differs from the write: {wrong}")
            continue
        count.found += 1
    out.unconfirmed = len(set(rows) - seen)
    return out


def read_log(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _markers(text: str) -> list[str]:
    return MARKER.findall(text or "")


def rows_by_marker() -> dict[str, list[dict[str, Any]]]:
    """The facts of every row holding a load marker, from the database (Django set up):
    check-ins and attendance marks (their note), individual notes (their sections), group
    notes (their narrative, with how many signed entries carry the same marker)."""
    from collections import Counter

    from django.db.models import TextField
    from django.db.models.functions import Cast

    from openiop.attendance.models import Attendance, CheckIn
    from openiop.notes.choices import NoteFormat, NoteStatus
    from openiop.notes.models import GroupNote, Note

    out: dict[str, list[dict[str, Any]]] = {}

    def add(text: str, facts: dict[str, Any]) -> None:
        for mark in set(_markers(text)):
            out.setdefault(mark, []).append(facts)

    for c in CheckIn.objects.filter(note__contains="LW-"):
        add(c.note, {"kind": "checkin", "participant": c.participant_id, "voided": c.voided})
    for a in Attendance.objects.filter(note__contains="LW-"):
        add(
            a.note,
            {
                "kind": "attendance",
                "session": a.session_id,
                "episode": a.episode_id,
                "status": a.status,
                "voided": a.voided,
            },
        )
    notes = Note.objects.annotate(text=Cast("sections", TextField())).filter(text__contains="LW-")
    entries: Counter[str] = Counter()
    for n in notes:
        text = json.dumps(n.sections)
        if n.format == NoteFormat.GROUP:
            if n.status == NoteStatus.SIGNED and not n.voided:
                entries.update(set(_markers(text)))
            continue
        add(
            text,
            {
                "kind": "note",
                "participant": n.participant_id,
                "note": n.pk,
                "signed": n.status == NoteStatus.SIGNED,
                "voided": n.voided,
            },
        )
    for g in GroupNote.objects.filter(narrative__contains="LW-"):
        for mark in set(_markers(g.narrative)):
            out.setdefault(mark, []).append(
                {
                    "kind": "group_note",
                    "session": g.session_id,
                    "signed": g.status == NoteStatus.SIGNED,
                    "voided": g.voided,
                    "entries": entries[mark],
                }
            )
    return out


# ------------------------------------------------------------------ the plan


def prepare(staff_users: int, portal_users: int) -> dict[str, Any]:
    """Logins and the plan for the locustfile (Django set up, the demo loaded). A login per
    simulated counsellor, a portal login per participant in care (up to `portal_users`);
    the demo program's recent sessions with their rosters, handed out by the locustfile
    round-robin so no two simulated users write the same record."""
    import datetime as dt

    from django.conf import settings

    from openiop.accounts.models import User
    from openiop.accounts.services import save_staff_user
    from openiop.attendance import services as attendance
    from openiop.core.context import request_context
    from openiop.core.roles import Role
    from openiop.demo.builder import DEMO_PASSWORD, DEMO_PROGRAM
    from openiop.notes.models import GroupNote
    from openiop.participants.choices import IN_CARE
    from openiop.participants.models import Participant
    from openiop.portal import services as portal
    from openiop.portal.models import PortalAccount
    from openiop.programs.models import Program
    from openiop.scheduling.choices import SessionKind, SessionStatus
    from openiop.scheduling.models import Session

    program = Program.objects.get(name=DEMO_PROGRAM, is_demo=True)
    today = program.today()
    in_care = list(
        Participant.objects.filter(
            program=program, voided=False, current_episode__status__in=sorted(IN_CARE)
        ).order_by("pk")
    )
    staff_logins = []
    with request_context(source="load"):
        for i in range(1, max(staff_users, 1) + 1):
            username = f"load-counsellor-{i:03d}"
            if not User.objects.filter(username=username).exists():
                save_staff_user(
                    User(username=username, first_name="Load", last_name=f"Counsellor {i}"),
                    actor=None,
                    roles=[Role.COUNSELLOR],
                    programs=[program],
                    password=DEMO_PASSWORD,
                )
            staff_logins.append(username)
        inviter = User.objects.get(username="counsellor")
        portal_logins = []
        for i, participant in enumerate(in_care[: max(portal_users, 1)], start=1):
            account = (
                PortalAccount.objects.filter(participant=participant, contact__isnull=True)
                .select_related("user")
                .first()
            )
            if account is not None and account.user.is_active:
                username = account.user.username
            else:
                _invitation, raw = portal.invite(
                    participant, kind="participant", channel="printed", actor=inviter
                )
                username = f"load-participant-{i:03d}"
                portal.accept(raw, username=username, password=DEMO_PASSWORD, language="en")
            portal_logins.append({"username": username, "participant": participant.pk})
    sessions_of = _signed_in_sessions(staff_logins, portal_logins, staff_users, portal_users)
    # Sessions that happened (attendance can be taken from their day), newest first; those
    # whose group note is still to write first, so that each counsellor (the locustfile
    # deals them out round-robin) gets one.
    recent = (
        Session.objects.filter(
            program=program,
            voided=False,
            date__lte=today,
            date__gte=today - dt.timedelta(days=60),
        )
        .exclude(status=SessionStatus.CANCELLED)
        .order_by("-date", "-starts_at")
    )
    noted = set(
        GroupNote.objects.filter(voided=False, session__in=recent).values_list(
            "session_id", flat=True
        )
    )
    candidates = list(recent)
    free = [
        s
        for s in candidates
        if s.kind == SessionKind.GROUP and s.attendance_taken_at is not None and s.pk not in noted
    ]
    # Up to two group notes to write per counsellor, then sessions for attendance only.
    chosen = free[: 2 * staff_users]
    free_pks = {s.pk for s in chosen}
    others = [s for s in candidates if s.pk not in free_pks]
    chosen += others[: max(4 * staff_users, 40) - len(chosen)]
    sessions = []
    for s in chosen:
        episodes = [row.episode.pk for row in attendance.roster(s)]
        if episodes:
            sessions.append({"pk": s.pk, "episodes": episodes, "group_note_free": s.pk in free_pks})
    return {
        "password": DEMO_PASSWORD,
        "today": today.isoformat(),
        "staff_users": staff_users,
        "staff_logins": staff_logins,
        "portal_logins": portal_logins,
        "participants": [p.pk for p in in_care],
        "search_terms": sorted({p.legal_last_name[:3] for p in in_care}),
        "sessions": sessions,
        "cookie": settings.SESSION_COOKIE_NAME,
        "staff_cookies": sessions_of["staff"],
        "portal_cookies": sessions_of["portal"],
    }


def _signed_in_sessions(
    staff_logins: list[str],
    portal_logins: list[dict[str, Any]],
    staff_users: int,
    portal_users: int,
) -> dict[str, list[str]]:
    """A signed-in session per simulated user, made by Django's own `login` (its signals
    set the idle sign-out's keys as a real sign-in does). A clinic's busy hour starts with
    everyone signed in: a hundred password hashes (Argon2, deliberately slow) in the first
    seconds would measure a sign-in storm instead; the locustfile still signs in again now
    and then."""
    from django.conf import settings
    from django.test import Client

    from openiop.accounts.models import User

    def cookie(username: str) -> str:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    return {
        "staff": [cookie(staff_logins[i % len(staff_logins)]) for i in range(staff_users)],
        "portal": [
            cookie(portal_logins[i % len(portal_logins)]["username"]) for i in range(portal_users)
        ]
        if portal_logins
        else [],
    }


# ------------------------------------------------------------------ locust's results


def read_stats(path: Path) -> list[dict[str, Any]]:
    """Locust's `<prefix>_stats.csv` as rows: name, requests, failures, rps, p50, p95 (ms);
    the last row is locust's "Aggregated"."""
    out = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):

            def num(key: str, r: dict[str, str] = row) -> float:
                value = r.get(key, "") or "0"
                return float(value) if value != "N/A" else 0.0

            out.append(
                {
                    "name": row["Name"],
                    "method": row.get("Type", ""),
                    "requests": int(num("Request Count")),
                    "failures": int(num("Failure Count")),
                    "rps": round(num("Requests/s"), 2),
                    "p50_ms": num("50%"),
                    "p95_ms": num("95%"),
                }
            )
    return out


def count_exceptions(path: Path) -> int:
    """Errors raised in the locustfile itself (not requests): locust lists them apart."""
    if not path.exists():
        return 0
    with path.open(newline="") as f:
        return sum(int(row.get("Count", "1") or 1) for row in csv.DictReader(f))


def table(rows: list[dict[str, Any]]) -> str:
    head = f"{'request':40} {'count':>7} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        name = r["name"] if r["name"] != "Aggregated" else "ALL"
        lines.append(
            f"{name[:40]:40} {r['requests']:7d} {r['failures']:5d} {r['rps']:7.2f} "
            f"{r['p50_ms']:7.0f} {r['p95_ms']:7.0f}"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------ the run


@dataclass
class Options:
    users: int = 100
    spawn_rate: int = 20
    duration: int = 60
    bare_duration: int = 30
    workers: int = 4
    history: int = 2000
    staff_share: float = 0.4
    keep_db: bool = False
    out: Path = Path("bench/load-results.json")


def _bin(name: str) -> str:
    """A console script of this virtualenv (next to the running Python), else on PATH."""
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: pip install -e '.[load]' (make load)")
    return found


def load_database_url() -> str:
    """DATABASE_URL's server and user with the database `<its name>_load`; without
    DATABASE_URL, `openiop_load` on the local PostgreSQL."""
    base = os.environ.get("DATABASE_URL", "") or "postgres://postgres@127.0.0.1:5432/openiop"
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise RuntimeError("make load needs PostgreSQL: DATABASE_URL must be postgres://…")
    name = (parts.path.strip("/") or "openiop") + "_load"
    return urlunsplit(parts._replace(path="/" + name))


def _recreate(url: str, drop_only: bool = False) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited at start (see its log)")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:  # noqa: S310
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz in time")


def _wait_idle(url: str, seconds: float = 90) -> None:
    """Until /healthz answers within half a second (gunicorn has no queue left)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        began = time.monotonic()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=30):  # noqa: S310
                pass
        except OSError:
            pass
        if time.monotonic() - began < 0.5:
            return
        time.sleep(1)


def _stop(proc: subprocess.Popen | None) -> None:
    """Stop a process we started and its children (its own process group)."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def machine() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": [round(load1, 2), round(load5, 2)],
    }


def run(opts: Options, root: Path, log: Callable[[str], None]) -> int:
    """The whole `make load`; 0 when nothing failed and nothing was lost or duplicated."""
    openiop, gunicorn, locust = _bin("openiop"), _bin("gunicorn"), _bin("locust")
    work = root / "var" / "load"
    work.mkdir(parents=True, exist_ok=True)
    url = load_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "OPENIOP_DEMO": "1",  # plain http on 127.0.0.1 and a generated key, nothing else
        "OPENIOP_PERF": "1",  # routes /perf/bare
        "DEBUG": "0",
        "OPENIOP_VAR_DIR": str(work),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("OPENIOP_TESTING", None)
    staff_users = max(1, round(opts.users * opts.staff_share))
    info = machine()
    log(f"load database: {urlsplit(url).path.strip('/')} (dropped and made anew)")
    started = time.monotonic()
    _recreate(url)

    def step(*args: str, **kw: Any) -> subprocess.CompletedProcess:
        return subprocess.run([openiop, *args], env=env, check=True, text=True, **kw)  # noqa: S603

    step("migrate", "--noinput", "-v0")
    step("demo", stdout=subprocess.DEVNULL)
    has_generate = (
        subprocess.run(  # noqa: S603
            [openiop, "help", "generate"], env=env, capture_output=True, check=False
        ).returncode
        == 0
    )
    if opts.history and has_generate:
        log(f"adding history: openiop generate --episodes {opts.history}")
        step("generate", "--episodes", str(opts.history), "--seed", "13")
    elif opts.history:
        log("no `openiop generate` command yet: the demo's history only")
    plan_path, log_path = work / "plan.json", work / "writes.jsonl"
    portal_users = opts.users - staff_users
    step(
        "load",
        "--prepare",
        str(plan_path),
        "--staff-users",
        str(staff_users),
        "--portal-users",
        str(portal_users),
    )
    log_path.unlink(missing_ok=True)
    log(f"prepared in {time.monotonic() - started:.0f} s")

    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    gunicorn_log = (work / "gunicorn.log").open("w")
    server = None
    results: dict[str, Any] = {}
    try:
        server = subprocess.Popen(  # noqa: S603
            [
                gunicorn,
                "openiop.wsgi:application",
                "--workers",
                str(opts.workers),
                "--threads",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--graceful-timeout",
                "10",
            ],
            env=env,
            cwd=root,
            stdout=gunicorn_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_healthy(host, server)
        log(f"gunicorn: {opts.workers} workers on {host}")
        since = time.time()
        for mode, seconds in (("pages", opts.duration), ("bare", opts.bare_duration)):
            # Requests of the users locust stopped may still queue in gunicorn: let them
            # drain, so the bare run measures the bare view, not the previous run's tail.
            _wait_idle(host)
            log(f"locust ({mode}): {opts.users} users, {seconds} s")
            prefix = work / mode
            _locust(locust, root, host, prefix, mode, opts, seconds, plan_path, log_path, env)
            results[mode] = read_stats(Path(f"{prefix}_stats.csv"))
            results[f"{mode}_exceptions"] = count_exceptions(Path(f"{prefix}_exceptions.csv"))
    finally:
        _stop(server)
        gunicorn_log.close()
    verified = step("load", "--verify", str(log_path), capture_output=True)
    writes = json.loads(verified.stdout.strip().splitlines()[-1])
    if not opts.keep_db:
        _recreate(url, drop_only=True)
    report = summarise(results, writes, opts, info, since)
    log("")
    log(table(results["pages"]))
    log("")
    log(table(results["bare"]))
    log("")
    for line in report_lines(report):
        log(line)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(report, indent=2) + "\n")
    log(f"written: {opts.out}")
    return 0 if report["passed"] else 1


def _locust(
    locust: str,
    root: Path,
    host: str,
    prefix: Path,
    mode: str,
    opts: Options,
    seconds: int,
    plan: Path,
    writes: Path,
    env: dict[str, str],
) -> None:
    """One headless locust run, bounded in users and time; its own process group, stopped
    with it whatever happens. Its exit status is not ours: failures are read from its CSV."""
    run_env = {
        **env,
        "OPENIOP_LOAD_PLAN": str(plan),
        "OPENIOP_LOAD_LOG": str(writes),
        "OPENIOP_LOAD_MODE": mode,
    }
    proc = subprocess.Popen(  # noqa: S603
        [
            locust,
            "-f",
            str(root / "load" / "locustfile.py"),
            "--headless",
            "-u",
            str(opts.users),
            "-r",
            str(opts.spawn_rate),
            "-t",
            f"{seconds}s",
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
            "--stop-timeout",
            "20",
            "--loglevel",
            "WARNING",
        ],
        env=run_env,
        cwd=root,
        start_new_session=True,
    )
    try:
        proc.wait(timeout=seconds + 120)
    finally:
        _stop(proc)


def summarise(
    results: dict[str, Any],
    writes: dict[str, Any],
    opts: Options,
    info: dict[str, Any],
    since: float,
) -> dict[str, Any]:
    pages, bare = results["pages"], results["bare"]
    total = next((r for r in pages if r["name"] == "Aggregated"), pages[-1] if pages else {})
    bare_total = next((r for r in bare if r["name"] == "Aggregated"), bare[-1] if bare else {})
    ratio = total.get("rps", 0) / bare_total["rps"] if bare_total.get("rps") else None
    failures = int(total.get("failures", 0)) + int(bare_total.get("failures", 0))
    exceptions = results.get("pages_exceptions", 0) + results.get("bare_exceptions", 0)
    return {
        "machine": info,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(since)),
        "config": {
            "users": opts.users,
            "spawn_rate": opts.spawn_rate,
            "duration_s": opts.duration,
            "bare_duration_s": opts.bare_duration,
            "gunicorn_workers": opts.workers,
            "history_episodes": opts.history,
            "staff_share": opts.staff_share,
        },
        "pages": pages,
        "bare": bare,
        "rps": total.get("rps", 0),
        "p50_ms": total.get("p50_ms", 0),
        "p95_ms": total.get("p95_ms", 0),
        "bare_rps": bare_total.get("rps", 0),
        "bare_p50_ms": bare_total.get("p50_ms", 0),
        "bare_p95_ms": bare_total.get("p95_ms", 0),
        "throughput_ratio": round(ratio, 3) if ratio is not None else None,
        "failures": failures,
        "locustfile_errors": exceptions,
        "writes": writes,
        "lost": writes["lost"],
        "duplicates": writes["duplicates"],
        "passed": failures == 0
        and exceptions == 0
        and writes["lost"] == 0
        and writes["duplicates"] == 0
        and sum(k["logged"] for k in writes["kinds"].values()) > 0,
    }


def report_lines(report: dict[str, Any]) -> list[str]:
    lines = [
        f"pages: {report['rps']:.2f} req/s, p50 {report['p50_ms']:.0f} ms, "
        f"p95 {report['p95_ms']:.0f} ms",
        f"bare view: {report['bare_rps']:.2f} req/s, p50 {report['bare_p50_ms']:.0f} ms, "
        f"p95 {report['bare_p95_ms']:.0f} ms",
        f"throughput ratio (pages / bare): {report['throughput_ratio']}",
        f"failures: {report['failures']} (locustfile errors: {report['locustfile_errors']})",
    ]
    for kind, k in report["writes"]["kinds"].items():
        lines.append(
            f"writes {kind:11}: {k['logged']} logged, {k['found']} found once, "
            f"{k['missing']} missing, {k['duplicate']} duplicated, {k['mismatch']} different"
        )
    lines.append(
        f"lost writes: {report['lost']}, duplicates: {report['duplicates']} "
        f"(in the database but not confirmed to locust: {report['writes']['unconfirmed']})"
    )
    lines.extend(report["writes"]["problems"][:10])
    lines.append("PASSED" if report["passed"] else "FAILED")
    return lines
