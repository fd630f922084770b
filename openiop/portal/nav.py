"""The portal's navigation, per kind of account. Each app adds its items here (label,
URL name); the context processor marks the current one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

PARTICIPANT_NAV: list[tuple[Any, str]] = [
    (_("Home"), "portal:home"),
    (_("Check-in"), "portal:check_in"),
    (_("Questionnaires"), "portal:questionnaires"),
    (_("My plan"), "portal:plan"),
    (_("My progress"), "portal:progress"),
    (_("Letters"), "portal_letters:list"),
    # Issue 10: the aftercare plan the counsellor gave.
    (_("Aftercare"), "portal_aftercare:plan"),
    (_("Messages"), "portal_notify:preferences"),
    (_("Settings"), "portal:settings"),
]
FAMILY_NAV: list[tuple[Any, str]] = [
    (_("Home"), "family_portal:home"),
    # openiop.family: education, and "how to support" someone in recovery.
    (_("Learn"), "family_portal:education"),
    (_("How to support"), "family_portal:support"),
    (_("Settings"), "family_portal:settings"),
]


def portal_nav(request: HttpRequest) -> dict[str, Any]:
    account = getattr(request, "portal", None)
    if account is None:
        return {}
    items = []
    for label, name in FAMILY_NAV if account.kind == "family" else PARTICIPANT_NAV:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = request.path == url or (url.count("/") > 3 and request.path.startswith(url))
        items.append({"label": label, "url": url, "active": active})
    return {"portal_nav": items}
