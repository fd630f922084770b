"""`openiop backup FILE`: the whole database, in one consistent snapshot, to one file
(issue 13, point 5). See openiop/perf/backup.py for the format and docs/deploy.md,
"Backup and restore", for how to keep the file."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.perf import backup


class Command(BaseCommand):
    help = (
        "Write every table of the database, read in one consistent snapshot, to FILE: a "
        "gzip'd JSON-lines stream with a manifest (applied migrations; per table the row "
        "count and a SHA-256 checksum). The file is created with mode 0600, written to a "
        "temporary name and renamed only when complete. It holds 42 CFR Part 2 records in "
        "clear: keep it encrypted and access-limited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Where to write the backup (e.g. openiop.jsonl.gz).")
        parser.add_argument("--database", default="default", help="Database alias to read.")

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] >= 2
        try:
            result = backup.backup(
                options["file"],
                using=options["database"],
                log=self.stdout.write if verbose else None,
            )
        except (backup.BackupError, OSError) as exc:
            raise CommandError(f"Backup failed, no file written: {exc}") from exc
        manifest = result.manifest
        if verbose:
            for line in backup.format_table(manifest):
                self.stdout.write(line)
        self.stdout.write(
            f"Backup written to {result.path}: {len(manifest['tables'])} tables, "
            f"{manifest['total_rows']} rows, {result.size / 1e6:.1f} MB, "
            f"{result.seconds:.1f} s (mode 0600)."
        )
