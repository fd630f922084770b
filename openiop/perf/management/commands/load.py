"""`openiop load`: gunicorn on PostgreSQL under locust, and the lost-write proof (issue 13,
point 4). `make load` runs it; the steps are in openiop/perf/load.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from openiop.perf import load


class Command(BaseCommand):
    help = (
        "Load test: a fresh PostgreSQL database with the demo, gunicorn with several workers, "
        "locust headless (the realistic mix, then the bare view); then prove every write "
        "locust saw succeed is in the database exactly once. Writes bench/load-results.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=100, help="Simulated users.")
        parser.add_argument("--spawn-rate", type=int, default=20, help="Users started per s.")
        parser.add_argument("--duration", type=int, default=60, help="Seconds of the mix.")
        parser.add_argument(
            "--bare-duration", type=int, default=30, help="Seconds on the bare view."
        )
        parser.add_argument("--workers", type=int, default=4, help="gunicorn workers.")
        parser.add_argument(
            "--history",
            type=int,
            default=2000,
            help="Episodes of history from `openiop generate` when it exists (0: none).",
        )
        parser.add_argument(
            "--staff-share", type=float, default=0.4, help="Share of users who are staff."
        )
        parser.add_argument("--keep-db", action="store_true", help="Keep the load database.")
        parser.add_argument("--out", default="bench/load-results.json")
        # Internal steps, run against the load database by the run itself.
        parser.add_argument("--prepare", metavar="PLAN", help="(internal) write the plan")
        parser.add_argument("--staff-users", type=int, default=40, help="(internal)")
        parser.add_argument("--portal-users", type=int, default=60, help="(internal)")
        parser.add_argument("--verify", metavar="LOG", help="(internal) check the writes")

    def handle(self, *args, **o):
        if o["prepare"]:
            plan = load.prepare(o["staff_users"], o["portal_users"])
            Path(o["prepare"]).write_text(json.dumps(plan, indent=1))
            return
        if o["verify"]:
            checked = load.check_writes(load.read_log(Path(o["verify"])), load.rows_by_marker())
            self.stdout.write(json.dumps(checked.as_dict()))
            return
        if o["users"] < 1 or o["duration"] < 5 or o["bare_duration"] < 5 or o["workers"] < 1:
            raise CommandError("--users, --workers at least 1; durations at least 5 s.")
        if not 0 <= o["staff_share"] <= 1:
            raise CommandError("--staff-share is between 0 and 1.")
        options = load.Options(
            users=o["users"],
            spawn_rate=max(o["spawn_rate"], 1),
            duration=o["duration"],
            bare_duration=o["bare_duration"],
            workers=o["workers"],
            history=max(o["history"], 0),
            staff_share=o["staff_share"],
            keep_db=o["keep_db"],
            out=Path(o["out"]),
        )
        try:
            status = load.run(options, Path(settings.BASE_DIR).parent, self.stdout.write)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            raise CommandError(str(exc)) from exc
        if status:
            raise CommandError("make load failed: failures, or lost or duplicated writes.")
