"""Writes to program set-up. Each is atomic and writes its audit event."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import ReferenceData


class DuplicateName(Exception):
    pass


def save_reference(instance: ReferenceData, *, actor: Any, fields: list[str]) -> ReferenceData:
    """Create or change a set-up record (site, program, track, room, type, topic)."""
    created = instance.pk is None
    with transaction.atomic():
        before: dict[str, Any] = {}
        if not created:
            old = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
            before = audit.snapshot(old, fields)
        now = timezone.now()
        instance.updated_at = now
        if getattr(instance, "retired", False) and not getattr(instance, "retired_at", None):
            instance.retired_at = now
        if not getattr(instance, "retired", False):
            instance.retired_at = None
        try:
            with transaction.atomic():
                instance.save()
        except IntegrityError as exc:
            raise DuplicateName(str(exc)) from exc
        after = audit.snapshot(instance, fields)
        audit.record(
            AuditAction.CREATE if created else AuditAction.CHANGE,
            actor=actor,
            obj=instance,
            object_repr=str(instance)[:200],
            changes=audit.diff(before, after),
        )
    return instance
