"""Run periodic jobs: `openiop worker` loops; `openiop worker --once` runs what is due."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from openiop.core.context import request_context
from openiop.core.worker import run_due


class Command(BaseCommand):
    help = "Run the periodic jobs that apps register (one pass with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run what is due, then exit.")
        parser.add_argument("--interval", type=int, default=30, help="Seconds between passes.")

    def handle(self, *args, once: bool, interval: int, **options):
        while True:
            with request_context(source="worker"):
                outcomes = run_due()
            for o in outcomes:
                if o.status != "skipped-done":
                    self.stdout.write(f"{o.job} [{o.period}]: {o.status}")
            if once:
                failed = [o for o in outcomes if o.status == "failed"]
                if failed:
                    self.stderr.write(f"{len(failed)} job(s) failed; they will be retried.")
                return
            time.sleep(max(interval, 1))
