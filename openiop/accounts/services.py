"""Writes to staff accounts. Each is atomic and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from openiop.core import audit
from openiop.core.choices import AuditAction

from .models import RoleAssignment, User

USER_FIELDS = [
    "username",
    "first_name",
    "last_name",
    "email",
    "credentials",
    "notes_need_cosign",
    "is_active",
]


def _access_snapshot(user: User) -> dict[str, Any]:
    snap = audit.snapshot(user, USER_FIELDS)
    snap["roles"] = sorted(user.role_assignments.values_list("role", flat=True))
    snap["programs"] = sorted(user.programs.values_list("pk", flat=True))
    return snap


def save_staff_user(
    user: User, *, actor: Any, roles: list[str], programs: list[Any], password: str | None = None
) -> User:
    """Create or change a staff account with its roles and programs."""
    created = user.pk is None
    with transaction.atomic():
        before = {} if created else _access_snapshot(User.objects.get(pk=user.pk))
        if password:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        user.save()
        RoleAssignment.objects.filter(user=user).exclude(role__in=roles).delete()
        existing = set(user.role_assignments.values_list("role", flat=True))
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=user, role=r) for r in roles if r not in existing]
        )
        user.programs.set(programs)
        user.forget_cached_access()
        after = _access_snapshot(user)
        audit.record(
            AuditAction.CREATE if created else AuditAction.CHANGE,
            actor=actor,
            obj=user,
            object_repr=user.username,
            changes=audit.diff(before, after),
        )
    return user
