"""Load the synthetic demo program (refuses a database holding real data)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from openiop.demo import builder


class Command(BaseCommand):
    help = "Build the deterministic demo program: one site, two tracks, a login per role."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=builder.DEMO_SEED)

    def handle(self, *args, seed: int, **options):
        try:
            result = builder.build(seed=seed)
        except builder.RealDataPresent as exc:
            raise CommandError(f"Refusing to load the demo: {exc}") from exc
        if result.created:
            self.stdout.write(f"Demo program loaded: {result.participants} participants.")
        else:
            self.stdout.write("Demo program already loaded; reusing it.")
        self.stdout.write(
            "Demo logins (password: openiop-demo): " + ", ".join(s[0] for s in builder.STAFF)
        )
        self.stdout.write(
            "Two-factor sign-in is required for no role in the demo (Staff > Security "
            "policy); in a new installation administrators and compliance officers must use it."
        )
