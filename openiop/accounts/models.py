from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser
from django.db import models

from openiop.core.roles import CLINICAL_ROLES, Role, permissions_for


class User(AbstractUser):
    """A staff member. Roles come from `RoleAssignment`; programs from `programs`.

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
        if not self.is_active or self.pk is None:
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
