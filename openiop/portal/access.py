"""Who may open a portal page, in which language, and the audit of it (issue 9).

`portal_view(kinds)` is the portal's `staff_view`: a signed-in participant or family
member with an active `PortalAccount` of one of `kinds`; staff get a 403 (their pages
are elsewhere), anonymous visitors the portal's sign-in page. The page is served in the
account's language, and every GET that answers 200 writes a view event naming the
participant whose record it shows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from openiop.accounts.models import PortalKind
from openiop.core import audit
from openiop.core.access import AccessDenied
from openiop.core.choices import AuditAction

from .models import Language, PortalAccount

if TYPE_CHECKING:
    from openiop.accounts.models import User

PARTICIPANT = (PortalKind.PARTICIPANT,)
FAMILY = (PortalKind.FAMILY,)
ANY = (PortalKind.PARTICIPANT, PortalKind.FAMILY)


class PortalRequest(HttpRequest):
    """A request `portal_view` let through: `portal` is the signed-in account."""

    user: User
    portal: PortalAccount


def language_for(request: HttpRequest, account: PortalAccount | None = None) -> str:
    """The account's language; before sign-in, `?lang=`, then the browser's choice."""
    if account is not None:
        return account.language
    asked = request.GET.get("lang", "")
    if asked in Language.values:
        return asked
    chosen = translation.get_language_from_request(request)
    return chosen if chosen in Language.values else Language.ENGLISH


def activate(request: HttpRequest, account: PortalAccount | None = None) -> str:
    code = language_for(request, account)
    translation.activate(code)
    request.LANGUAGE_CODE = code
    return code


def account_of(user: Any) -> PortalAccount | None:
    if not getattr(user, "is_authenticated", False) or not user.portal_kind:
        return None
    return (
        PortalAccount.objects.select_related("participant", "participant__program", "contact")
        .filter(user=user, ended_at__isnull=True)
        .first()
    )


def portal_view(
    kinds: Iterable[str] = ANY, *, audit_page: str | None = None
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    allowed = tuple(kinds)

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            user = request.user
            if not user.is_authenticated:
                activate(request)
                return redirect_to_login(request.get_full_path(), "portal:login")
            if not user.portal_kind:
                audit.record(
                    AuditAction.DENIED,
                    actor=user,
                    object_type="portal.page",
                    object_id=request.path[:64],
                    reason="staff account on a portal page",
                )
                raise AccessDenied("This page belongs to the participant and family portal.")
            account = account_of(user)
            if account is None or not user.is_active:
                # Ended (discharge, consent revoked, closed by staff): signed out at once.
                auth_logout(request)
                return redirect("portal:login")
            activate(request, account)
            if account.kind not in allowed:
                audit.record(
                    AuditAction.DENIED,
                    actor=user,
                    object_type="portal.page",
                    object_id=request.path[:64],
                    participant_id=account.participant_id,
                    reason="portal page of another kind of account",
                )
                raise AccessDenied(_("This page is not part of your portal."))
            request.portal = account  # type: ignore[attr-defined]
            response = view(request, *args, **kwargs)
            if request.method == "GET" and response.status_code == 200:
                audit.record(
                    AuditAction.VIEW,
                    actor=user,
                    object_type=audit_page or f"portal.{view.__name__}",
                    participant_id=account.participant_id,
                )
            response.headers.setdefault("Content-Language", account.language)
            return response

        wrapper.openiop_portal_view = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def portal_public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A portal page reachable without an account (sign-in, accepting an invitation, a
    one-tap link): served in the visitor's language, and public for the URL test."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        activate(request, account_of(request.user))
        return view(request, *args, **kwargs)

    wrapper.openiop_public = True  # type: ignore[attr-defined]
    return wrapper
