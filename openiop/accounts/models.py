from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models

from openiop.core.roles import CLINICAL_ROLES, Role, permissions_for


class PortalKind(models.TextChoices):
    """Accounts of the portal (issue 9). Staff accounts leave `portal_kind` blank."""

    PARTICIPANT = "participant", "Participant"
    FAMILY = "family", "Family member"


class User(AbstractUser):
    """A staff member — or, with `portal_kind` set, a participant or family member of the
    portal (issue 9). Roles come from `RoleAssignment`; programs from `programs`.
    Portal accounts hold no roles and never pass `staff_view`; staff accounts never pass
    `portal_view`.

    Django's is_staff/is_superuser are not used: OpenIOP has no Django admin, and
    everything an account may do comes from its roles.
    """

    credentials = models.CharField(
        max_length=60, blank=True, help_text="As signed on notes, e.g. LADC, LPC, CADC-II."
    )
    notes_need_cosign = models.BooleanField(
        "notes need a co-signature",
        default=False,
        help_text="A supervisee: their signed notes go to a clinical supervisor's queue.",
    )
    programs = models.ManyToManyField(
        "programs.Program",
        blank=True,
        related_name="staff",
        help_text="Programs whose participants this person works with.",
    )

    portal_kind = models.CharField(
        max_length=12,
        choices=PortalKind.choices,
        blank=True,
        default="",
        help_text="Blank for staff; set for participant and family portal accounts.",
    )

    class Meta:
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        name = self.get_full_name() or self.username
        return f"{name}, {self.credentials}" if self.credentials else name

    @cached_property
    def role_codes(self) -> frozenset[str]:
        if not self.is_active or self.pk is None or self.portal_kind:
            return frozenset()
        return frozenset(self.role_assignments.values_list("role", flat=True))

    @cached_property
    def perm_codes(self) -> frozenset[str]:
        return permissions_for(self.role_codes)

    @cached_property
    def program_ids(self) -> frozenset[int]:
        if self.pk is None:
            return frozenset()
        return frozenset(self.programs.values_list("pk", flat=True))

    def has_perm_code(self, perm: str) -> bool:
        return perm in self.perm_codes

    def has_role(self, role: str) -> bool:
        return role in self.role_codes

    @property
    def is_portal(self) -> bool:
        return bool(self.portal_kind)

    @property
    def is_clinical(self) -> bool:
        return bool(self.role_codes & CLINICAL_ROLES)

    def role_labels(self) -> list[str]:
        return [Role(code).label for code in Role.values if code in self.role_codes]

    def forget_cached_access(self) -> None:
        for attr in ("role_codes", "perm_codes", "program_ids"):
            self.__dict__.pop(attr, None)


class RoleAssignment(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=20, choices=Role.choices)
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role"], name="roleassignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user.username}: {self.role}"


# --- Sign-in security (issue 8, point 5) -------------------------------------------------


class TotpDevice(models.Model):
    """A staff member's authenticator app (RFC 6238 TOTP). One per user.

    The shared secret is stored encrypted (`accounts.mfa`), never in clear. A device is
    in use once `confirmed_at` is set (the user typed a code from it at enrolment).
    `last_step` is the last accepted 30-second time step, so a code is never accepted twice.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"TOTP device of {self.user.username}"


class RecoveryCode(models.Model):
    """A one-time code for signing in without the authenticator; only its hash is kept."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at"], name="recovery_user_used")]

    def __str__(self) -> str:
        return f"Recovery code of {self.user.username}"


class LoginAttempt(models.Model):
    """Every password or second-factor attempt, for throttling and lockout.

    Kept by username (which may not exist) and client address, never the password.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    username = models.CharField(max_length=150)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    stage = models.CharField(max_length=10, default="password")  # password | mfa

    class Meta:
        indexes = [
            models.Index(fields=["username", "at"], name="loginattempt_user_at"),
            models.Index(fields=["client_ip", "at"], name="loginattempt_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {'ok' if self.succeeded else 'failed'}"


class AccountLock(models.Model):
    """An account locked after repeated failures, until `until` or an administrator's unlock."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="lock")
    locked_at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.user.username} locked until {self.until:%Y-%m-%d %H:%M}"


class SecurityPolicy(models.Model):
    """The installation's sign-in policy (one row): which roles must use MFA."""

    mfa_required_roles = models.JSONField(
        default=list, blank=True, help_text="Role codes whose members must sign in with MFA."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "Security policy"


class PasswordHistory(models.Model):
    """Hashes of a user's recent passwords, so an old password is not reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Old password of {self.user.username}"


class ParkedDraft(models.Model):
    """A form's unsaved contents kept on the server when the session timed out.

    Automatic log-off (issue 8, point 5) must never lose an open draft: the page posts
    what is typed here before signing out (or the server keeps a POST that arrives after
    the session ended) and the same page restores it after the user signs in again.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="parked_drafts")
    path = models.CharField(max_length=300)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "path"], name="parkeddraft_user_path")]

    def __str__(self) -> str:
        return f"Parked draft of {self.user.username} at {self.path}"
