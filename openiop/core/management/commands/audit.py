"""`openiop audit verify` walks the audit log's hash chain and reports OK with the number
of events, or the first broken link (45 CFR 170.315(d)(2), (d)(10); issue 8, point 6).
`openiop audit protect` puts back the database triggers that refuse changes to events.

Exit status: 0 intact; 1 broken (or bad arguments); 3 intact but the database no longer
refuses changes (its triggers were dropped or disabled).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from openiop.core import audit, chain
from openiop.core.context import request_context

UNPROTECTED = 3


class Command(BaseCommand):
    help = "Verify the audit log's hash chain, or reinstall its database protection."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,protect}")
        verify = sub.add_parser(
            "verify",
            help="Walk the chain in order and report OK, or the first broken link.",
        )
        verify.add_argument(
            "--anchor",
            help="SEQ:HASH printed by an earlier run (kept elsewhere): check it still holds.",
        )
        sub.add_parser(
            "protect",
            help="Reinstall the triggers that make the database refuse changes to events.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "protect":
            chain.install_triggers(connection)
            if not chain.triggers_installed(connection):
                raise CommandError(f"This database ({connection.vendor}) has no triggers.")
            self.stdout.write("The database refuses changes to audit events.")
            return
        anchor = None
        if options.get("anchor"):
            try:
                anchor = chain.parse_anchor(options["anchor"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        with request_context(source="command"):
            report = audit.verify_log(actor=None, anchor=anchor)
        self.stdout.write(report.message)
        if report.ok and report.events:
            self.stdout.write(f"Anchor for a later run: {report.head_seq}:{report.head_hash}")
        if not report.ok:
            raise CommandError("The audit log was altered; see above.")
        if not report.protected:
            raise CommandError(
                "The database no longer refuses changes to audit events (its triggers are "
                "missing or disabled). Run `openiop audit protect`, and find out who "
                "removed them.",
                returncode=UNPROTECTED,
            )
