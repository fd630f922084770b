"""Two-factor sign-in: TOTP (RFC 6238) with one-time recovery codes.

ONC 45 CFR 170.315(d)(13) asks whether MFA is supported "using industry-recognized
standards" (DOMAIN.md §3); the usual reference is NIST SP 800-63B, whose single-factor OTP
authenticator this is: a 160-bit shared secret, 6-digit codes over 30-second steps
(RFC 6238 defaults, what every authenticator app uses), each code accepted once.

- The secret is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA-256, both FIPS 140-2
  Annex A algorithms as (d)(12) asks) under a key derived from SECRET_KEY with HKDF; keys
  in SECRET_KEY_FALLBACKS still decrypt, so rotating SECRET_KEY keeps devices working.
- A code is accepted for the current step or one step either side (clock drift) and only
  if its step is later than the last one accepted (`TotpDevice.last_step`): no replay.
- Recovery codes: ten, random (50 bits each), shown once, stored with Django's password
  hasher, each usable once.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.utils import timezone

from openiop.core.roles import Role

from .models import RecoveryCode, SecurityPolicy, TotpDevice, User

STEP_SECONDS = 30  # RFC 6238 §4.1 default time step
DIGITS = 6
DRIFT_STEPS = 1  # accept the previous and the next step too
RECOVERY_CODE_COUNT = 10
# Recovery codes: 10 characters from 32 unambiguous ones (no 0/o, 1/l/i), shown as
# xxxxx-xxxxx: 50 bits, far beyond guessing within the lockout's 5 tries.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10
# Default policy when the installation has not chosen one: administrators (who manage
# accounts) and compliance officers (who read the whole audit log) must use MFA.
DEFAULT_REQUIRED_ROLES = [Role.ADMIN.value, Role.COMPLIANCE.value]

_HKDF_INFO = b"openiop accounts.TotpDevice.secret_encrypted v1"


# --- the secret at rest -----------------------------------------------------------------


def _fernet_for(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(k) for k in keys])


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str | None:
    """The clear text, or None when no current or fallback key opens it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError):
        return None


def new_secret() -> str:
    return pyotp.random_base32(32)  # 32 base32 characters: 160 bits (RFC 4226 §4)


def secret_of(device: TotpDevice) -> str | None:
    return decrypt(device.secret_encrypted)


def grouped(secret: str) -> str:
    """ABCD EFGH ...: easier to copy by hand into an authenticator app."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.username, issuer_name=settings.OPENIOP_MFA_ISSUER
    )


def qr_data_uri(text: str) -> str:
    """A QR code as an SVG data: URI (the CSP allows `img-src data:`; no script)."""
    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=4, dark="#111"))


# --- codes --------------------------------------------------------------------------------


def normalise_code(raw: str) -> str:
    return "".join(raw.split()).replace("-", "").lower()


def looks_like_totp(raw: str) -> bool:
    code = normalise_code(raw)
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def current_step(now: float | None = None) -> int:
    return int((timezone.now().timestamp() if now is None else now) // STEP_SECONDS)


def matching_step(secret: str, code: str, *, after: int, now: float | None = None) -> int | None:
    """The time step (within ±DRIFT_STEPS of now, later than `after`) whose code this is."""
    if not looks_like_totp(code):
        return None
    code = normalise_code(code)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    step = current_step(now)
    found = None
    for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
        # Compare every candidate (constant work whichever matches).
        if pyotp.utils.strings_equal(totp.generate_otp(candidate), code) and candidate > after:
            found = candidate
    return found


def use_totp(device: TotpDevice, code: str, *, now: float | None = None) -> bool:
    """Accept `code` once: its step must be later than the last accepted one.

    The step is moved forward with a conditional UPDATE, so two requests racing with the
    same code cannot both pass.
    """
    secret = secret_of(device)
    if secret is None:
        return False
    step = matching_step(secret, code, after=device.last_step, now=now)
    if step is None:
        return False
    moved = TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
    if moved:
        device.last_step = step
    return bool(moved)


def make_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def hash_recovery_code(code: str) -> str:
    return make_password(normalise_code(code))


def use_recovery_code(user: User, raw: str) -> RecoveryCode | None:
    """Mark the matching unused recovery code used and return it (None: no match)."""
    code = normalise_code(raw)
    if len(code) != RECOVERY_LENGTH or not all(c in RECOVERY_ALPHABET for c in code):
        return None
    for candidate in RecoveryCode.objects.filter(user=user, used_at__isnull=True):
        if check_password(code, candidate.code_hash):
            # Conditional: a code raced by two requests is used by one of them only.
            if RecoveryCode.objects.filter(pk=candidate.pk, used_at__isnull=True).update(
                used_at=timezone.now()
            ):
                return candidate
            return None
    return None


# --- who must use it ------------------------------------------------------------------------


def required_roles() -> list[str]:
    policy = SecurityPolicy.objects.order_by("pk").first()
    if policy is None:
        return list(DEFAULT_REQUIRED_ROLES)
    return [r for r in policy.mfa_required_roles if r in Role.values]


def is_required_for(user: User, roles: Iterable[str] | None = None) -> bool:
    required = set(required_roles() if roles is None else roles)
    return bool(required & set(user.role_codes))


def confirmed_device(user: User) -> TotpDevice | None:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
