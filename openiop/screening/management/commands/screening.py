"""`openiop screening verify DATE [--program ID]` re-derives a past day's random selection
from its revealed seed; `openiop screening simulate ...` runs the real selection code over
simulated program days to help a director pick a random rate (issue 7, points 3 and 4).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from openiop.core.context import request_context
from openiop.programs.models import Program
from openiop.screening import selection
from openiop.screening.models import SelectionDay
from openiop.screening.services import ScreeningError
from openiop.screening.simulation import SimulationInputError, simulate


class Command(BaseCommand):
    help = "Verify a past day's random drug-screening selection, or simulate a random rate."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{verify,simulate}")
        verify = sub.add_parser(
            "verify",
            help="Re-derive a past day's selection from its revealed seed and recorded pool.",
        )
        verify.add_argument("date", help="The program day, YYYY-MM-DD.")
        verify.add_argument("--program", help="A program id (default: every program).")
        sim = sub.add_parser(
            "simulate",
            help="Run the real selection over simulated program days and print JSON.",
        )
        sim.add_argument("--participants", required=True, help="Participants in the pool.")
        sim.add_argument("--days", required=True, help="Program days to simulate.")
        sim.add_argument("--rate", required=True, help="Random tests per participant per week.")
        sim.add_argument("--seed", required=True, help="Any text; the same seed, the same run.")
        sim.add_argument("--days-per-week", default="5", help="Program days a week (default 5).")
        sim.add_argument("--price", default="12.00", help="Price per test (default 12.00).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options["date"], options.get("program"))
        else:
            self._simulate(options)

    # --- verify -------------------------------------------------------------------------

    def _verify(self, raw_date: str, raw_program: str | None) -> None:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise CommandError(f"Give the day as YYYY-MM-DD, not {raw_date!r}.") from None
        programs = Program.objects.order_by("pk")
        if raw_program is not None:
            if not raw_program.isascii() or not raw_program.isdigit() or len(raw_program) > 18:
                raise CommandError(f"A program id is a number, not {raw_program!r}.")
            programs = programs.filter(pk=int(raw_program))
            if not programs.exists():
                raise CommandError(f"No program with id {raw_program}.")
        rows = {
            row.program_id: row
            for row in SelectionDay.objects.filter(day=day, program__in=programs).select_related(
                "program"
            )
        }
        if not rows:
            raise CommandError(f"No random draw on {day.isoformat()}.")
        failed = 0
        with request_context(source="command"):
            for program_id in sorted(rows):
                row = rows[program_id]
                name = f"{row.program.name} (id {program_id})"
                try:
                    selection.reveal_past(row.program, row.program.today())
                    result = selection.verify(row)
                except ScreeningError as exc:
                    failed += 1
                    self.stdout.write(f"{name} {day.isoformat()}: REFUSED — {exc}")
                    continue
                selection.audit_verification(row, result, actor=None)
                status = "OK" if result.ok else "FAILED"
                failed += 0 if result.ok else 1
                self.stdout.write(f"{name} {day.isoformat()}: {status} — {result.message}")
        if failed:
            raise CommandError(f"{failed} of {len(rows)} draws on {day.isoformat()} failed.")

    # --- simulate -----------------------------------------------------------------------

    def _simulate(self, options: dict[str, Any]) -> None:
        try:
            result = simulate(
                participants=_positive_int(options["participants"], "--participants"),
                days=_positive_int(options["days"], "--days"),
                rate=_decimal(options["rate"], "--rate"),
                seed=options["seed"],
                days_per_week=_positive_int(options["days_per_week"], "--days-per-week"),
                price=_decimal(options["price"], "--price"),
            )
        except SimulationInputError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(result, indent=2))


def _positive_int(raw: Any, name: str) -> int:
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise CommandError(f"{name} must be a whole number of 1 or more, not {raw!r}.")
    return int(text)


def _decimal(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise CommandError(f"{name} must be a number, not {raw!r}.") from None
    if not value.is_finite():
        raise CommandError(f"{name} must be a number, not {raw!r}.")
    return value
