"""Login throttling and account lockout, kept in the database (`LoginAttempt`) so every
gunicorn worker and app server sees the same counts.

Per username (whether or not it exists, so the answer does not tell which usernames do):
OPENIOP_LOCKOUT_FAILURES failed passwords or second factors within
OPENIOP_LOCKOUT_WINDOW_MINUTES lock it for OPENIOP_LOCKOUT_MINUTES. While locked, nothing
is checked, not even a right password. A full sign-in, the lock itself and an
administrator's unlock start the count again.

Per client address: OPENIOP_LOCKOUT_IP_FAILURES failures within the window and the address
is refused (429) until the oldest of them leaves the window.

NIST SP 800-63B §5.2.2 asks for such a limit on failed attempts (no more than 100); HIPAA
§164.308(a)(5)(ii)(C) asks to monitor log-in attempts. Rows carry no password.

The rows, by `stage`:
- "password", "mfa": a password or second-factor check (`succeeded` says how it went);
- "locked": an attempt refused, unchecked, while the username was locked;
- "lock": the moment the username was locked (a marker);
- "unlock": an administrator's unlock (a marker, succeeded=True).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .models import AccountLock, LoginAttempt, User

PASSWORD = "password"  # noqa: S105  (a stage name, not a secret)
MFA = "mfa"
LOCKED = "locked"
LOCK = "lock"
UNLOCK = "unlock"
CHECKED = (PASSWORD, MFA)  # failures that count towards a username's lock
ATTEMPTS = (PASSWORD, MFA, LOCKED)  # failures that count towards an address's limit


@dataclass(frozen=True)
class Lock:
    until: dt.datetime

    def message(self) -> str:
        local = timezone.localtime(self.until)
        return (
            f"Too many failed sign-ins: this account is locked until {local:%H:%M}. "
            "Try again then, or ask an administrator to unlock it."
        )


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.OPENIOP_LOCKOUT_WINDOW_MINUTES)


def _lock_length() -> dt.timedelta:
    return dt.timedelta(minutes=settings.OPENIOP_LOCKOUT_MINUTES)


def clean_username(username: str) -> str:
    return (username or "").strip()[:150]


def _last_reset(username: str) -> LoginAttempt | None:
    """The latest success, unlock or lock of this username (one indexed query)."""
    return (
        LoginAttempt.objects.filter(username=username)
        .filter(Q(succeeded=True) | Q(stage=LOCK))
        .order_by("-at", "-id")
        .first()
    )


def lock_for(username: str) -> Lock | None:
    """The lock on `username` now, if any (the same answer for unknown usernames)."""
    last = _last_reset(clean_username(username))
    if last is not None and last.stage == LOCK:
        until = last.at + _lock_length()
        if until > timezone.now():
            return Lock(until)
    return None


def address_refused_until(client_ip: str | None) -> dt.datetime | None:
    """When the address may try again, if it has used up its failures in the window."""
    if not client_ip:
        return None
    limit = settings.OPENIOP_LOCKOUT_IP_FAILURES
    now = timezone.now()
    nth = (
        LoginAttempt.objects.filter(
            client_ip=client_ip, succeeded=False, stage__in=ATTEMPTS, at__gt=now - _window()
        )
        .order_by("-at", "-id")
        .values_list("at", flat=True)[limit - 1 : limit]
    )
    oldest = next(iter(nth), None)
    return oldest + _window() if oldest is not None else None


def record_refused(username: str, client_ip: str | None) -> None:
    """An attempt on a locked username: counted for the address, not checked."""
    username = clean_username(username)
    LoginAttempt.objects.create(
        username=username, client_ip=client_ip, succeeded=False, stage=LOCKED
    )
    audit.record(
        AuditAction.LOGIN_FAILED,
        actor=None,
        object_type="accounts.user",
        object_repr=username,
        reason="account locked",
    )


def record_success(username: str, client_ip: str | None, stage: str) -> None:
    """A full sign-in: the failures before it no longer count; a lapsed lock is removed."""
    username = clean_username(username)
    LoginAttempt.objects.create(username=username, client_ip=client_ip, succeeded=True, stage=stage)
    AccountLock.objects.filter(user__username=username).delete()


def record_failure(username: str, client_ip: str | None, stage: str) -> Lock | None:
    """A failed password or second factor; returns the lock when this one causes it."""
    username = clean_username(username)
    now = timezone.now()
    with transaction.atomic():
        LoginAttempt.objects.create(
            username=username, client_ip=client_ip, succeeded=False, stage=stage
        )
        last = _last_reset(username)
        since = now - _window()
        if last is not None and last.at > since:
            since = last.at
        failures = LoginAttempt.objects.filter(
            username=username, succeeded=False, stage__in=CHECKED, at__gt=since
        ).count()
        lock = None
        if failures >= settings.OPENIOP_LOCKOUT_FAILURES:
            lock = _lock(username, client_ip, failures)
        _note_address_limit(client_ip)
    return lock


def _lock(username: str, client_ip: str | None, failures: int) -> Lock:
    marker = LoginAttempt.objects.create(
        username=username, client_ip=client_ip, succeeded=False, stage=LOCK
    )
    until = marker.at + _lock_length()
    user = User.objects.filter(username=username).first()
    reason = f"{failures} failed sign-ins within {settings.OPENIOP_LOCKOUT_WINDOW_MINUTES} minutes"
    if user is not None:
        AccountLock.objects.update_or_create(user=user, defaults={"until": until, "reason": reason})
        audit.record(
            AuditAction.LOCKED_OUT, actor=None, obj=user, object_repr=username, reason=reason
        )
    else:
        # Unknown usernames are locked the same way; the log shows who was tried.
        audit.record(
            AuditAction.LOCKED_OUT,
            actor=None,
            object_type="accounts.user",
            object_repr=username,
            reason=reason + " (no such account)",
        )
    return Lock(until)


def _note_address_limit(client_ip: str | None) -> None:
    """Audit the failure that makes an address reach its limit (once per limit reached)."""
    if not client_ip:
        return
    limit = settings.OPENIOP_LOCKOUT_IP_FAILURES
    count = LoginAttempt.objects.filter(
        client_ip=client_ip,
        succeeded=False,
        stage__in=ATTEMPTS,
        at__gt=timezone.now() - _window(),
    ).count()
    if count == limit:
        audit.record(
            AuditAction.LOCKED_OUT,
            actor=None,
            object_type="client address",
            object_repr=client_ip,
            reason=f"{limit} failed sign-ins within {settings.OPENIOP_LOCKOUT_WINDOW_MINUTES} "
            "minutes: the address is refused until they age",
        )


def is_locked(user: User) -> bool:
    return lock_for(user.username) is not None


def unlock(user: User, *, actor: User, reason: str) -> None:
    """An administrator's unlock: the lock ends and the count starts again (audited)."""
    with transaction.atomic():
        lock = AccountLock.objects.filter(user=user).first()
        LoginAttempt.objects.create(username=user.username, succeeded=True, stage=UNLOCK)
        AccountLock.objects.filter(user=user).delete()
        audit.record(
            AuditAction.UNLOCK,
            actor=actor,
            obj=user,
            object_repr=user.username,
            changes={"locked_until": [lock.until.isoformat() if lock else None, None]},
            reason=reason,
        )
