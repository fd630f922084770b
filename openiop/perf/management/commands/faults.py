"""`openiop faults` (issue 13, point 5): the fault runs on a throwaway PostgreSQL cluster,
PASS or FAIL each; exit status 1 if any failed. See openiop/perf/faults.py."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from openiop.perf import faults

PARTS = ("restart", "pytest", "backup")


class Command(BaseCommand):
    help = (
        "Restart a throwaway PostgreSQL under load (503s, no partial or lost write), then "
        "re-run the worker-kill and concurrent-roster tests and the backup round trip on it."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            choices=PARTS,
            help="Run only this part (repeatable): restart, pytest or backup.",
        )

    def handle(self, *args, only: list[str] | None, **options):
        ok = faults.run_all(log=self.stdout.write, only=set(only) if only else None)
        if not ok:
            raise CommandError("A fault run failed (see above).")
