"""Editing clinical records the same way everywhere: lock, check the version, save, audit.

    current = lock_for_edit(Participant, pk, expected_version, what="participant's details")
    ... set fields ...
    save_change(current, actor=actor, fields=[...], changes=audit.diff(before, after))

A form carries the `version` it was opened with; if a colleague saved in between, the
edit is refused with `StaleEdit` instead of silently overwriting their work.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.utils import timezone

from . import audit
from .choices import AuditAction
from .models import ClinicalRecord

R = TypeVar("R", bound=ClinicalRecord)


class StaleEdit(Exception):
    """Someone else saved the record after this form was opened."""


def lock_for_edit(model: type[R], pk: int, expected_version: int, *, what: str) -> R:
    """The current row, locked for this transaction; StaleEdit if its version moved on."""
    current = model._default_manager.select_for_update().get(pk=pk)
    if current.version != expected_version:
        raise StaleEdit(
            f"Someone else saved this {what} while you were editing. "
            "Your changes were not saved; reload to see theirs."
        )
    return current


def save_change(
    record: ClinicalRecord, *, actor: Any, fields: list[str], changes: dict[str, Any]
) -> bool:
    """Save `fields` with a new version and an audit event; nothing if nothing changed."""
    if not changes:
        return False
    record.version += 1
    record.updated_by = actor
    record.updated_at = timezone.now()
    record.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    audit.record(AuditAction.CHANGE, actor=actor, obj=record, changes=changes)
    return True
