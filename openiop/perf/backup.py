"""`openiop backup` and `openiop restore`: a whole database to one file and back (issue 13,
point 5, the last fault: "identical row counts and per-table checksums").

The file is a gzip'd stream of JSON lines, one record a line:

    {"kind": "header", "format": "openiop-backup", "version": 1, "migrations": [...], ...}
    {"kind": "table", "table": "participants_participant", "columns": [...], "kinds": [...]}
    [1, "2024-05-01T13:00:00.000000Z", ...]          one line per row, ordered by primary key
    {"kind": "end", "table": "participants_participant", "rows": 150, "sha256": "..."}
    ...                                                every table, referenced tables first
    {"kind": "manifest", "version": 1, "migrations": [...], "tables": {table: {rows, sha256}}}

Every table of every installed model is in it (Django's auth, contenttypes and sessions
tables too); the migrations table is not copied but its list of applied migrations is
recorded, and a restore requires the code to have exactly that list (restore with the
release that made the backup, then upgrade with `migrate`).

The per-table checksum is SHA-256 over the column names and then each row's *canonical*
form (`canonical`), in primary-key order (text keys in byte order, so "C" collation on
PostgreSQL): values are normalised so that SQLite and PostgreSQL give the same bytes for
the same data — datetimes in UTC with microseconds, decimals at the field's scale, booleans
as JSON booleans, JSON with sorted keys and whole floats as integers (as the audit chain
does, `core.chain.jsonable`), binary as hex, IP addresses as version and packed bytes. The
rows themselves are kept in the file losslessly (`encode`); only the checksum normalises.

The backup reads every table in one read-only snapshot (PostgreSQL REPEATABLE READ, as
pg_dump does; on SQLite one deferred read transaction, which WAL mode keeps consistent
without blocking writers), streams rows (a server-side cursor, never a whole table in
memory), writes to a private temporary file (mode 0600: it holds 42 CFR Part 2 records)
and renames it into place only when complete.

The restore refuses a target holding any data beyond what `migrate` seeds, creates the
schema if needed, then in ONE transaction: lifts the audit log's triggers (migrate's seed
rows, the chain head among them, must be replaced), deletes the seed rows, loads every
table in dependency order in batches with plain INSERTs (no model `save()`, no signals:
signed notes and plans go back exactly as they were), checks each table's rows against
the file's checksum, resets PostgreSQL's sequences, reinstalls the triggers, checks the
foreign keys, then recomputes every table's count and checksum from the database and
walks the audit chain. Any difference rolls the whole load back.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.functions import Collate

from openiop.core import chain

FORMAT = "openiop-backup"
FORMAT_VERSION = 1
READ_CHUNK = 2000
INSERT_BATCH = 1000

# Tables that `migrate` itself fills (a freshly migrated database has rows in these and in
# no other): content types and permissions (post_migrate), the audit chain head (core
# 0004), the intervention library (plans 0002), the screening panels (screening 0002).
# A target with rows in any other table holds data, and a restore refuses it.
SEEDED_BY_MIGRATE = frozenset(
    {
        "django_content_type",
        "auth_permission",
        chain.HEAD_TABLE,
        "plans_interventiontemplate",
        "screening_analyte",
        "screening_panel",
        "screening_panelanalyte",
    }
)

# Django's internal field types by how their values are carried and compared.
_KINDS = {
    "int": {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    },
    "bool": {"BooleanField", "NullBooleanField"},
    "text": {
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
        "FilePathField",
        "FileField",
        "ImageField",
    },
    "float": {"FloatField"},
    "decimal": {"DecimalField"},
    "datetime": {"DateTimeField"},
    "date": {"DateField"},
    "time": {"TimeField"},
    "duration": {"DurationField"},
    "uuid": {"UUIDField"},
    "binary": {"BinaryField"},
    "json": {"JSONField"},
    "ip": {"GenericIPAddressField", "IPAddressField"},
}
_KIND_OF = {internal: kind for kind, names in _KINDS.items() for internal in names}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why (and which tables)."""


class TargetNotEmpty(BackupError):
    """The restore's target holds data: restoring over it would destroy that data."""


class VerificationFailed(BackupError):
    def __init__(self, message: str, tables: list[str]) -> None:
        super().__init__(message)
        self.tables = tables


# --- what is backed up -----------------------------------------------------------------------


@dataclass
class TableSpec:
    """One table: its model, its columns (the model's concrete fields) and their kinds."""

    table: str
    model: type[models.Model]
    fields: list[models.Field[Any, Any]]
    columns: list[str]
    kinds: list[str]


def _kind(model_field: models.Field[Any, Any]) -> str:
    target = model_field
    while target.is_relation and target.related_model is not None:
        target = target.target_field  # type: ignore[attr-defined]
    internal = target.get_internal_type()
    try:
        return _KIND_OF[internal]
    except KeyError:
        raise BackupError(
            f"{model_field.model._meta.label}.{model_field.name}: the backup does not know how "
            f"to carry a {internal}; add it to openiop/perf/backup.py (_KINDS)."
        ) from None


def table_specs() -> list[TableSpec]:
    """Every table of the installed models (many-to-many tables included), referenced
    tables before the tables that reference them (cycles, if any, are left to the
    deferred foreign-key checks)."""
    by_table: dict[str, type[models.Model]] = {}
    for model in apps.get_models(include_auto_created=True):
        opts = model._meta
        if opts.proxy or not opts.managed or opts.swapped:
            continue
        by_table.setdefault(opts.db_table, model)
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(table: str) -> None:
        if state.get(table):
            return  # done, or on the current path (a cycle)
        state[table] = 1
        for f in by_table[table]._meta.local_concrete_fields:
            if f.is_relation and f.related_model is not None:
                ref = f.related_model._meta.db_table  # type: ignore[union-attr]
                if ref != table and ref in by_table:
                    visit(ref)
        state[table] = 2
        order.append(table)

    for table in sorted(by_table):
        visit(table)
    specs = []
    for table in order:
        model = by_table[table]
        fields = list(model._meta.local_concrete_fields)
        specs.append(
            TableSpec(
                table=table,
                model=model,
                fields=fields,
                columns=[f.column for f in fields],
                kinds=[_kind(f) for f in fields],
            )
        )
    return specs


# --- the values: in the file (lossless) and in the checksum (canonical) -------------------


def _utc(value: dt.datetime) -> str:
    return chain.canonical_at(value)


def encode(kind: str, value: Any) -> Any:
    """A database value (as the ORM returns it) as JSON, without loss."""
    if value is None:
        return None
    if kind == "datetime":
        return _utc(value)
    if kind in ("date", "uuid", "ip"):
        return str(value)
    if kind == "time":
        return value.strftime("%H:%M:%S.%f")
    if kind == "duration":
        return (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    if kind == "decimal":
        return format(value, "f")
    if kind == "binary":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "float" and isinstance(value, float) and value != value:  # NaN
        return "NaN"
    return value


def canonical(kind: str, value: Any, field_: models.Field[Any, Any] | None = None) -> Any:
    """An encoded value as the checksum sees it: the same for the same data whichever
    database it was read from."""
    if value is None:
        return None
    if kind == "json":
        return chain.jsonable(value)
    if kind == "ip":
        return chain.canonical_ip(value)
    if kind == "decimal":
        places = getattr(field_, "decimal_places", None)
        number = Decimal(value)
        if places is not None and number.is_finite():
            number = number.quantize(Decimal(1).scaleb(-places))
        return format(number, "f")
    if kind == "binary":
        return base64.b64decode(value).hex()
    if kind == "float" and isinstance(value, float):
        return repr(value)
    return value


def _decoder(
    kind: str, model_field: models.Field[Any, Any], connection: BaseDatabaseWrapper
) -> Callable[[Any], Any]:
    """Encoded value -> the parameter an INSERT into this column takes."""
    if kind in ("int", "text", "bool"):
        return lambda v: v
    prep = model_field.get_db_prep_save
    if kind == "json":
        json_null = connection.ops.adapt_json_value(None, getattr(model_field, "encoder", None))

        def json_value(v: Any) -> Any:
            if v is None and not model_field.null:
                return json_null  # a JSON null in a NOT NULL column, not SQL NULL
            return prep(v, connection)

        return json_value
    parsers: dict[str, Callable[[Any], Any]] = {
        "datetime": lambda v: dt.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=dt.UTC
        ),
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "duration": lambda v: dt.timedelta(microseconds=v),
        "decimal": Decimal,
        "uuid": uuid.UUID,
        "binary": base64.b64decode,
        "float": float,
        "ip": str,
    }
    parse = parsers[kind]
    return lambda v: None if v is None else prep(parse(v), connection)


class _Digest:
    """SHA-256 over the column names, then each row's canonical JSON, one per line."""

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.rows = 0
        self._hash = hashlib.sha256(_dumps_canonical(spec.columns) + b"\n")

    def add(self, encoded_row: list[Any]) -> None:
        spec = self.spec
        row = [
            canonical(kind, value, f)
            for kind, value, f in zip(spec.kinds, encoded_row, spec.fields, strict=True)
        ]
        self._hash.update(_dumps_canonical(row) + b"\n")
        self.rows += 1

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def _dumps_canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def _dumps_line(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def _rows(spec: TableSpec, using: str) -> Iterator[list[Any]]:
    """The table's rows, encoded, in primary-key order (text keys in byte order: "C" on
    PostgreSQL is what SQLite's default BINARY collation does)."""
    pk = spec.model._meta.pk
    if pk is None:  # every concrete model has one; this is for the type checker
        raise BackupError(f"{spec.table} has no primary key.")
    order: Any = pk.attname
    if _kind(pk) == "text" and connections[using].vendor == "postgresql":
        order = Collate(pk.attname, "C")
    names = [f.attname for f in spec.fields]
    query = spec.model._base_manager.using(using).order_by(order).values_list(*names)
    for values in query.iterator(chunk_size=READ_CHUNK):
        yield [encode(k, v) for k, v in zip(spec.kinds, values, strict=True)]


def database_digests(using: str = "default") -> dict[str, dict[str, Any]]:
    """Per table, the row count and checksum of the database as it is now."""
    result = {}
    for spec in table_specs():
        digest = _Digest(spec)
        for row in _rows(spec, using):
            digest.add(row)
        result[spec.table] = {"rows": digest.rows, "sha256": digest.hexdigest()}
    return result


def applied_migrations(using: str = "default") -> list[list[str]]:
    recorder = MigrationRecorder(connections[using])
    return sorted([app, name] for app, name in recorder.applied_migrations())


# --- backup ----------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    seconds: float
    size: int


class _Snapshot:
    """One read-only transaction around the whole backup (see the module's docstring).
    Inside an atomic block already (a test), that block's transaction is used."""

    def __init__(self, using: str) -> None:
        self.connection = connections[using]
        self.using = using
        self._atomic: Any = None
        self._sqlite_begun = False

    def __enter__(self) -> None:
        conn = self.connection
        conn.ensure_connection()
        if conn.in_atomic_block:
            return
        if conn.vendor == "sqlite":
            # Not atomic(): OpenIOP opens SQLite transactions IMMEDIATE, which would hold
            # the write lock for the whole backup. A deferred one reads a snapshot.
            with conn.cursor() as cursor:
                cursor.execute("BEGIN DEFERRED")
            self._sqlite_begun = True
            return
        self._atomic = transaction.atomic(using=self.using)
        self._atomic.__enter__()
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def __exit__(self, *exc: Any) -> None:
        if self._sqlite_begun:
            with self.connection.cursor() as cursor:
                cursor.execute("ROLLBACK")  # nothing was written
        elif self._atomic is not None:
            self._atomic.__exit__(*exc)


def backup(
    path: str | Path, *, using: str = "default", log: Callable[[str], None] | None = None
) -> BackupResult:
    """Write the whole database to `path` (gzip'd JSON lines, mode 0600); see the module."""
    started = time.monotonic()
    dest = Path(path)
    specs = table_specs()
    connection = connections[using]
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with (
                gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as out,
                _Snapshot(using),
            ):
                manifest = _write(out, specs, using, connection.vendor, log)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return BackupResult(
        path=dest, manifest=manifest, seconds=time.monotonic() - started, size=dest.stat().st_size
    )


def _write(
    out: gzip.GzipFile,
    specs: list[TableSpec],
    using: str,
    vendor: str,
    log: Callable[[str], None] | None,
) -> dict[str, Any]:
    migrations = applied_migrations(using)
    out.write(
        _dumps_line(
            {
                "kind": "header",
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created": _utc(dt.datetime.now(dt.UTC)),
                "source": vendor,
                "migrations": migrations,
                "tables": [s.table for s in specs],
            }
        )
    )
    tables: dict[str, dict[str, Any]] = {}
    for spec in specs:
        out.write(
            _dumps_line(
                {
                    "kind": "table",
                    "table": spec.table,
                    "model": spec.model._meta.label,
                    "columns": spec.columns,
                    "kinds": spec.kinds,
                }
            )
        )
        digest = _Digest(spec)
        for row in _rows(spec, using):
            digest.add(row)
            out.write(_dumps_line(row))
        tables[spec.table] = {"rows": digest.rows, "sha256": digest.hexdigest()}
        out.write(_dumps_line({"kind": "end", "table": spec.table, **tables[spec.table]}))
        if log and digest.rows:
            log(f"  {spec.table}: {digest.rows} rows")
    manifest = {
        "kind": "manifest",
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "migrations": migrations,
        "tables": tables,
        "total_rows": sum(t["rows"] for t in tables.values()),
    }
    out.write(_dumps_line(manifest))
    return manifest


# --- reading a file --------------------------------------------------------------------------


def _records(path: Path) -> Iterator[Any]:
    try:
        with gzip.open(path, "rb") as stream:
            for number, line in enumerate(stream, start=1):
                try:
                    yield json.loads(line)
                except ValueError:
                    raise BackupError(f"{path}: line {number} is not JSON.") from None
    except (OSError, EOFError) as exc:
        raise BackupError(f"{path}: not a complete gzip'd backup ({exc}).") from None


def _header(record: Any, path: Path) -> dict[str, Any]:
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise BackupError(f"{path} is not an OpenIOP backup.")
    if record.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} is a version {record.get('version')} backup; this release reads "
            f"version {FORMAT_VERSION}."
        )
    return record


# --- restore ---------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    restored: dict[str, dict[str, Any]]
    chain: chain.ChainReport
    seconds: float
    migrated: bool = False
    # Where the time went: schema (migrate), load (delete seeds, insert, sequences,
    # triggers, foreign keys), verify (checksums from the database, the audit chain).
    timings: dict[str, float] | None = None


def data_tables(using: str = "default") -> dict[str, int]:
    """Tables of the target (beyond what migrate seeds) that hold rows, with their counts."""
    connection = connections[using]
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    found = {}
    for spec in table_specs():
        if spec.table in existing and spec.table not in SEEDED_BY_MIGRATE:
            count = spec.model._base_manager.using(using).count()
            if count:
                found[spec.table] = count
    return found


def _known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return set(loader.graph.nodes)


def restore(
    path: str | Path, *, using: str = "default", log: Callable[[str], None] | None = None
) -> RestoreResult:
    """Restore a backup into an empty database `using`; see the module's docstring."""
    from django.core.management import call_command

    started = time.monotonic()
    src = Path(path)
    if not src.is_file():
        raise BackupError(f"{src}: no such file.")
    records = _records(src)
    header = _header(next(records, None), src)
    wanted = {(a, n) for a, n in header["migrations"]}
    unknown = wanted - _known_migrations()
    if unknown:
        raise BackupError(
            "The backup was made by a later release: this code lacks the migrations "
            + ", ".join(f"{a}.{n}" for a, n in sorted(unknown))
            + ". Restore with that release."
        )
    held = data_tables(using)
    if held:
        listing = ", ".join(f"{t} ({n} rows)" for t, n in sorted(held.items())[:8])
        raise TargetNotEmpty(
            f"The target database holds data ({len(held)} tables, e.g. {listing}). A restore "
            "goes only into an empty database; create a new one (or drop this one) first."
        )
    connection = connections[using]
    migrated = False
    if {tuple(m) for m in applied_migrations(using)} != wanted:
        if log:
            log("Creating the schema (migrate)...")
        call_command("migrate", database=using, interactive=False, verbosity=0)
        migrated = True
        now_applied = {(a, n) for a, n in applied_migrations(using)}
        if now_applied != wanted:
            missing = sorted(now_applied - wanted)
            raise BackupError(
                "The backup was made before migrations that this code has: "
                + ", ".join(f"{a}.{n}" for a, n in missing[:10])
                + ". Restore with the release that made it, then run `openiop migrate`."
            )
    t_schema = time.monotonic() - started
    specs = {s.table: s for s in table_specs()}
    with transaction.atomic(using=using):
        t0 = time.monotonic()
        if data_tables(using):  # written to between the check above and now
            raise TargetNotEmpty("The target database was written to while restoring.")
        chain.remove_triggers(connection)
        with connection.cursor() as cursor:
            for table in reversed(list(specs)):
                # Our own table names, quoted: not input.
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608
        manifest, loaded = _load(records, specs, connection, src, log)
        for sql in connection.ops.sequence_reset_sql(no_style(), [s.model for s in specs.values()]):
            with connection.cursor() as cursor:
                cursor.execute(sql)
        chain.install_triggers(connection)
        try:
            connection.check_constraints()
        except DatabaseError as exc:
            raise BackupError(f"A foreign key of the restored rows is broken: {exc}") from exc
        t_load = time.monotonic() - t0
        if log:
            log("Verifying: counts and checksums recomputed from the database...")
        t0 = time.monotonic()
        restored = database_digests(using)
        mismatched = [
            t
            for t in sorted(set(manifest["tables"]) | set(restored))
            if manifest["tables"].get(t) != restored.get(t)
        ]
        report = chain.verify_chain(using=using)
        if mismatched:
            raise VerificationFailed(
                "The restored database differs from the backup in "
                + ", ".join(mismatched)
                + "; nothing was restored.",
                mismatched,
            )
        if not report.ok:
            raise VerificationFailed(
                f"The restored audit chain does not verify: {report.message}", [chain.EVENT_TABLE]
            )
        t_verify = time.monotonic() - t0
    return RestoreResult(
        manifest=manifest,
        restored=restored,
        chain=report,
        seconds=time.monotonic() - started,
        migrated=migrated,
        timings={"schema": t_schema, "load": t_load, "verify": t_verify},
    )


def _load(
    records: Iterator[Any],
    specs: dict[str, TableSpec],
    connection: BaseDatabaseWrapper,
    src: Path,
    log: Callable[[str], None] | None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    qn = connection.ops.quote_name
    loaded: dict[str, dict[str, Any]] = {}
    spec: TableSpec | None = None
    digest: _Digest | None = None
    decoders: list[Callable[[Any], Any]] = []
    batch: list[list[Any]] = []
    sql = ""

    # One statement, many rows: executemany (psycopg pipelines it, sqlite3 reuses the
    # prepared statement). Multi-row VALUES was tried and was slower on PostgreSQL:
    # psycopg's client-side binding re-parses every long statement.
    def flush() -> None:
        if batch:
            try:
                with connection.cursor() as cursor:
                    cursor.executemany(sql, batch)
            except DatabaseError as exc:
                table = spec.table if spec else "?"
                raise BackupError(f"{table}: the database refused a row: {exc}") from exc
            batch.clear()

    for record in records:
        if isinstance(record, list):
            if spec is None or digest is None:
                raise BackupError(f"{src}: a row outside any table.")
            digest.add(record)
            batch.append([d(v) for d, v in zip(decoders, record, strict=True)])
            if len(batch) >= INSERT_BATCH:
                flush()
            continue
        kind = record.get("kind") if isinstance(record, dict) else None
        if kind == "table":
            table = record["table"]
            if table not in specs:
                raise BackupError(f"{src}: table {table} is not one of this release's tables.")
            if table in loaded:
                raise BackupError(f"{src}: table {table} appears twice.")
            spec = specs[table]
            if record["columns"] != spec.columns or record["kinds"] != spec.kinds:
                raise BackupError(
                    f"{table}: the backup's columns differ from this release's "
                    f"({record['columns']} against {spec.columns})."
                )
            digest = _Digest(spec)
            decoders = [
                _decoder(k, f, connection) for k, f in zip(spec.kinds, spec.fields, strict=True)
            ]
            sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (our names, quoted)
                qn(table), ", ".join(qn(c) for c in spec.columns), ", ".join(["%s"] * len(decoders))
            )
        elif kind == "end":
            if spec is None or digest is None or record.get("table") != spec.table:
                raise BackupError(f"{src}: a table's end without its start.")
            flush()
            got = {"rows": digest.rows, "sha256": digest.hexdigest()}
            if got != {"rows": record.get("rows"), "sha256": record.get("sha256")}:
                raise VerificationFailed(
                    f"{spec.table}: the rows in the file do not match the checksum written "
                    f"with them ({got['rows']} rows read, {record.get('rows')} written): the "
                    "file was altered or damaged. Nothing was restored.",
                    [spec.table],
                )
            loaded[spec.table] = got
            if log and digest.rows:
                log(f"  {spec.table}: {digest.rows} rows")
            spec, digest = None, None
        elif kind == "manifest":
            if spec is not None:
                raise BackupError(f"{src}: the manifest comes inside table {spec.table}.")
            bad = sorted(
                t
                for t in set(record.get("tables", {})) | set(loaded)
                if record.get("tables", {}).get(t) != loaded.get(t)
            )
            if bad:
                raise VerificationFailed(
                    f"The manifest does not match the tables in the file: {', '.join(bad)}. "
                    "Nothing was restored.",
                    bad,
                )
            missing = sorted(set(specs) - set(loaded))
            if missing:
                raise BackupError(
                    f"{src}: the backup lacks tables of this release: {', '.join(missing)}."
                )
            if next(records, None) is not None:
                raise BackupError(f"{src}: data after the manifest.")
            return record, loaded
        else:
            raise BackupError(f"{src}: an unknown record ({str(record)[:60]}).")
    raise BackupError(f"{src}: the file ends before its manifest (a cut-off backup).")


def check_file(path: str | Path) -> dict[str, Any]:
    """Read a backup through and check every table against its checksum, without a
    database: the manifest, or BackupError."""
    src = Path(path)
    records = _records(src)
    _header(next(records, None), src)
    specs = {s.table: s for s in table_specs()}
    digest: _Digest | None = None
    for record in records:
        if isinstance(record, list):
            if digest is None:
                raise BackupError(f"{src}: a row outside any table.")
            digest.add(record)
        elif record.get("kind") == "table":
            spec = specs.get(record["table"])
            if spec is None or record["columns"] != spec.columns:
                raise BackupError(f"{record['table']}: not a table of this release.")
            digest = _Digest(spec)
        elif record.get("kind") == "end":
            if digest is None:
                raise BackupError(f"{src}: a table's end without its start.")
            if (digest.rows, digest.hexdigest()) != (record["rows"], record["sha256"]):
                raise VerificationFailed(
                    f"{record['table']}: the rows do not match their checksum.",
                    [record["table"]],
                )
            digest = None
        elif record.get("kind") == "manifest":
            return dict(record)
    raise BackupError(f"{src}: the file ends before its manifest (a cut-off backup).")


def format_table(
    manifest: dict[str, Any], restored: dict[str, dict[str, Any]] | None = None
) -> list[str]:
    """The per-table listing printed by the commands: rows, checksum, and whether the
    restored database matches."""
    lines = [f"{'table':<44} {'rows':>9}  {'sha256':<16}" + ("  restored" if restored else "")]
    for table, info in sorted(manifest["tables"].items()):
        line = f"{table:<44} {info['rows']:>9}  {info['sha256'][:16]}"
        if restored is not None:
            got = restored.get(table)
            line += "  OK" if got == info else f"  MISMATCH ({got['rows'] if got else 0} rows)"
        lines.append(line)
    return lines


# --- the round trip, for `make restore-check` (issue 13, point 5) ---------------------------


def current_database_url(using: str = "default") -> str:
    """The URL of a configured database, for the child processes of `roundtrip_check`."""
    env = os.environ.get("DATABASE_URL")
    if env and using == "default":
        return env
    s = connections[using].settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    if s["ENGINE"].endswith("postgresql"):
        auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
        return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
    raise BackupError(f"Unsupported database engine {s['ENGINE']}.")


def roundtrip_check(
    source_url: str | None = None, *, log: Callable[[str], None] = print, keep: bool = False
) -> bool:
    """Back up the database at `source_url` (the configured one by default), restore it
    into a freshly created empty database of the same kind, and print PASS or FAIL with
    the per-table counts. Each step runs as its own `openiop` process, as an operator
    would; the new database is dropped afterwards unless `keep`."""
    import dj_database_url

    source_url = source_url or current_database_url()
    source = dj_database_url.parse(source_url)
    work = Path(tempfile.mkdtemp(prefix="openiop-restore-check-"))
    work.chmod(0o700)
    dump = work / "backup.jsonl.gz"
    target_url, drop = _new_database(source_url, source, work)
    ok = False
    try:
        log(f"Backing up {_redact(source_url)} ...")
        t0 = time.monotonic()
        _run(["backup", str(dump)], source_url, log)
        t_backup = time.monotonic() - t0
        size = dump.stat().st_size
        log(f"  backup: {t_backup:.1f} s, {size / 1e6:.1f} MB")
        log(f"Restoring into the new empty database {_redact(target_url)} ...")
        t0 = time.monotonic()
        ok = _run(["restore", str(dump)], target_url, log)
        log(f"  restore (schema, load, verification): {time.monotonic() - t0:.1f} s")
    finally:
        if not keep:
            drop()
            shutil.rmtree(work, ignore_errors=True)
    log("PASS: identical row counts and per-table checksums." if ok else "FAIL (see above).")
    return ok


def _redact(url: str) -> str:
    head, sep, tail = url.rpartition("@")
    return (head.split("://")[0] + "://…@" + tail) if sep else url


def _run(args: list[str], url: str, log: Callable[[str], None]) -> bool:
    env = {**os.environ, "DATABASE_URL": url}
    proc = subprocess.run(  # noqa: S603 (this interpreter, our own command)
        [sys.executable, "-m", "openiop.cli", *args], env=env, capture_output=True, text=True
    )
    for line in (proc.stdout + proc.stderr).splitlines():
        log("  " + line)
    if proc.returncode and args[0] == "backup":
        raise BackupError(f"openiop backup failed (exit status {proc.returncode}).")
    return proc.returncode == 0


def _new_database(source_url: str, source: Any, work: Path) -> tuple[str, Callable[[], None]]:
    engine = source["ENGINE"]
    if engine.endswith("sqlite3"):
        path = work / "restored.sqlite3"
        return f"sqlite:///{path}", lambda: None
    if not engine.endswith("postgresql"):
        raise BackupError(f"Unsupported database engine {engine}.")
    import psycopg
    from psycopg import sql

    name = f"openiop_restore_check_{os.getpid()}"
    admin: dict[str, Any] = {
        "host": source["HOST"] or None,
        "port": source["PORT"] or None,
        "user": source["USER"] or None,
        "password": source["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**admin) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))

    def drop() -> None:
        with psycopg.connect(**admin) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    head, _, _ = source_url.rpartition("/")
    return f"{head}/{name}", drop
