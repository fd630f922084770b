"""`openiop bench`: the key pages' server time and queries at scales S and L (issue 13)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from openiop.perf import bench


class Command(BaseCommand):
    help = (
        "Measure the key pages (p50, p95, queries) against generated histories of scale S "
        "and L, on SQLite and, when DATABASE_URL is set, PostgreSQL; write bench/results.json."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scales", default="S,L", help="Comma-separated: S, L.")
        parser.add_argument(
            "--dbs", default="", help="sqlite, postgresql (default: sqlite, and PostgreSQL if set)."
        )
        parser.add_argument("--requests", type=int, default=200, help="Timed requests per page.")
        parser.add_argument("--warmup", type=int, default=10, help="Untimed requests per page.")
        parser.add_argument("--rebuild", action="store_true", help="Generate the histories anew.")
        parser.add_argument("--out", default="bench/results.json")
        # Internal: the measuring process, and the probe of a database's size.
        parser.add_argument("--run-one", action="store_true", help="(internal)")
        parser.add_argument("--probe", action="store_true", help="(internal)")
        parser.add_argument("--vacuum", action="store_true", help="(internal)")

    def handle(self, *args, **o):
        if o["probe"]:
            self.stdout.write(str(_episodes()))
            return
        if o["vacuum"]:
            bench.vacuum()
            return
        if o["run_one"]:
            rows = bench.run_one(requests=o["requests"], warmup=o["warmup"])
            self.stdout.write(json.dumps(rows))
            return
        scales = [s.strip().upper() for s in o["scales"].split(",") if s.strip()]
        if not scales or any(s not in bench.SCALES for s in scales):
            raise CommandError(f"--scales takes {', '.join(bench.SCALES)}")
        dbs = [d.strip() for d in o["dbs"].split(",") if d.strip()] or None
        if dbs and any(d not in ("sqlite", "postgresql") for d in dbs):
            raise CommandError("--dbs takes sqlite and postgresql")
        if o["requests"] < 20:
            raise CommandError("--requests must be at least 20 (p95 needs a sample).")
        status = bench.main(
            scales=scales,
            dbs=dbs,
            requests=o["requests"],
            warmup=max(o["warmup"], 1),
            rebuild=o["rebuild"],
            out=Path(o["out"]),
            log=self.stdout.write,
        )
        if status:
            raise CommandError("PostgreSQL missed a target of issue 13 (listed above).")


def _episodes() -> int:
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        if "participants_episode" not in connection.introspection.table_names():
            return -1
        from openiop.participants.models import Episode

        return Episode.objects.count()
    except DatabaseError:
        return -1
