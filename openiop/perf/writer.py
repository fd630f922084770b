"""Fast bulk inserts for the history generator (issue 13, point 1).

Twenty thousand episodes are millions of rows (attendance marks, group-note entries,
drug-screen results). Building a Django model instance per row and letting
`bulk_create` compile it costs more than everything else together, so the generator
hands plain tuples to a `TableWriter`, which fills the columns it was not given with the
fields' constant defaults, converts the few types the driver cannot take as they are,
and sends each batch with one `executemany` (SQLite) or one `COPY` (PostgreSQL). The
rows are inserted in their final state: constraints and triggers still apply, and
nothing is updated afterwards (signed rows cannot be).

Primary keys are chosen by the generator (`next_id`), so children can name their
parents without reading ids back; `reset_sequences` then moves PostgreSQL's identity
sequences past them (SQLite's AUTOINCREMENT follows on its own).
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models

BATCH = 5000
NOT_PROVIDED = models.fields.NOT_PROVIDED


def _sqlite_converter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind == "UUIDField":
        return lambda v: v if isinstance(v, str) else v.hex
    if kind == "DateTimeField":
        # Stored as naive UTC text, as Django writes it with USE_TZ. Marks and note
        # entries of one session share their stamps: remember the last ones converted.
        memo: dict[dt.datetime, str] = {}

        def stamp(v: dt.datetime) -> str:
            text = memo.get(v)
            if text is None:
                if len(memo) > 50_000:
                    memo.clear()
                text = memo[v] = v.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")
            return text

        return stamp
    if kind in ("DateField", "TimeField"):
        return lambda v: v.isoformat()
    if kind == "DecimalField":
        return str
    if kind == "JSONField":
        return json.dumps
    return None


def _postgres_converter(field: models.Field) -> Callable[[Any], Any] | None:
    # COPY in text format: psycopg sends dates, datetimes, UUIDs and decimals as they
    # are; JSON goes as its text, which the server parses into jsonb.
    if field.get_internal_type() == "JSONField":
        return json.dumps
    return None


class TableWriter:
    """Rows of one table: `add(values)` with the values of `fields` in order."""

    def __init__(self, model: type[models.Model], fields: Sequence[str], stats: Stats):
        self.model = model
        self.table = model._meta.db_table
        self.stats = stats
        by_name = {}
        for f in model._meta.concrete_fields:
            by_name[f.attname] = f
            by_name[f.name] = f
        given = [by_name[name] for name in fields]
        # An id not given is left to the database (its AUTOINCREMENT or identity).
        rest = [
            f
            for f in model._meta.concrete_fields
            if f not in given and not (f.primary_key and isinstance(f, models.AutoField))
        ]
        constants = []
        for f in rest:
            if f.has_default():
                if callable(f.default):
                    raise ValueError(f"{self.table}.{f.name}: give it (its default is computed)")
                constants.append(f.default)
            elif f.null:
                constants.append(None)
            elif f.blank and f.get_internal_type() in ("CharField", "TextField"):
                constants.append("")
            else:
                raise ValueError(f"{self.table}.{f.name} is required")
        converter = _sqlite_converter if connection.vendor == "sqlite" else _postgres_converter
        self.columns = [f.column for f in given + rest]
        self.convert = [(i, c) for i, f in enumerate(given) if (c := converter(f)) is not None]
        rest_converters = [converter(f) for f in rest]
        self.suffix = tuple(
            c(v) if (c is not None and v is not None) else v
            for v, c in zip(constants, rest_converters, strict=True)
        )
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, values: Sequence[Any]) -> None:
        if self.convert:
            values = list(values)
            for i, fn in self.convert:
                v = values[i]
                if v is not None:
                    values[i] = fn(v)
        self.rows.append((*values, *self.suffix))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        started = time.perf_counter()
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        table = connection.ops.quote_name(self.table)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if self.count == 0:
                    self.stats.set_aside_foreign_keys(cursor, self.table)
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                # sqlite3 itself, past Django's per-row query rewriting.
                marks = ", ".join(["?"] * len(self.columns))
                raw = cursor.cursor.connection
                # Names from the model's meta, quoted; the values go as parameters.
                sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608
                raw.executemany(sql, self.rows)
        self.count += len(self.rows)
        self.stats.add(self.table, len(self.rows), time.perf_counter() - started)
        self.rows = []


class Stats:
    """Rows and insert seconds per table, for the progress report."""

    def __init__(self) -> None:
        self.tables: dict[str, list[float]] = {}
        self.set_aside: list[tuple[str, str, str]] = []

    def set_aside_foreign_keys(self, cursor: Any, table: str) -> None:
        """PostgreSQL: drop a table's foreign keys until `check_foreign_keys`.

        Checked row by row, millions of rows queue millions of deferred trigger events,
        and the commit spends minutes on them; adding the constraints back checks every
        row in one join per constraint (in the same transaction: nothing unchecked is
        ever committed, and a bad row fails the whole step).
        """
        # Checks still queued by earlier writes in this transaction (the demo built in
        # the same one, as in tests) must run first: PostgreSQL refuses to alter a table
        # with pending trigger events.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = %s::regclass ORDER BY conname",
            [table],
        )
        quoted = connection.ops.quote_name(table)
        for name, definition in cursor.fetchall():
            cursor.execute(
                f"ALTER TABLE {quoted} DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
            self.set_aside.append((table, name, definition))

    def check_foreign_keys(self) -> None:
        """Add back (and so check) the foreign keys set aside in this step."""
        with connection.cursor() as cursor:
            for table, name, definition in self.set_aside:
                cursor.execute(
                    f"ALTER TABLE {connection.ops.quote_name(table)} ADD CONSTRAINT "
                    f"{connection.ops.quote_name(name)} {definition}"
                )
        self.set_aside = []

    def add(self, table: str, rows: int, seconds: float) -> None:
        entry = self.tables.setdefault(table, [0, 0.0])
        entry[0] += rows
        entry[1] += seconds


def prepare_connection() -> None:
    """SQLite: a page cache big enough for the indexes being filled (the default 2 MB
    makes every batch re-read them from disk). For this connection only."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -400000")  # 400 MB


def next_id(model: type[models.Model]) -> int:
    """The first free primary key of a table (the generator numbers its own rows)."""
    top = model._default_manager.aggregate(top=models.Max("pk"))["top"]
    return (top or 0) + 1


def reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the ids the generator chose."""
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (0x4000 << 64)


def make_uuid(bits: int) -> uuid.UUID | str:
    """A version-4 UUID from 128 seeded random bits (deterministic for a seed): as text
    on SQLite, which stores UUIDs as 32 hex digits (building UUID objects costs more
    than the insert), as a UUID for PostgreSQL."""
    bits = (bits & _V4_CLEAR) | _V4_SET
    if connection.vendor == "sqlite":
        return f"{bits:032x}"
    return uuid.UUID(int=bits)


def hours(minutes: int) -> str:
    return str((Decimal(minutes) / 60).quantize(Decimal("0.1")))
