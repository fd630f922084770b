"""Serve OpenIOP on 127.0.0.1 (PORT, default 8000). For production use a WSGI server."""

from __future__ import annotations

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve OpenIOP locally on 127.0.0.1:$PORT (default 8000)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, port: str, **options):
        if not str(port).isdigit():
            self.stderr.write(f"PORT must be a number, not {port!r}")
            raise SystemExit(2)
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
