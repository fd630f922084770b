"""Reports may read from a replica (issue 13, point 6; docs/deploy.md).

With `REPORTS_DATABASE_URL` set (a streaming replica of the primary), the settings add a
`reports` database. Inside `reporting()` — the outcomes dashboard, its CSV figures and the
TEDS export — reads of clinical records go there, so a heavy report never competes with
the morning's attendance for the primary. Everything else reads and writes the primary:
sessions, accounts and roles, and the audit log, whose chain head is locked with
SELECT … FOR UPDATE and must never be read from a replica. Without the setting nothing
changes.

A replica lags the primary by a moment; a report is a summary over months, so that is
acceptable, and the pages say the figures are as of when they were drawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.db import connections

REPORTS = "reports"

# Apps whose records a report reads. The audit log (core), accounts, sessions and the API's
# tokens stay on the primary.
REPORT_APPS = frozenset(
    {
        "programs",
        "participants",
        "intake",
        "instruments",
        "scheduling",
        "attendance",
        "screening",
        "discharge",
        "alumni",
        "outcomes",
    }
)

_reporting: ContextVar[bool] = ContextVar("openiop_reporting", default=False)


@contextlib.contextmanager
def reporting() -> Iterator[None]:
    token = _reporting.set(True)
    try:
        yield
    finally:
        _reporting.reset(token)


def report_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a read-only report view with its record reads on the replica (if there is one)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with reporting():
            return view(*args, **kwargs)

    return wrapper


class ReportsRouter:
    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if (
            _reporting.get()
            and model._meta.app_label in REPORT_APPS
            and REPORTS in connections.databases
        ):
            return REPORTS
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # The replica follows the primary's schema through replication.
        return db != REPORTS
