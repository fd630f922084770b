"""`openiop generate --episodes N --seed S [--active A]`: synthetic history (issue 13, point 1)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from openiop.demo import builder
from openiop.perf import generate


class Command(BaseCommand):
    help = (
        "Grow the demo program to N episodes of history (about twelve admissions a week "
        "back from today) with A participants in care today. Builds the demo first if needed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--episodes", type=int, required=True, help="Episodes in all.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--active", type=int, default=generate.DEFAULT_ACTIVE, help="Census today."
        )

    def handle(self, *args, episodes: int, seed: int, active: int, **options):
        try:
            report = generate.generate(
                episodes=episodes, seed=seed, active=active, out=self.stdout.write
            )
        except (generate.HistoryExists, builder.RealDataPresent, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("table                              rows   insert s")
        for table, (rows, seconds) in sorted(report.tables.items()):
            self.stdout.write(f"{table:<32} {int(rows):>8} {seconds:>8.1f}")
        self.stdout.write(
            f"Done in {report.seconds:.1f} s: {report.episodes} episodes "
            f"({report.generated} generated), {report.participants} participants, "
            f"{report.active} in care today."
        )
