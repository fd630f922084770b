"""The audit log's hash chain: tamper-evidence for 45 CFR 170.315(d)(2) and (d)(10).

ONC asks that audit entries cannot be changed, overwritten or deleted by the software,
and that the software can *detect* an altered log (DOMAIN.md §3). Three layers:

1. **The chain.** Every event carries `seq` (1, 2, 3… with no gaps), `prev_hash` (the
   hash of event seq − 1; empty for seq 1) and `hash`: SHA-256 (hex) of `prev_hash`
   followed by the canonical JSON of the event (`canonical_bytes`). Changing any
   recorded field breaks that event's hash; deleting an event leaves a gap in `seq`;
   re-hashing an edited event breaks the next event's `prev_hash`. The chain head
   (`AuditChainHead`) names the last event, so events deleted at the end are noticed too.
   `core.audit.record` is the only writer: it locks the head row, so concurrent writers
   cannot fork the chain.
2. **The database refuses** UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of audit
   events, and lets the head row only move forward by one event at a time
   (`install_triggers`). The model refuses save-after-create and delete as well.
3. **Verification** (`verify_chain`): `openiop audit verify`, the *Verify the audit
   chain* button on the audit log, and the nightly `core.verify_audit_chain` job walk the
   chain in `seq` order and report the first broken link.

The canonical form is frozen: changing it would make every stored event fail
verification. It is versioned (`"v": 1`) so that a future form can sit beside it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# Every recorded field of an event, in the order of the model. `seq` is hashed too. The
# trigger SQL below names the tables (core_auditevent, core_auditchainhead) literally.
CHAIN_FIELDS = (
    "at",
    "actor_id",
    "actor_username",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "participant_id",
    "request_id",
    "client_ip",
    "path",
    "source",
    "changes",
    "reason",
)
CANONICAL_VERSION = 1
EVENT_TABLE = "core_auditevent"
HEAD_TABLE = "core_auditchainhead"
HEAD_ID = 1


# --- the canonical form ------------------------------------------------------------------


def canonical_at(value: dt.datetime) -> str:
    """UTC, always with microseconds: both databases keep microseconds, and a naive value
    (USE_TZ off, never in OpenIOP) is taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_ip(value: Any) -> str | None:
    """The address as version and packed bytes ("4:0a010203"): PostgreSQL's inet type
    rewrites IPv6 text (and Python's str() of IPv4-mapped addresses changed in 3.13),
    so the text as written is not what comes back."""
    if value is None or value == "":
        return None
    try:
        ip = ipaddress.ip_address(str(value))
    except ValueError:
        return f"raw:{value}"
    return f"{ip.version}:{ip.packed.hex()}"


def clean_ip(value: Any) -> str | None:
    """What `record` stores: a valid address in its usual form, or None (a forged
    X-Forwarded-For header must not make the insert fail)."""
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(str(value).strip()))
    except ValueError:
        return None


def jsonable(value: Any) -> Any:
    """`changes` as it survives a round trip through either database's JSON column.

    Keys become strings; a whole float becomes an int (PostgreSQL's jsonb prints 1e16 as
    10000000000000000, which reads back as an int); NaN and infinities, which JSON cannot
    hold, and any other object become strings. `record` stores this form, and the hash
    is taken over it, so the stored value and the hashed one are the same.
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return str(value)


def canonical_bytes(seq: int, fields: Mapping[str, Any]) -> bytes:
    """The canonical JSON of one event: sorted keys, no spaces, ASCII only."""
    doc = {
        "v": CANONICAL_VERSION,
        "seq": int(seq),
        "at": canonical_at(fields["at"]),
        "actor_id": fields["actor_id"],
        "actor_username": fields["actor_username"] or "",
        "action": fields["action"],
        "object_type": fields["object_type"] or "",
        "object_id": fields["object_id"] or "",
        "object_repr": fields["object_repr"] or "",
        "participant_id": fields["participant_id"],
        "request_id": fields["request_id"] or "",
        "client_ip": canonical_ip(fields["client_ip"]),
        "path": fields["path"] or "",
        "source": fields["source"] or "",
        "changes": jsonable(fields["changes"] if fields["changes"] is not None else {}),
        "reason": fields["reason"] or "",
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    ).encode("ascii")


def link_hash(prev_hash: str, seq: int, fields: Mapping[str, Any]) -> str:
    """SHA-256 (FIPS 180-4; ≥ SHA-2 as §170.210(c)(2) asks) of prev_hash + the event."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_bytes(seq, fields)).hexdigest()


def chain_rows(
    rows: Iterable[dict[str, Any]], prev_hash: str = "", seq: int = 0
) -> Iterator[tuple[int, int, str, str]]:
    """(id, seq, prev_hash, hash) for events given in chain order (the data migration)."""
    for row in rows:
        seq += 1
        digest = link_hash(prev_hash, seq, row)
        yield row["id"], seq, prev_hash, digest
        prev_hash = digest


# --- the database's refusal ------------------------------------------------------------------

_SQLITE_TRIGGERS = {
    "core_auditevent_no_update": """
        CREATE TRIGGER IF NOT EXISTS core_auditevent_no_update
        BEFORE UPDATE ON core_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
    "core_auditevent_no_delete": """
        CREATE TRIGGER IF NOT EXISTS core_auditevent_no_delete
        BEFORE DELETE ON core_auditevent
        BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
    "core_auditchainhead_forward_only": """
        CREATE TRIGGER IF NOT EXISTS core_auditchainhead_forward_only
        BEFORE UPDATE ON core_auditchainhead
        WHEN NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
            SELECT 1 FROM core_auditevent WHERE seq = NEW.seq AND hash = NEW.hash)
        BEGIN SELECT RAISE(ABORT,
            'the audit chain head only moves forward, to the event just written'); END""",
    "core_auditchainhead_no_delete": """
        CREATE TRIGGER IF NOT EXISTS core_auditchainhead_no_delete
        BEFORE DELETE ON core_auditchainhead
        BEGIN SELECT RAISE(ABORT, 'the audit chain head is never deleted'); END""",
}

_PG_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION openiop_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END $$""",
    """
    CREATE OR REPLACE FUNCTION openiop_audit_head_forward() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'UPDATE' THEN
            RAISE EXCEPTION 'the audit chain head is never deleted: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.id <> OLD.id OR NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
            SELECT 1 FROM core_auditevent WHERE seq = NEW.seq AND hash = NEW.hash
        ) THEN
            RAISE EXCEPTION 'the audit chain head only moves forward, to the event just written'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END $$""",
]
_PG_TRIGGERS = {
    "core_auditevent_append_only": """
        CREATE OR REPLACE TRIGGER core_auditevent_append_only
        BEFORE UPDATE OR DELETE ON core_auditevent
        FOR EACH ROW EXECUTE FUNCTION openiop_audit_refuse()""",
    "core_auditevent_no_truncate": """
        CREATE OR REPLACE TRIGGER core_auditevent_no_truncate
        BEFORE TRUNCATE ON core_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_refuse()""",
    "core_auditchainhead_forward_only": """
        CREATE OR REPLACE TRIGGER core_auditchainhead_forward_only
        BEFORE UPDATE OR DELETE ON core_auditchainhead
        FOR EACH ROW EXECUTE FUNCTION openiop_audit_head_forward()""",
    "core_auditchainhead_no_truncate": """
        CREATE OR REPLACE TRIGGER core_auditchainhead_no_truncate
        BEFORE TRUNCATE ON core_auditchainhead
        FOR EACH STATEMENT EXECUTE FUNCTION openiop_audit_head_forward()""",
}
_PG_TRIGGER_TABLES = {
    "core_auditevent_append_only": EVENT_TABLE,
    "core_auditevent_no_truncate": EVENT_TABLE,
    "core_auditchainhead_forward_only": HEAD_TABLE,
    "core_auditchainhead_no_truncate": HEAD_TABLE,
}


def trigger_names(connection: BaseDatabaseWrapper) -> list[str]:
    if connection.vendor == "postgresql":
        return list(_PG_TRIGGERS)
    if connection.vendor == "sqlite":
        return list(_SQLITE_TRIGGERS)
    return []


def _tables_exist(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        names = set(connection.introspection.table_names(cursor))
    return {EVENT_TABLE, HEAD_TABLE} <= names


def install_triggers(connection: BaseDatabaseWrapper) -> None:
    """Make the database refuse changes to audit events (idempotent).

    Called by migration 0004, after `flush`, and after every `migrate` (a migration that
    rebuilds the table on SQLite, as adding a column there does, drops its triggers).
    Other databases are not supported by OpenIOP; there the model's refusal remains.
    """
    if connection.vendor not in ("postgresql", "sqlite") or not _tables_exist(connection):
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in [*_PG_FUNCTIONS, *_PG_TRIGGERS.values()]:
                cursor.execute(sql)
        else:
            for sql in _SQLITE_TRIGGERS.values():
                cursor.execute(sql)


def remove_triggers(connection: BaseDatabaseWrapper) -> None:
    """Lift the refusal, as a database owner can: for `flush` (which empties every table)
    and for tests that play a tamperer. Reinstall with `install_triggers`."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if not _tables_exist(connection):
                return
            for name, table in _PG_TRIGGER_TABLES.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        elif connection.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def triggers_installed(connection: BaseDatabaseWrapper) -> bool:
    """Are all the refusing triggers present (and, on PostgreSQL, enabled)?"""
    names = trigger_names(connection)
    if not names:
        return False
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = ANY(%s) AND tgenabled <> 'D'",
                [names],
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name IN ('core_auditevent', 'core_auditchainhead') "
                "AND name LIKE 'core_audit%'"
            )
        (count,) = cursor.fetchone()
    return count == len(names)


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain. `ok` is about the chain itself; `protected`
    says whether the database still refuses changes (a separate warning)."""

    ok: bool
    events: int
    message: str
    head_seq: int = 0
    head_hash: str = ""
    broken_seq: int | None = None
    broken_event_id: int | None = None
    protected: bool = True

    @property
    def summary(self) -> str:
        text = self.message
        if not self.protected:
            text += (
                " Warning: the database triggers that refuse changes to audit events are"
                " missing or disabled; run `openiop audit protect`."
            )
        return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def verify_chain(
    *, chunk_size: int = 2000, anchor: tuple[int, str] | None = None, using: str = "default"
) -> ChainReport:
    """Walk the chain in `seq` order and report the first broken link.

    Memory stays flat (a database cursor read in chunks). The head is read first and
    only events up to it are checked, so events written meanwhile are left for the next
    run. `anchor` (seq, hash) is a head noted down earlier (printed by every run): if
    that event no longer has that hash, the log was rewritten even if it is consistent.
    """
    from django.db import connections

    from .models import AuditChainHead, AuditEvent

    connection = connections[using]
    protected = triggers_installed(connection)
    head = AuditChainHead.objects.using(using).filter(pk=HEAD_ID).values_list("seq", "hash")
    head_row = head.first()

    def broken(message: str, seq: int | None, event_id: int | None, count: int) -> ChainReport:
        return ChainReport(
            ok=False,
            events=count,
            message=f"BROKEN: {message}",
            head_seq=head_row[0] if head_row else 0,
            head_hash=head_row[1] if head_row else "",
            broken_seq=seq,
            broken_event_id=event_id,
            protected=protected,
        )

    events = AuditEvent.objects.using(using).order_by("seq")
    if head_row is not None:
        events = events.filter(seq__lte=head_row[0])
    columns = ("id", "seq", "prev_hash", "hash", *CHAIN_FIELDS)
    expected, prev_hash, prev_id, count = 1, "", None, 0
    anchor_found = anchor is None
    for values in events.values_list(*columns).iterator(chunk_size=chunk_size):
        row = dict(zip(columns, values, strict=True))
        event_id, seq = row["id"], row["seq"]
        if seq != expected:
            gap = seq - expected
            if prev_id is None:
                first = "the first event" if gap == 1 else f"the first {gap} events"
                what = (
                    f"{first} of the log, before #{event_id} (seq {seq}), "
                    f"{'was' if gap == 1 else 'were'} deleted"
                )
            elif gap == 1:
                what = (
                    f"the event between #{prev_id} (seq {expected - 1}) and #{event_id} "
                    f"(seq {seq}) was deleted"
                )
            else:
                what = (
                    f"the {gap} events between #{prev_id} (seq {expected - 1}) and "
                    f"#{event_id} (seq {seq}) were deleted"
                )
            missing = f"seq {expected} is" if gap == 1 else f"seq {expected}–{seq - 1} are"
            return broken(f"{missing} missing: {what}.", expected, event_id, count)
        if row["prev_hash"] != prev_hash:
            return broken(
                f"event #{event_id} (seq {seq}) is not linked to seq {seq - 1}: its "
                f"prev_hash does not match that event's hash (seq {seq - 1} was altered "
                "and its hash recomputed, or this link was edited).",
                seq,
                event_id,
                count,
            )
        if link_hash(prev_hash, seq, row) != row["hash"]:
            return broken(
                f"event #{event_id} (seq {seq}) was altered: its hash does not match its "
                "contents.",
                seq,
                event_id,
                count,
            )
        if anchor is not None and seq == anchor[0]:
            if row["hash"] != anchor[1]:
                return broken(
                    f"event #{event_id} (seq {seq}) no longer has the hash noted down for it "
                    f"({anchor[1][:12]}…): the log was rewritten from there on.",
                    seq,
                    event_id,
                    count,
                )
            anchor_found = True
        prev_hash, prev_id, expected, count = row["hash"], event_id, seq + 1, count + 1

    last_seq = expected - 1
    if head_row is None:
        if count:
            return broken(
                f"the chain head is missing, but the log holds {_plural(count, 'event')}.",
                None,
                None,
                count,
            )
    elif last_seq < head_row[0]:
        lost = head_row[0] - last_seq
        after = f"after #{prev_id} (seq {last_seq})" if prev_id else "of the log"
        return broken(
            f"the chain head says the log ends at seq {head_row[0]}, but it ends at seq "
            f"{last_seq}: the last {_plural(lost, 'event')} ({after}) "
            f"{'was' if lost == 1 else 'were'} deleted.",
            last_seq + 1,
            None,
            count,
        )
    elif head_row[1] != prev_hash:
        return broken(
            f"the chain head's hash does not match the last event, #{prev_id} (seq "
            f"{last_seq}): the head or that event was altered.",
            last_seq,
            prev_id,
            count,
        )
    if anchor is not None and not anchor_found:
        return broken(f"seq {anchor[0]}, noted down earlier, is not in the log.", None, None, count)
    head_seq, head_hash = head_row if head_row else (0, "")
    return ChainReport(
        ok=True,
        events=count,
        message=(
            f"OK: {_plural(count, 'event')}, every link intact"
            + (f"; the chain ends at seq {head_seq}, hash {head_hash}." if count else ".")
        ),
        head_seq=head_seq,
        head_hash=head_hash,
        protected=protected,
    )


def parse_anchor(text: str) -> tuple[int, str]:
    """'SEQ:HASH' as printed by a run, for `--anchor`."""
    seq_text, _, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not seq_text.isascii() or not seq_text.isdigit() or len(seq_text) > 18:
        raise ValueError("An anchor is SEQ:HASH, e.g. 1204:3f9a…, as printed by a run.")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError("The hash of an anchor is 64 hexadecimal characters.")
    return int(seq_text), digest
