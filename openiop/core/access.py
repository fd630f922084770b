"""Access checks shared by every view.

Two questions are asked of every request for protected data, in this order:

1. *Is the object in the user's scope?* (their program, their care team). If not, the
   answer is 404, so that a record outside the user's program is not even confirmed to
   exist. Scoped lookups live next to the model (`participants.access`).
2. *May the user's roles see this kind of data?* If not, 403 with an explanation.

Every allowed view is recorded as an audit event by the same helpers, so a view cannot
forget to audit. `staff_view` declares the permission a page needs; the URL test reads
that declaration for every URL pattern.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeGuard

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from . import audit
from .choices import AuditAction
from .roles import Perm, roles_with

if TYPE_CHECKING:
    from openiop.accounts.models import User


class StaffRequest(HttpRequest):
    """A request that `staff_view` let through: the user is signed in, never anonymous.

    Annotate staff views (and the helpers they pass the request to) with it, so that
    `request.user` is a `User` with its roles and programs.
    """

    user: User


def is_signed_in(request: HttpRequest) -> TypeGuard[StaffRequest]:
    """True for a signed-in user, which makes the request a `StaffRequest`."""
    return request.user.is_authenticated


class AccessDenied(PermissionDenied):
    """403 with a message the user can act on."""


class EmergencyAccessRequired(PermissionDenied):
    """The participant is in the user's program but outside their care teams: the user may
    open the chart only through emergency access (break-the-glass, issue 8). The privacy
    middleware answers with the emergency-access form (403)."""

    def __init__(self, participant_pk: int):
        super().__init__("This participant is not on your care team.")
        self.participant_pk = participant_pk


def explain_missing(perm: str) -> str:
    label = Perm(perm).label if perm in Perm.values else perm
    holders = ", ".join(roles_with(perm)) or "no role"
    return (
        f"Your roles do not allow this: “{label}”. "
        f"Roles that can: {holders}. Ask an administrator if your work needs it."
    )


def require_perm(request: StaffRequest, perm: str, *, what: str = "") -> None:
    """Raise a 403 (and audit the refusal) unless the user holds `perm`."""
    user = request.user
    if not user.has_perm_code(perm):
        audit.record(
            AuditAction.DENIED,
            actor=user,
            object_type=what or "page",
            object_id=str(perm),
            reason="missing permission",
        )
        raise AccessDenied(explain_missing(perm))


def staff_view(
    perm: str | None, *, audit_page: str | None = None, portal_too: bool = False
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Declare what a staff page needs.

    `perm` is the permission every request needs (None: any signed-in, active staff
    member, e.g. the today board or changing one's own password). `audit_page` writes a
    view event naming the page, for pages that show no single participant (lists and
    set-up); pages about one participant audit through `participants.access`.
    `portal_too` lets portal accounts in as well (only for endpoints about the session
    itself, such as the idle script's keep-alive; never with a permission).
    """
    if portal_too and perm:
        raise ValueError("portal accounts hold no permissions")

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not is_signed_in(request):
                return redirect_to_login(request.get_full_path())
            if request.user.portal_kind and not portal_too:
                # A participant or family member of the portal (issue 9) never reaches a
                # staff page, not even one every staff member may open.
                audit.record(
                    AuditAction.DENIED,
                    actor=request.user,
                    object_type="page",
                    object_id=request.path[:64],
                    reason="portal account on a staff page",
                )
                raise AccessDenied(
                    "This page is for program staff. Your own pages are in the portal."
                )
            if perm is not None:
                require_perm(request, perm)
            response = view(request, *args, **kwargs)
            if audit_page and request.method == "GET" and response.status_code == 200:
                audit.record(AuditAction.VIEW, actor=request.user, object_type=audit_page)
            return response

        wrapper.openiop_perm = perm  # type: ignore[attr-defined]
        wrapper.openiop_staff_view = True  # type: ignore[attr-defined]
        return wrapper

    return decorator


def public_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view as reachable without signing in (login page, health check)."""
    view.openiop_public = True  # type: ignore[attr-defined]
    return view
