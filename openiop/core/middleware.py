from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from .context import RequestContext, _current, loggable_path

# Content-Security-Policy: everything from our own origin, no inline script, no CDN.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; "
    "form-action 'self'; object-src 'none'"
)
# Powerful browser features no page uses are switched off for every origin.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    """Make the request id and client address available to audit events."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        import uuid

        ctx = RequestContext(
            request_id=uuid.uuid4().hex,
            client_ip=client_ip(request),
            path=loggable_path(request.path),
        )
        token = _current.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = ctx.request_id
        return response


class SecurityHeadersMiddleware:
    """CSP, Permissions-Policy and framing headers on every response.

    It sits just inside Django's SecurityMiddleware and outside WhiteNoise (settings), so
    static files, error pages (400, 403, 404, 500) and redirects carry the headers too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        # XFrameOptionsMiddleware sets it on pages; static files pass outside it.
        response.setdefault("X-Frame-Options", "DENY")
        # Pages with participant data must not be kept by shared caches or the back button.
        # A response that set its own Cache-Control (the 503 of a database outage) is not
        # asked about the user: that would query the unreachable database (issue 13).
        if "Cache-Control" not in response and (
            request.user.is_authenticated if hasattr(request, "user") else False
        ):
            response["Cache-Control"] = "no-store"
        return response


# --- H2: automatic log-off after inactivity (issue 8, point 5) ----------------------------


class IdleTimeoutMiddleware:
    """End a session after the user's period of inactivity (ONC 170.315(d)(5)).

    `last_activity` lives in the session. A request after the timeout signs the user out
    (TIMED_OUT in the audit log) and sends them to the login page, `next` set to the page;
    a form posted after the timeout is first parked (`core.idle`), so nothing typed is
    lost. Checked in `process_view`, which runs after the CSRF check: a forged post is
    refused before anything is kept. Views marked `openiop_idle = "self"` (the idle
    script's keepalive and poll) keep the clock themselves: polling is not activity.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., Any],
        view_args: Any,
        view_kwargs: Any,
    ) -> HttpResponseBase | None:
        import time

        from django.contrib.auth.views import redirect_to_login
        from django.http import JsonResponse

        from . import idle

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        role = getattr(view_func, "openiop_idle", None)
        if role == "self":
            return None
        now = time.time()
        timeout = idle.timeout_seconds(request)
        last = request.session.get(idle.LAST_ACTIVITY)
        if not isinstance(last, int | float) or now - last < 0:
            idle.touch(request, now)
            return None
        if now - last <= timeout:
            if now - last >= idle.write_every(timeout):
                idle.touch(request, now)
            return None
        # Timed out. A form posted now is kept before the session ends.
        page = request.get_full_path() if request.method == "GET" else idle.page_of(request)
        draft = None
        if request.method == "POST" and _is_form_post(request):
            try:
                if role == "park":
                    page, forms = idle.parse_park(request.POST)
                else:
                    page, forms = idle.page_of(request), idle.forms_from_post(request)
                draft = idle.park(user, page, forms)
            except idle.BadDraft:
                draft = None
        idle.time_out(request, kept=draft is not None)
        if role == "park":
            return JsonResponse({"parked": draft is not None, "signed_out": True})
        return redirect_to_login(page, idle.login_url_for(page))


def _is_form_post(request: HttpRequest) -> bool:
    kind = request.content_type or ""
    return kind in ("application/x-www-form-urlencoded", "multipart/form-data")


class LanguageMiddleware:
    """Every request starts in the site's language and ends by dropping whatever language
    it activated. The portal activates its account's language (issue 9, point 6); without
    this reset, the next request served by the same thread would inherit it, and a staff
    page would speak Spanish."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        from django.utils import translation

        translation.activate(settings.LANGUAGE_CODE)
        try:
            return self.get_response(request)
        finally:
            translation.deactivate()
