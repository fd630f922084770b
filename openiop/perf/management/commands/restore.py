"""`openiop restore FILE`: a backup into an EMPTY database, in one transaction, then
verified (issue 13, point 5). See openiop/perf/backup.py.

Exit status: 0 restored and verified; 1 refused or failed (nothing restored), with the
reason and, for a checksum difference, the table(s); 2 the target holds data.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.perf import backup

TARGET_NOT_EMPTY = 2


class Command(BaseCommand):
    help = (
        "Restore a backup made by `openiop backup` into an empty database: create the "
        "schema if needed, load every table in one transaction, then recompute every "
        "table's row count and checksum and verify the audit chain. Refuses a database "
        "that holds any data. --check only reads the file and checks its checksums."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A backup written by `openiop backup`.")
        parser.add_argument("--database", default="default", help="Database alias to fill.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Check the file against its checksums without touching a database.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] >= 2
        log = self.stdout.write if verbose else None
        try:
            if options["check"]:
                manifest = backup.check_file(options["file"])
                for line in backup.format_table(manifest):
                    self.stdout.write(line)
                self.stdout.write(
                    f"The file is intact: {len(manifest['tables'])} tables, "
                    f"{manifest['total_rows']} rows match their checksums."
                )
                return
            result = backup.restore(options["file"], using=options["database"], log=log)
        except backup.TargetNotEmpty as exc:
            raise CommandError(f"Restore refused: {exc}", returncode=TARGET_NOT_EMPTY) from exc
        except backup.VerificationFailed as exc:
            raise CommandError(
                f"Restore FAILED, rolled back: {exc}\nTable(s): {', '.join(exc.tables)}"
            ) from exc
        except (backup.BackupError, OSError) as exc:
            raise CommandError(f"Restore failed, nothing restored: {exc}") from exc
        for line in backup.format_table(result.manifest, result.restored):
            self.stdout.write(line)
        self.stdout.write(f"Audit chain: {result.chain.summary}")
        if result.timings:
            self.stdout.write(
                "Time: " + ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
            )
        self.stdout.write(
            f"Restored and verified: {len(result.restored)} tables, "
            f"{result.manifest['total_rows']} rows, identical counts and checksums "
            f"({result.seconds:.1f} s{', schema created' if result.migrated else ''})."
        )
