"""`openiop backup_check`: back up the configured database, restore it into a freshly
created empty database and print PASS or FAIL with the per-table counts (issue 13,
point 5; `make restore-check`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.perf import backup


class Command(BaseCommand):
    help = (
        "Back up this database, restore it into a new empty database of the same kind "
        "(dropped afterwards) and compare every table's row count and checksum."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--keep", action="store_true", help="Keep the restored copy.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not backup.roundtrip_check(log=self.stdout.write, keep=options["keep"]):
            raise CommandError("restore-check FAILED")
