"""The state between a right password and a full sign-in (second factor or enrolment).

After the password, a user with an authenticator (or one whose role must enrol) is not
signed in: the session holds who they are, how they passed the password and where they
were going, for OPENIOP_MFA_PENDING_SECONDS. The session key is cycled at each step
(no fixation), and a password change in between ends the state (the stored session hash
no longer matches).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme

from . import mfa
from .models import User

PENDING_KEY = "openiop_signin_pending"
CODES_KEY = "openiop_recovery_codes"
NEXT_KEY = "openiop_after_codes"
VERIFY = "verify"  # type a code from the authenticator (or a recovery code)
ENROL = "enrol"  # the policy requires MFA and there is no device yet


@dataclass(frozen=True)
class Pending:
    user: User
    stage: str
    backend: str
    next_url: str


def safe_next(request: HttpRequest, url: str | None) -> str:
    """`url` when it stays on this site; otherwise the today board."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def begin(request: HttpRequest, user: User, *, stage: str, next_url: str) -> None:
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "hash": user.get_session_auth_hash(),
        "backend": getattr(user, "backend", "django.contrib.auth.backends.ModelBackend"),
        "stage": stage,
        "next": next_url,
        "started": timezone.now().timestamp(),
    }


def clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def pending(request: HttpRequest) -> Pending | None:
    """The half-signed-in user of this session, if the state is whole and fresh."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        started = float(data["started"])
        user = User.objects.filter(pk=int(data["user"]), is_active=True).first()
        fresh = timezone.now().timestamp() - started < settings.OPENIOP_MFA_PENDING_SECONDS
        valid = (
            user is not None
            and fresh
            and constant_time_compare(str(data["hash"]), user.get_session_auth_hash())
            and data["stage"] in (VERIFY, ENROL)
        )
    except (KeyError, TypeError, ValueError):
        valid, user = False, None
    if not valid or user is None:
        clear(request)
        return None
    return Pending(
        user=user, stage=data["stage"], backend=str(data["backend"]), next_url=str(data["next"])
    )


def complete(request: HttpRequest, state: Pending) -> str:
    """Sign the user in (Django cycles the session key); returns where to go next."""
    clear(request)
    auth_login(request, state.user, backend=state.backend)
    return safe_next(request, state.next_url)


def keep_codes_to_show(request: HttpRequest, codes: list[str], *, then: str = "") -> None:
    """New recovery codes, shown once by the next page (encrypted while in the session)."""
    request.session[CODES_KEY] = mfa.encrypt(json.dumps(codes))
    if then:
        request.session[NEXT_KEY] = then


def take_codes_to_show(request: HttpRequest) -> tuple[list[str], str]:
    """The codes to show (removed from the session: they are shown once) and where next."""
    token = request.session.pop(CODES_KEY, None)
    then = request.session.pop(NEXT_KEY, "")
    clear_text = mfa.decrypt(token) if isinstance(token, str) else None
    codes = json.loads(clear_text) if clear_text else []
    return [str(c) for c in codes], safe_next(request, then if isinstance(then, str) else "")
