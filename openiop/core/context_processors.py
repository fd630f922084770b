"""Navigation: each item appears only for users who hold its permission."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from .roles import Perm

NAV = [
    ("Today", "core:today", None),
    ("Participants", "participants:list", Perm.PARTICIPANT_VIEW),
    ("Program set-up", "programs:home", Perm.PROGRAM_CONFIGURE),
    ("Staff", "accounts:staff_list", Perm.USERS_MANAGE),
    ("Audit log", "core:audit_log", Perm.AUDIT_VIEW),
    ("Jobs", "core:jobs", Perm.JOBS_VIEW),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, perm in NAV:
        if perm is None or user.has_perm_code(perm):
            url = reverse(name)
            active = request.path == url if url == "/" else request.path.startswith(url)
            items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
