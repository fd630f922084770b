"""`make bench`: server time and queries of the key pages at two scales (issue 13, point 2).

`openiop bench` is the orchestrator. For each database (SQLite always; PostgreSQL when
`DATABASE_URL` names one) and each scale it makes sure a database holding that scale's
generated history exists (building it with `openiop migrate` and `openiop generate` when
it does not, or when `--rebuild` is given), then runs `openiop bench --run-one` in a fresh
process against it. That process signs in the demo's staff with Django's test client (no
network: the time is the server's, from the request entering the middleware to the
response leaving it), warms every page up, and then requests the pages round-robin, each
`--requests` times, the bare view (`/perf/bare`, Django plus our middleware and nothing
else) among them, so that every page and the baseline share the same moments of the
machine's load. A last request of each page runs under `CaptureQueriesContext` for its
query count.

The orchestrator prints a table and writes `bench/results.json`: a list of objects with
the keys `db`, `scale`, `page`, `p50_ms`, `p95_ms`, `queries` and `baseline_p50_ms`
(issue 13's names), then checks the targets of issue 13, point 3, on PostgreSQL at
scale L (and reports them, as information, for SQLite).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Issue 13, point 2: scale S is about 2,000 episodes with 150 active participants; scale L
# ten times the history with the same active census.
SCALES: dict[str, int] = {"S": 2_000, "L": 20_000}
ACTIVE = 150
SEED = 1
BARE = "bare view"
OUTCOMES = "outcomes dashboard"

# Issue 13, point 3 (checked on PostgreSQL at scale L).
P95_LIMIT_MS = 25.0
P95_LIMIT_OUTCOMES_MS = 200.0
BARE_RATIO = 10.0
GROWTH_RATIO = 1.5


# --- Measuring (inside the `--run-one` process) ------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (the smallest value with at least pct % at or below it)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Page:
    name: str
    client: Any
    path: str
    headers: dict[str, str]


def _pages() -> list[Page]:
    """The key pages of issue 13, point 2, on the generated program, as their users see them."""
    import datetime as dt

    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse

    from openiop.accounts.models import User
    from openiop.demo.builder import DEMO_PROGRAM
    from openiop.fhir.models import ApiClient
    from openiop.fhir.testing import make_token
    from openiop.participants.choices import EpisodeStatus
    from openiop.participants.models import Participant
    from openiop.programs.models import Program
    from openiop.scheduling.models import Session

    program = Program.objects.get(name=DEMO_PROGRAM)
    today = program.today()
    counsellor = User.objects.get(username="counsellor")

    def signed_in(username: str) -> Any:
        client = Client()
        client.force_login(User.objects.get(username=username))
        return client

    staff = signed_in("counsellor")
    lab = signed_in("lab")
    director = signed_in("director")

    # The chart: the demo's featured participant (the portal's `participant` login), whose
    # record has every kind of section (plans, consents, family, screens, notes); the
    # generator leaves the demo's own people as they are, so S and L draw the same chart.
    # Failing that, the counsellor's active participant with most episodes.
    from openiop.portal.models import PortalAccount

    featured = (
        PortalAccount.objects.filter(user__username="participant", kind="participant")
        .select_related("participant")
        .first()
    )
    chart_of = featured.participant if featured else None
    chart_of = chart_of or (
        Participant.objects.filter(
            program=program,
            current_episode__status=EpisodeStatus.ACTIVE,
            current_episode__primary_counsellor=counsellor,
        )
        .annotate(n_episodes=Count("episodes"))
        .order_by("-n_episodes", "pk")
        .first()
    )
    if chart_of is None:
        raise SystemExit("No active participant in the counsellor's caseload: generate first.")

    # The roster and the group note: the counsellor's group session nearest to today (today
    # itself on a weekday) with the most people on it.
    window = (today - dt.timedelta(days=3), today + dt.timedelta(days=3))
    sessions = (
        Session.objects.filter(program=program, date__range=window, facilitator=counsellor)
        .exclude(track=None)
        .order_by("date", "starts_at")
    )
    session = min(sessions, key=lambda s: (abs((s.date - today).days), s.starts_at), default=None)
    if session is None:
        raise SystemExit("The counsellor has no session this week: generate first.")

    # The participant list searched by a common last name (a name is posted, kept in the
    # session, and the list is asked for with ?search=1).
    common = (
        Participant.objects.filter(program=program)
        .values("legal_last_name")
        .annotate(n=Count("pk"))
        .order_by("-n", "legal_last_name")
        .first()
    )
    staff.post(reverse("participants:list"), {"q": common["legal_last_name"] if common else "a"})

    monday = today - dt.timedelta(days=today.weekday())
    api_client = ApiClient.objects.filter(program=program, kind="internal", retired_at=None).first()
    pages = [
        Page("today board", staff, reverse("core:today"), {}),
        Page("participant list (search)", staff, reverse("participants:list") + "?search=1", {}),
        Page("chart", staff, reverse("participants:chart", args=[chart_of.pk]), {}),
        Page(
            "calendar week",
            staff,
            reverse("scheduling:calendar") + f"?program={program.pk}&date={monday}",
            {},
        ),
        Page("session roster", staff, reverse("attendance:session", args=[session.pk]), {}),
        Page("group note", staff, reverse("notes_home:group", args=[session.pk]), {}),
        Page("screening today", lab, reverse("screening:today"), {}),
        Page(OUTCOMES, director, reverse("outcomes:dashboard"), {}),
    ]
    if api_client is not None:
        token = make_token(api_client, "system/Patient.read", minutes=24 * 60)
        pages.append(
            Page(
                "FHIR Patient search",
                Client(),
                "/fhir/R4/Patient?_count=50",
                {"HTTP_AUTHORIZATION": f"Bearer {token}"},
            )
        )
    pages.append(Page(BARE, staff, "/perf/bare", {}))
    return pages


def _get(page: Page) -> int:
    response = page.client.get(page.path, **page.headers)
    return int(response.status_code)


def run_one(requests: int, warmup: int) -> list[dict[str, Any]]:
    """Measure every page `requests` times, round-robin; the rows for one database/scale."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from openiop.core.context import request_context

    with request_context(source="bench"):
        pages = _pages()
    for page in pages:
        for _ in range(warmup):
            status = _get(page)
            if status != 200:
                raise SystemExit(f"{page.name}: {page.path} answered {status}")
    times: dict[str, list[float]] = {page.name: [] for page in pages}
    for _ in range(requests):
        for page in pages:
            start = time.perf_counter()
            _get(page)
            times[page.name].append((time.perf_counter() - start) * 1000)
    queries: dict[str, int] = {}
    for page in pages:
        with CaptureQueriesContext(connection) as ctx:
            _get(page)
        queries[page.name] = len(ctx.captured_queries)
    baseline = percentile(times[BARE], 50)
    return [
        {
            "page": page.name,
            "p50_ms": round(percentile(times[page.name], 50), 2),
            "p95_ms": round(percentile(times[page.name], 95), 2),
            "queries": queries[page.name],
            "baseline_p50_ms": round(baseline, 2),
            "requests": requests,
        }
        for page in pages
    ]


# --- Orchestrating (the `openiop bench` process) -----------------------------------------


@dataclass
class Target:
    db: str  # "sqlite" or "postgresql"
    scale: str
    env: dict[str, str]
    describe: str


def _pg_url(base: str, name: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/" + name))


def targets(root: Path, scales: Iterable[str], dbs: Iterable[str]) -> list[Target]:
    """The databases to measure: a SQLite file per scale; PostgreSQL databases per scale."""
    out = []
    base_url = os.environ.get("DATABASE_URL", "")
    for db in dbs:
        for scale in scales:
            env = {
                "OPENIOP_DEMO": "1",
                "OPENIOP_PERF": "1",
                "DEBUG": "0",
                "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            }
            if db == "sqlite":
                var = root / "var" / "bench" / f"sqlite-{scale.lower()}"
                env["OPENIOP_VAR_DIR"] = str(var)
                env["DATABASE_URL"] = ""
                out.append(Target(db, scale, env, str(var / "openiop.sqlite3")))
            else:
                name = (urlsplit(base_url).path.strip("/") or "openiop") + f"_bench_{scale.lower()}"
                env["DATABASE_URL"] = _pg_url(base_url, name)
                env["OPENIOP_VAR_DIR"] = str(root / "var" / "bench" / f"pg-{scale.lower()}")
                out.append(Target(db, scale, env, f"PostgreSQL database {name}"))
    return out


def _run(cmd: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess:
    full = {**os.environ, **env}
    if not full.get("DATABASE_URL"):
        full.pop("DATABASE_URL", None)
    return subprocess.run(cmd, env=full, check=True, text=True, **kwargs)  # noqa: S603


def episodes_in(openiop: str, target: Target) -> int:
    """How many episodes the target database holds (-1 if it has no schema yet)."""
    probe = _run(
        [openiop, "bench", "--probe"],
        target.env,
        capture_output=True,
    )
    return int(probe.stdout.strip().splitlines()[-1])


def prepare(openiop: str, target: Target, rebuild: bool, log: Callable[[str], None]) -> None:
    """Build the target's generated history unless it is already there."""
    want = SCALES[target.scale]
    if target.db == "postgresql":
        _ensure_pg_database(target.env["DATABASE_URL"], drop=rebuild)
    else:
        path = Path(target.describe)
        if rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    have = -1 if rebuild else episodes_in(openiop, target)
    if have == want:
        log(f"{target.describe}: {have} episodes, reused")
        _run([openiop, "bench", "--vacuum"], target.env)
        return
    if have > 0:
        # Another scale or a half-built history: start again.
        if target.db == "postgresql":
            _ensure_pg_database(target.env["DATABASE_URL"], drop=True)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(target.describe + suffix).unlink(missing_ok=True)
    log(f"{target.describe}: building scale {target.scale} ({want} episodes)")
    started = time.monotonic()
    _run([openiop, "migrate", "--noinput", "-v0"], target.env)
    _run(
        [
            openiop,
            "generate",
            "--episodes",
            str(want),
            "--seed",
            str(SEED),
            "--active",
            str(ACTIVE),
        ],
        target.env,
    )
    # A database that has run for a while has been vacuumed and analysed by autovacuum: the
    # planner's statistics are current and the GIN indexes' pending lists are merged (a
    # trigram index filled by bulk inserts and never vacuumed is priced too dear to use).
    _run([openiop, "bench", "--vacuum"], target.env)
    log(f"{target.describe}: built in {time.monotonic() - started:.0f} s")


def vacuum() -> None:
    """VACUUM ANALYZE on PostgreSQL (outside a transaction); ANALYZE on SQLite."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _ensure_pg_database(url: str, drop: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and drop:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def measure(openiop: str, target: Target, requests: int, warmup: int) -> list[dict[str, Any]]:
    out = _run(
        [
            openiop,
            "bench",
            "--run-one",
            "--requests",
            str(requests),
            "--warmup",
            str(warmup),
        ],
        target.env,
        capture_output=True,
    )
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    return [{"db": target.db, "scale": target.scale, **row} for row in rows]


# --- Targets and the table ---------------------------------------------------------------


def check_targets(rows: list[dict[str, Any]], db: str) -> list[str]:
    """Issue 13, point 3, for one database: the list of misses (empty when all hold)."""
    misses = []
    by = {(r["scale"], r["page"]): r for r in rows if r["db"] == db}
    for (scale, page), row in sorted(by.items()):
        if scale != "L" or page == BARE:
            continue
        limit = P95_LIMIT_OUTCOMES_MS if page == OUTCOMES else P95_LIMIT_MS
        if row["p95_ms"] > limit:
            misses.append(f"{page}: p95 {row['p95_ms']} ms at L > {limit:g} ms")
        if row["p50_ms"] > BARE_RATIO * row["baseline_p50_ms"]:
            misses.append(
                f"{page}: p50 {row['p50_ms']} ms > {BARE_RATIO:g} times the bare view's "
                f"{row['baseline_p50_ms']} ms"
            )
        small = by.get(("S", page))
        if small is None:
            continue
        if small["queries"] != row["queries"]:
            misses.append(f"{page}: {small['queries']} queries at S, {row['queries']} at L")
        if row["p95_ms"] > GROWTH_RATIO * small["p95_ms"]:
            misses.append(
                f"{page}: p95 {row['p95_ms']} ms at L > {GROWTH_RATIO:g} times "
                f"{small['p95_ms']} ms at S"
            )
    return misses


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the results (also what docs/performance.md shows)."""
    lines = [
        "| db | scale | page | p50 ms | p95 ms | queries | bare p50 ms | p50 ÷ bare |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r["p50_ms"] / r["baseline_p50_ms"] if r["baseline_p50_ms"] else float("nan")
        lines.append(
            f"| {r['db']} | {r['scale']} | {r['page']} | {r['p50_ms']:.1f} | "
            f"{r['p95_ms']:.1f} | {r['queries']} | {r['baseline_p50_ms']:.2f} | {ratio:.1f} |"
        )
    return "\n".join(lines)


def main(
    *,
    scales: list[str],
    dbs: list[str] | None,
    requests: int,
    warmup: int,
    rebuild: bool,
    out: Path,
    log: Callable[[str], None] = print,
) -> int:
    """Run the benchmark; 0 when the PostgreSQL targets hold (or PostgreSQL was not run)."""
    root = Path.cwd()
    openiop = str(Path(sys.executable).with_name("openiop"))
    if dbs is None:
        dbs = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL") else [])
    rows: list[dict[str, Any]] = []
    for target in targets(root, scales, dbs):
        prepare(openiop, target, rebuild, log)
        log(f"{target.describe}: measuring scale {target.scale} ({requests} requests per page)")
        rows.extend(measure(openiop, target, requests, warmup))
    out.parent.mkdir(parents=True, exist_ok=True)
    results = [
        {k: r[k] for k in ("db", "scale", "page", "p50_ms", "p95_ms", "queries", "baseline_p50_ms")}
        for r in rows
    ]
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(out)
    log("")
    log(table(rows))
    log("")
    log(f"Wrote {out}")
    status = 0
    for db in dbs:
        misses = check_targets(rows, db)
        if not {"S", "L"} <= set(scales):
            log(f"{db}: the targets compare S with L; run both scales to check them.")
            continue
        verdict = "all targets hold" if not misses else f"{len(misses)} target(s) missed"
        log(f"{db} (issue 13 targets): {verdict}")
        for miss in misses:
            log(f"  - {miss}")
        if misses and db == "postgresql":
            status = 1
    return status
