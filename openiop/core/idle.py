"""Automatic log-off after inactivity (issue 8, point 5), without losing what was typed.

ONC 45 CFR 170.315(d)(5), "Automatic access time-out" (DOMAIN.md §3): end a session
after a set period of inactivity; re-authentication is needed to resume. The period is
a program setting (`Program.idle_timeout_minutes`, default 15); a staff member in
several programs gets the shortest, one without a program the default.

The server is the authority (`IdleTimeoutMiddleware` keeps `last_activity` in the
session); the page's script (`static/openiop/idle.js`) warns a minute before the end,
saves autosaving drafts, parks every other changed form here (`ParkedDraft`) and then
signs out. A form posted after the end (the computer slept, the user pressed Save) is
parked by the middleware. The same page gives the parked text back after the next
sign-in, and the worker removes parked drafts after a week.

Session keys are computed at sign-in (`user_logged_in`), so an ordinary page costs no
query for any of this: the session already holds the timeout and the pages that have a
parked draft; only such a page runs one query to fetch it.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.db.models import Min
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext

from . import audit
from .choices import AuditAction

if TYPE_CHECKING:
    from openiop.accounts.models import ParkedDraft, User

DEFAULT_MINUTES = 15  # Program.idle_timeout_minutes' default, for staff without a program
PARK_DAYS = 7  # parked drafts are given back for a week, then purged by the worker

# Session keys.
LAST_ACTIVITY = "openiop_idle_last"  # epoch seconds of the last request that counted
TIMEOUT = "openiop_idle_timeout"  # seconds, computed at sign-in
PARKED_PATHS = "openiop_idle_parked"  # pages with a parked draft not yet given back

# Never kept: the CSRF token, anything named like a password or a secret, one-time codes.
SENSITIVE_NAME_PARTS = ("password", "passwd", "csrf", "token", "secret", "otp", "totp")
MAX_FORMS = 20
MAX_FIELDS = 500
MAX_VALUE = 100_000  # characters of one value
MAX_TOTAL = 400_000  # characters of a whole parked draft
MAX_PATH = 300  # ParkedDraft.path


class BadDraft(ValueError):
    """What the page posted to park cannot be a form's contents."""


def _draft_model() -> type[ParkedDraft]:
    # By name: core does not import accounts (accounts depends on core).
    return apps.get_model("accounts", "ParkedDraft")


# --- the clock ----------------------------------------------------------------------------


def minutes_for(user: User) -> int:
    """The smallest timeout of the user's programs in use; the default without one."""
    shortest = user.programs.filter(retired=False).aggregate(m=Min("idle_timeout_minutes"))["m"]
    return int(shortest) if shortest else DEFAULT_MINUTES


def timeout_seconds(request: HttpRequest) -> int:
    """The signed-in user's timeout, from the session (computed once per sign-in)."""
    override = getattr(settings, "OPENIOP_IDLE_TIMEOUT_SECONDS_OVERRIDE", None)
    if override and getattr(settings, "TESTING", False):
        # Browser tests cannot wait 2 minutes; honoured only when settings.TESTING.
        return int(override)
    cached = request.session.get(TIMEOUT)
    if isinstance(cached, int) and cached > 0:
        return cached
    seconds = minutes_for(request.user) * 60  # type: ignore[arg-type]  # signed in
    request.session[TIMEOUT] = seconds
    return seconds


def write_every(timeout: int) -> int:
    """Seconds between session writes for ordinary requests (no UPDATE on every page)."""
    return max(1, min(60, timeout // 4))


def remaining(request: HttpRequest, now: float | None = None) -> float:
    """Seconds left before the session times out (negative once it has)."""
    now = time.time() if now is None else now
    last = request.session.get(LAST_ACTIVITY)
    if not isinstance(last, int | float):
        return float(timeout_seconds(request))
    return timeout_seconds(request) - (now - last)


def touch(request: HttpRequest, now: float | None = None) -> None:
    request.session[LAST_ACTIVITY] = time.time() if now is None else now


@receiver(user_logged_in, dispatch_uid="openiop_idle_start")
def start(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """At sign-in: start the clock and cache what every page needs (two queries, once)."""
    if request is None or not hasattr(request, "session"):
        return
    request.session[LAST_ACTIVITY] = time.time()
    request.session[TIMEOUT] = minutes_for(user) * 60
    request.session[PARKED_PATHS] = parked_paths(user)


# --- signing out -------------------------------------------------------------------------


def signed_out_message(minutes: int | None, kept: bool) -> str:
    # Marked for translation: a portal account reads it in its own language (issue 9);
    # staff pages never activate another language, so staff read it in English.
    if minutes:
        text = ngettext(
            "You were signed out after %(minutes)d minute without activity.",
            "You were signed out after %(minutes)d minutes without activity.",
            minutes,
        ) % {"minutes": minutes}
    else:
        text = gettext("You were signed out after a time without activity.")
    if kept:
        text += " " + gettext("Your unsaved work was kept; it will be back when you sign in.")
    return text


def login_url_for(page: str) -> str | None:
    """The sign-in page for `page`: the portal's for portal pages (issue 9), else the
    staff sign-in (None: settings.LOGIN_URL)."""
    if any(page.startswith(prefix) for prefix in settings.OPENIOP_PORTAL_PATHS):
        return settings.OPENIOP_PORTAL_LOGIN_URL
    return None


def time_out(request: HttpRequest, *, kept: bool) -> None:
    """Sign the user out for inactivity: TIMED_OUT in the audit log, a message for the
    login page. Re-authentication is needed to resume (170.315(d)(5))."""
    user = request.user
    minutes = round(timeout_seconds(request) / 60)
    audit.record(
        AuditAction.TIMED_OUT,
        actor=user,
        obj=user,  # type: ignore[arg-type]  # signed in: a User
        object_repr=user.get_username(),
        reason=f"no activity for {minutes} min" + ("; unsaved work parked" if kept else ""),
    )
    account = getattr(user, "portal_account", None) if getattr(user, "portal_kind", "") else None
    logout(request)
    with translation.override(account.language if account is not None else None):
        messages.info(request, signed_out_message(minutes, kept))


# --- parking -----------------------------------------------------------------------------


def is_sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in SENSITIVE_NAME_PARTS)


def _keepable(name: str, value: str) -> bool:
    # A drawn signature (a data: image) is given in front of the person, never replayed.
    return not is_sensitive(name) and not value.startswith("data:image/")


def clean_fields(pairs: list[tuple[str, str]]) -> list[list[str]]:
    """[name, value] pairs without credentials, signatures or NUL characters."""
    out = []
    for name, value in pairs:
        name, value = name.replace("\x00", ""), value.replace("\x00", "")
        if name and _keepable(name, value):
            out.append([name[:200], value[:MAX_VALUE]])
    return out


def safe_path(value: Any) -> str | None:
    """A path on this site (no scheme, no host), or None."""
    if not isinstance(value, str) or not value.startswith("/") or value.startswith("//"):
        return None
    if len(value) > MAX_PATH or any(c in value for c in "\x00\r\n\\?#") or " " in value:
        return None
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=None):
        return None
    return value


def page_of(request: HttpRequest) -> str:
    """The page a posted form was on: the referring page of this site, else the URL
    posted to (forms post to their own page here)."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer:
        from urllib.parse import urlsplit

        parts = urlsplit(referer)
        if parts.netloc == request.get_host() and safe_path(parts.path):
            return parts.path
    return request.path[:MAX_PATH]


def forms_from_post(request: HttpRequest) -> list[dict[str, Any]]:
    """The contents of an ordinary form posted after the end of the session."""
    pairs = [(name, value) for name, values in request.POST.lists() for value in values]
    return [{"action": request.path[:MAX_PATH], "index": 0, "fields": clean_fields(pairs)}]


def parse_park(post: Any) -> tuple[str, list[dict[str, Any]]]:
    """The page and forms idle.js posts to `core:park`; BadDraft when malformed.

    `path`: the page; `forms`: JSON, a list of {"action", "index", "fields": [[name,
    value], ...], "names": [every field name of the form]}.
    """
    path = safe_path(post.get("path"))
    if path is None:
        raise BadDraft("The page must be a path on this site.")
    try:
        raw = json.loads(post.get("forms") or "")
    except (ValueError, RecursionError):
        raise BadDraft("The forms must be JSON.") from None
    if not isinstance(raw, list) or not raw or len(raw) > MAX_FORMS:
        raise BadDraft(f"Send between 1 and {MAX_FORMS} forms.")
    forms, total = [], 0
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("fields"), list):
            raise BadDraft("Each form needs its fields.")
        action = safe_path(item.get("action")) or path
        index = item.get("index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 1000:
            index = 0
        pairs, names = [], []
        for pair in item["fields"]:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(x, str) for x in pair)
            ):
                raise BadDraft("Each field is a [name, value] pair of strings.")
            pairs.append((pair[0], pair[1]))
            total += len(pair[0]) + len(pair[1])
        for name in item.get("names") or []:
            if isinstance(name, str) and not is_sensitive(name):
                names.append(name.replace("\x00", "")[:200])
        if len(pairs) > MAX_FIELDS or len(names) > MAX_FIELDS or total > MAX_TOTAL:
            raise BadDraft("Too much to keep.")
        forms.append(
            {"action": action, "index": index, "fields": clean_fields(pairs), "names": names}
        )
    return path, forms


def park(user: User, path: str, forms: list[dict[str, Any]]) -> ParkedDraft | None:
    """Keep the forms' contents for (user, page); None when nothing is worth keeping."""
    forms = [f for f in forms if f["fields"]]
    if not forms:
        return None
    draft = _draft_model().objects.create(user=user, path=path[:MAX_PATH], data={"forms": forms})
    # No text in the audit log: only that a draft was kept, and for which page.
    audit.record(
        AuditAction.CREATE, actor=user, obj=draft, object_repr=f"parked draft {path}"[:200]
    )
    return draft


def remember_parked(request: HttpRequest, path: str) -> None:
    paths = list(request.session.get(PARKED_PATHS) or [])
    if path not in paths:
        request.session[PARKED_PATHS] = [*paths, path][-50:]


def forget_parked(request: HttpRequest, path: str) -> None:
    paths = list(request.session.get(PARKED_PATHS) or [])
    if path in paths:
        request.session[PARKED_PATHS] = [p for p in paths if p != path]


def _fresh() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=PARK_DAYS)


def parked_paths(user: User) -> list[str]:
    """Pages with a parked draft of the user not given back yet (one query)."""
    rows = (
        _draft_model()
        .objects.filter(user=user, restored_at__isnull=True, created_at__gte=_fresh())
        .values_list("path", flat=True)
        .distinct()[:50]
    )
    return list(rows)


def parked_for(request: HttpRequest) -> dict[str, Any] | None:
    """The newest parked draft of this page for the signed-in user, for the page to give
    back; a query only when the session says there is one (and only for GET)."""
    if request.method != "GET" or request.path not in (request.session.get(PARKED_PATHS) or []):
        return None
    draft = (
        _draft_model()
        .objects.filter(
            user=request.user,  # type: ignore[misc]  # signed in
            path=request.path,
            restored_at__isnull=True,
            created_at__gte=_fresh(),
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if draft is None:
        forget_parked(request, request.path)
        return None
    return {"id": draft.pk, "forms": draft.data.get("forms", [])}


def mark_restored(user: User, pk: int) -> ParkedDraft | None:
    """The page gave the draft back: it, and older ones of the same page, are done."""
    model = _draft_model()
    draft = model.objects.filter(user=user, pk=pk, restored_at__isnull=True).first()
    if draft is None:
        return None
    model.objects.filter(
        user=user, path=draft.path, restored_at__isnull=True, pk__lte=draft.pk
    ).update(restored_at=timezone.now())
    audit.record(
        AuditAction.VIEW, actor=user, obj=draft, object_repr=f"parked draft {draft.path}"[:200]
    )
    return draft


def purge_old_drafts(now: dt.datetime | None = None) -> int:
    """Parked drafts older than a week (given back or not) are removed."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=PARK_DAYS)
    deleted, _ = _draft_model().objects.filter(created_at__lt=cutoff).delete()
    return deleted
