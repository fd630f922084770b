"""The idle script's endpoints (automatic log-off, issue 8 point 5; see `core.idle`).

All answer POST only and are CSRF-protected. `keepalive` and `park` answer JSON for the
script; `idle_logout` is where the script sends the browser at the end.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import idle
from .access import StaffRequest, public_view, staff_view


@staff_view(None, portal_too=True)
@require_POST
def keepalive(request: StaffRequest) -> HttpResponse:
    """The user is active on the page: start the clock again, unless the session has
    already timed out. `poll=1` only asks the seconds left (polling is not activity)."""
    timeout = idle.timeout_seconds(request)
    left = idle.remaining(request)
    if request.POST.get("poll") != "1" and left > 0:
        idle.touch(request)
        left = timeout
    return JsonResponse({"remaining": max(0.0, round(left, 1)), "timeout": timeout})


keepalive.openiop_idle = "self"  # type: ignore[attr-defined]  # the middleware leaves it


@staff_view(None, portal_too=True)
@require_POST
def park(request: StaffRequest) -> HttpResponse:
    """Keep the changed forms of a page before the session ends (given back on return)."""
    try:
        path, forms = idle.parse_park(request.POST)
    except idle.BadDraft as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    draft = idle.park(request.user, path, forms)
    if draft is not None:
        idle.remember_parked(request, path)
    return JsonResponse({"parked": draft is not None})


park.openiop_idle = "park"  # type: ignore[attr-defined]  # parked even after the time-out


@staff_view(None, portal_too=True)
@require_POST
def park_restored(request: StaffRequest) -> HttpResponse:
    """The page gave the parked draft back: do not offer it again."""
    raw = request.POST.get("draft", "")
    if not raw.isdigit() or len(raw) > 18:
        return JsonResponse({"error": "Which draft? Send its number."}, status=400)
    draft = idle.mark_restored(request.user, int(raw))
    if draft is None:
        return JsonResponse({"error": "No such draft to give back."}, status=404)
    idle.forget_parked(request, draft.path)
    return JsonResponse({"restored": True})


@public_view
@require_POST
def idle_logout(request: HttpRequest) -> HttpResponse:
    """The end of an idle session: sign out (TIMED_OUT) and show the login page, `next`
    set to the page the user was on. Public: the session may have ended already (the
    server is the authority), and then only the message is shown."""
    page = idle.safe_path(request.POST.get("next")) or reverse("core:today")
    if request.user.is_authenticated:
        minutes: int | None = round(idle.timeout_seconds(request) / 60)
        idle.time_out(request, kept=True)
    else:
        raw = request.POST.get("minutes", "")
        minutes = int(raw) if raw.isdigit() and 1 <= int(raw) <= 120 else None
    # One message, even when the server signed the user out first and said so.
    storage = messages.get_messages(request)
    kept = [m for m in storage if not str(m).startswith("You were signed out")]
    for m in kept:
        messages.add_message(request, m.level, m.message, extra_tags=m.extra_tags)
    messages.info(request, idle.signed_out_message(minutes, kept=True))
    return redirect_to_login(page, idle.login_url_for(page))


idle_logout.openiop_idle = "self"  # type: ignore[attr-defined]  # signs out itself
