"""The one path by which audit events are written.

Service functions call `record(...)` inside their transaction, so the event and the
change it describes commit together or not at all. Views of protected data are
recorded by the access helper (`core.access`), never by hand in a view.

Each event is chained to the one before it (`core.chain`): `record` locks the chain
head, numbers the event, hashes it with the previous hash, inserts it and moves the
head — three queries. The head's row lock is held until the surrounding transaction
ends, so on PostgreSQL audited transactions take turns from their first `record` call
to their commit: keep them short, and call `record` after slow work, not before.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from . import chain, context
from .choices import AuditAction
from .models import AuditChainHead, AuditEvent


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed (JSON-safe strings)."""
    changed = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changed[key] = [_jsonable(old), _jsonable(new)]
    return changed


def snapshot(instance: models.Model, fields: list[str]) -> dict[str, Any]:
    return {name: _jsonable(getattr(instance, name)) for name in fields}


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, models.Model):
        return value.pk
    return str(value)


def record(
    action: AuditAction | str,
    *,
    actor: Any,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    participant_id: int | None = None,
    changes: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    ctx = context.current()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or audit_label(obj)
        if participant_id is None:
            participant_id = _participant_id_of(obj)
    user = actor if getattr(actor, "is_authenticated", False) else None
    fields: dict[str, Any] = {
        "actor_id": user.pk if user is not None else None,
        "actor_username": (getattr(actor, "username", "") or "")[:150],
        "action": str(action),
        "object_type": object_type[:100],
        "object_id": object_id[:64],
        "object_repr": object_repr[:200],
        "participant_id": int(participant_id) if participant_id is not None else None,
        "request_id": ctx.request_id if ctx else "",
        "client_ip": chain.clean_ip(ctx.client_ip) if ctx else None,
        "path": (ctx.path if ctx else "")[:300],
        "source": ctx.source if ctx else "command",
        # Stored exactly as hashed (a JSON round trip through either database).
        "changes": chain.jsonable(changes or {}),
        "reason": reason[:500],
    }
    # Everything above is prepared before the lock; what follows holds it. savepoint=False:
    # inside a caller's transaction a failure here must roll the caller back anyway, and
    # a savepoint would cost two more queries per event.
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        fields["at"] = timezone.now()  # taken under the lock: time order follows seq
        seq = head.seq + 1
        digest = chain.link_hash(head.hash, seq, fields)
        event = AuditEvent(seq=seq, prev_hash=head.hash, hash=digest, **fields)
        if user is not None:
            event.actor = user  # the same id, and no query to read it back
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=head.pk).update(seq=seq, hash=digest)
    return event


def record_many(action: AuditAction | str, *, actor: Any, events: list[dict[str, Any]]) -> int:
    """Several events of one action and actor in one go (issue 12: an API page that
    shows many participants writes an event per participant): the same chain, hashed one
    after another under one lock and inserted together. The head still moves one event at
    a time (the database's trigger allows nothing else), so n events cost n + 2 queries
    rather than 3n. Each dict may hold object_type, object_id, object_repr,
    participant_id, changes and reason."""
    if not events:
        return 0
    ctx = context.current()
    user = actor if getattr(actor, "is_authenticated", False) else None
    rows: list[dict[str, Any]] = []
    for e in events:
        pid = e.get("participant_id")
        rows.append(
            {
                "actor_id": user.pk if user is not None else None,
                "actor_username": (getattr(actor, "username", "") or "")[:150],
                "action": str(action),
                "object_type": str(e.get("object_type", ""))[:100],
                "object_id": str(e.get("object_id", ""))[:64],
                "object_repr": str(e.get("object_repr", ""))[:200],
                "participant_id": int(pid) if pid is not None else None,
                "request_id": ctx.request_id if ctx else "",
                "client_ip": chain.clean_ip(ctx.client_ip) if ctx else None,
                "path": (ctx.path if ctx else "")[:300],
                "source": ctx.source if ctx else "command",
                "changes": chain.jsonable(e.get("changes") or {}),
                "reason": str(e.get("reason", ""))[:500],
            }
        )
    with transaction.atomic(savepoint=False):
        head = _locked_head()
        at = timezone.now()
        seq, prev = head.seq, head.hash
        made = []
        for fields in rows:
            fields["at"] = at
            seq += 1
            digest = chain.link_hash(prev, seq, fields)
            made.append(AuditEvent(seq=seq, prev_hash=prev, hash=digest, **fields))
            prev = digest
        AuditEvent.objects.bulk_create(made)
        for event in made:
            AuditChainHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
    return len(made)


def _locked_head() -> AuditChainHead:
    """The chain head, locked until the transaction ends (one query).

    Migration 0004 creates it; it is missing only after `flush` (tests), and is then
    made again from the last event."""
    head = AuditChainHead.objects.select_for_update().filter(pk=chain.HEAD_ID).first()
    if head is not None:
        return head
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first() or (0, "")
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(pk=chain.HEAD_ID, seq=last[0], hash=last[1])
    except IntegrityError:
        pass  # another writer made it first: wait for its lock below
    return AuditChainHead.objects.select_for_update().get(pk=chain.HEAD_ID)


def audit_label(obj: models.Model) -> str:
    """A short label without PHI where the model offers one (record number, not name)."""
    label = getattr(obj, "audit_label", None)
    if callable(label):
        return str(label())
    return f"{obj._meta.verbose_name} {obj.pk}"


def _participant_id_of(obj: models.Model) -> int | None:
    if obj._meta.label_lower == "participants.participant":
        return int(obj.pk)
    pid = getattr(obj, "participant_id", None)
    return int(pid) if pid is not None else None


# --- verification of the chain (45 CFR 170.315(d)(2): detect an altered log) -------------

VERIFY_TYPE = "core.auditchain"  # the object_type of a verification's own event


def verify_log(*, actor: Any, anchor: tuple[int, str] | None = None) -> chain.ChainReport:
    """Walk the whole chain (`core.chain.verify_chain`) and record that it was verified,
    and the outcome, as an event of its own. Used by `openiop audit verify`, the
    *Verify the audit chain* button and the nightly job."""
    report = chain.verify_chain(anchor=anchor)
    record(
        AuditAction.VIEW,
        actor=actor,
        object_type=VERIFY_TYPE,
        object_id=str(report.head_seq),
        object_repr="audit chain verified",
        changes={
            "ok": report.ok,
            "events": report.events,
            "broken_seq": report.broken_seq,
            "broken_event": report.broken_event_id,
            "protected": report.protected,
        },
        reason=report.summary,
    )
    return report
