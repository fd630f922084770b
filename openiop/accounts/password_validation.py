"""Password rules beyond Django's own (issue 8, point 5).

NIST SP 800-63B §5.1.1.2 (memorized secrets): at least 8 characters (we ask for 12),
at least 64 allowed (we allow 128), compared against commonly used passwords, no
composition rules (mixtures of character kinds) and no periodic expiry. We add a short
history so a password just changed away from cannot be set again at once.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext


class MaximumLengthValidator:
    """A password may be up to `max_length` characters (NIST SP 800-63B: at least 64)."""

    def __init__(self, max_length: int = 128):
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d "
                    "character.",
                    "This password is too long. It must contain at most %(max_length)d "
                    "characters.",
                    self.max_length,
                ),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"Your password can be up to {self.max_length} characters long."


class PasswordHistoryValidator:
    """Not the current password nor one of the `count` most recent ones.

    `password_changed` (called by Django after every save that set a password: the staff
    form, the change page, the `addstaff` command, tests and the demo) keeps the hash of
    each new password in `PasswordHistory`, pruned to the last `count`.
    """

    def __init__(self, count: int = 5):
        self.count = count

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None:
            return
        from .models import PasswordHistory

        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk).values_list("password_hash", flat=True)[
                : self.count
            ]
        )
        # The current one too (accounts made before the history existed have no rows).
        # hashers.check_password, not user.check_password: that one may save the user.
        current = getattr(user, "password", "") or ""
        if current and current not in hashes:
            hashes.insert(0, current)
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                f"This password was used recently. Choose one you have not used for your "
                f"last {self.count} passwords.",
                code="password_reused",
            )

    def password_changed(self, password: str, user: Any = None) -> None:
        if user is None or getattr(user, "pk", None) is None or not user.password:
            return
        from .models import PasswordHistory

        PasswordHistory.objects.create(user_id=user.pk, password_hash=user.password)
        keep = PasswordHistory.objects.filter(user_id=user.pk).values("pk")[: self.count]
        PasswordHistory.objects.filter(user_id=user.pk).exclude(pk__in=keep).delete()

    def get_help_text(self) -> str:
        return f"Your password cannot be one of your last {self.count} passwords."
