"""Writes to staff accounts. Each is atomic and audited."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.roles import Role

from . import mfa
from .models import RecoveryCode, RoleAssignment, SecurityPolicy, TotpDevice, User

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


# --- Two-factor sign-in and the security policy (issue 8, point 5; helper H1) ------------


class MfaRefused(Exception):
    """A two-factor change the rules do not allow (the view answers 409 with the reason)."""


def start_enrolment(user: User) -> TotpDevice:
    """The user's unconfirmed device (a new secret the first time); refused when one is on."""
    with transaction.atomic():
        device = TotpDevice.objects.select_for_update().filter(user=user).first()
        if device is not None and device.confirmed_at is not None:
            raise MfaRefused("Two-factor sign-in is already on for this account.")
        if device is None or mfa.secret_of(device) is None:
            # A secret no key opens (SECRET_KEY changed without a fallback): start over.
            TotpDevice.objects.filter(user=user).delete()
            device = TotpDevice.objects.create(
                user=user, secret_encrypted=mfa.encrypt(mfa.new_secret())
            )
    return device


def _new_recovery_codes(user: User) -> list[str]:
    codes = mfa.make_recovery_codes()
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=mfa.hash_recovery_code(c)) for c in codes]
    )
    return codes


def confirm_enrolment(device: TotpDevice, code: str, *, actor: Any) -> list[str] | None:
    """Turn the device on when `code` comes from it; returns the new recovery codes."""
    with transaction.atomic():
        if device.confirmed_at is not None or not mfa.use_totp(device, code):
            return None
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed_at"])
        codes = _new_recovery_codes(device.user)
        audit.record(
            AuditAction.MFA,
            actor=actor,
            obj=device.user,
            object_repr=device.user.username,
            changes={"two_factor": ["off", "on"]},
            reason="authenticator app enrolled",
        )
    return codes


def regenerate_recovery_codes(user: User, *, actor: Any) -> list[str]:
    """Ten new recovery codes; the old ones (used or not) stop working."""
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record(
            AuditAction.MFA,
            actor=actor,
            obj=user,
            object_repr=user.username,
            reason="recovery codes regenerated",
        )
    return codes


def note_recovery_code_used(user: User) -> int:
    """Audit a sign-in with a recovery code; returns how many are left."""
    left = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
    audit.record(
        AuditAction.MFA,
        actor=user,
        obj=user,
        object_repr=user.username,
        reason=f"signed in with a recovery code ({left} left)",
    )
    return left


def turn_off_mfa(user: User, *, actor: Any, reason: str) -> None:
    """Remove the device and recovery codes (the user's own choice or an admin's reset).

    The user's own choice is refused when one of their roles must use MFA; an
    administrator's reset is allowed (the user enrols again at their next sign-in).
    """
    with transaction.atomic():
        if actor == user and mfa.is_required_for(user):
            raise MfaRefused(
                "Your role must use two-factor sign-in (security policy), so it cannot be "
                "turned off. To move it to a new phone, ask an administrator to reset it."
            )
        had = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit.record(
            AuditAction.MFA,
            actor=actor,
            obj=user,
            object_repr=user.username,
            changes={"two_factor": ["on" if had else "off", "off"]},
            reason=reason,
        )


def security_policy() -> SecurityPolicy:
    """The policy row (the default, unsaved, when none was chosen yet)."""
    policy = SecurityPolicy.objects.order_by("pk").first()
    return policy or SecurityPolicy(mfa_required_roles=list(mfa.DEFAULT_REQUIRED_ROLES))


def save_security_policy(*, roles: list[str], actor: Any) -> SecurityPolicy:
    """Choose which roles must sign in with two factors (audited with before and after)."""
    roles = [r for r in Role.values if r in set(roles)]
    with transaction.atomic():
        policy = SecurityPolicy.objects.select_for_update().order_by("pk").first()
        before = policy.mfa_required_roles if policy else list(mfa.DEFAULT_REQUIRED_ROLES)
        if policy is None:
            policy = SecurityPolicy.objects.create(mfa_required_roles=roles)
        else:
            policy.mfa_required_roles = roles
            policy.save(update_fields=["mfa_required_roles", "updated_at"])
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=policy,
            object_repr="security policy",
            changes=audit.diff(
                {"mfa_required_roles": sorted(before)}, {"mfa_required_roles": sorted(roles)}
            ),
        )
    return policy
