"""The one path by which audit events are written.

Service functions call `record(...)` inside their transaction, so the event and the
change it describes commit together or not at all. Views of protected data are
recorded by the access helper (`core.access`), never by hand in a view.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from . import context
from .choices import AuditAction
from .models import AuditEvent


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
    return AuditEvent.objects.create(
        actor=user,
        actor_username=getattr(actor, "username", "") or "",
        action=str(action),
        object_type=object_type[:100],
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        participant_id=participant_id,
        request_id=ctx.request_id if ctx else "",
        client_ip=ctx.client_ip if ctx else None,
        path=(ctx.path if ctx else "")[:300],
        source=ctx.source if ctx else "command",
        changes=changes or {},
        reason=reason[:500],
    )


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
