"""`flush` (Django's) with the audit log's protection lifted for its duration.

Flushing empties every table, the audit log included: it is what the test runner does
between transactional tests, and what a database owner could do by hand anyway. The
triggers that refuse changes to audit events (`core.chain`) are dropped first and put
back afterwards, whatever happens.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from openiop.core import chain


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        chain.remove_triggers(connection)
        try:
            super().handle(**options)
        finally:
            chain.install_triggers(connection)
