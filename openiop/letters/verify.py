"""Verification codes of attendance letters and the throttle of the public check.

A code is 12 characters of Crockford's base32 (0-9 and A-Z without I, L, O, U): 60 bits
from the operating system's CSPRNG, printed in three groups, e.g. ``7KQ2-M9XD-4HTC``. It is
read the Crockford way — case does not matter, I and L are read as 1, O as 0, hyphens and
spaces are ignored — so a code read over the phone or typed from paper still matches. Only
its SHA-256 is stored, and a letter is found by that digest (an index lookup): no
character-by-character comparison with stored codes, so answer times say nothing about
how close a guess was.

Guessing is bounded by the throttle: OPENIOP_VERIFY_FAILURES unknown codes from one
client address within OPENIOP_VERIFY_WINDOW_MINUTES and the address is refused (429) until
the oldest of them leaves the window. With 2^60 codes and 20 tries per 15 minutes, finding
any one of a million letters takes one address about 1.6 million years on average
(2^60 / 10^6 guesses at 80 an hour).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import secrets

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .models import LetterVerification, VerificationAttempt

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
LENGTH = 12  # 12 characters of 5 bits: 60 bits
GROUP = 4
# Crockford decoding: letters that are easily confused read as the digit they look like.
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_IGNORED = str.maketrans("", "", "- \t\u2010\u2011\u2012\u2013\u2014")


def new_code(rng: random.Random | None = None) -> str:
    """A fresh code, grouped (``XXXX-XXXX-XXXX``). `rng` only for the seeded demo."""
    choose = rng.choice if rng is not None else secrets.choice
    return grouped("".join(choose(ALPHABET) for _ in range(LENGTH)))


def grouped(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def normalise(text: str) -> str | None:
    """The code's 12 characters, or None when the text cannot be a code."""
    cleaned = (text or "").upper().translate(_IGNORED).translate(_READ_AS)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def digest(code: str) -> str:
    """The SHA-256 of a code as stored; `code` in any of the forms `normalise` reads."""
    normal = normalise(code)
    if normal is None:
        raise ValueError("not a verification code")
    return hashlib.sha256(normal.encode("ascii")).hexdigest()


def find(text: str) -> LetterVerification | None:
    normal = normalise(text)
    if normal is None:
        return None
    return (
        LetterVerification.objects.filter(code_sha256=digest(normal))
        .select_related("disclosure")
        .first()
    )


def public_base() -> str:
    """Where people outside the program reach OpenIOP (settings.OPENIOP_PUBLIC_URL)."""
    from openiop.notify.render import public_base as base

    return base()


def verify_url(code: str = "") -> str:
    """The absolute address of the verification page. With `code`, the code rides in the
    fragment (``#7KQ2-M9XD-4HTC``): a browser never sends a fragment to the server, so the
    code reaches no access log, and the page's script fills the form with it."""
    url = public_base() + reverse("verify_letter")
    return f"{url}#{code}" if code else url


# --- the throttle -----------------------------------------------------------------------------


def _window() -> dt.timedelta:
    return dt.timedelta(minutes=settings.OPENIOP_VERIFY_WINDOW_MINUTES)


def refused_until(client_ip: str | None) -> dt.datetime | None:
    """When the address may try again, if it has used up its failures in the window."""
    limit = settings.OPENIOP_VERIFY_FAILURES
    nth = (
        VerificationAttempt.objects.filter(client_ip=client_ip, at__gt=timezone.now() - _window())
        .order_by("-at", "-id")
        .values_list("at", flat=True)[limit - 1 : limit]
    )
    oldest = next(iter(nth), None)
    return oldest + _window() if oldest is not None else None


def record_failure(client_ip: str | None) -> None:
    """Count an unknown code; audit the failure that makes the address reach its limit."""
    VerificationAttempt.objects.create(client_ip=client_ip)
    limit = settings.OPENIOP_VERIFY_FAILURES
    count = VerificationAttempt.objects.filter(
        client_ip=client_ip, at__gt=timezone.now() - _window()
    ).count()
    if count == limit:
        audit.record(
            AuditAction.LOCKED_OUT,
            actor=None,
            object_type="client address",
            object_repr=client_ip or "unknown",
            reason=f"{limit} unknown letter verification codes within "
            f"{settings.OPENIOP_VERIFY_WINDOW_MINUTES} minutes: refused until they age",
        )


def forget_old_attempts(now: dt.datetime | None = None) -> int:
    """Failures older than a day count for nothing: the daily job removes them."""
    cutoff = (now or timezone.now()) - max(_window(), dt.timedelta(days=1))
    deleted, _ = VerificationAttempt.objects.filter(at__lt=cutoff).delete()
    return deleted
