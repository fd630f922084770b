"""Which programs and sites a user may see and configure."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from openiop.core.roles import Role

from .models import Program, Site


def programs_for(user: Any) -> QuerySet[Program]:
    """Administrators configure every program; everyone else only their own."""
    if user.has_role(Role.ADMIN):
        return Program.objects.all()
    return Program.objects.filter(pk__in=user.program_ids)


def sites_for(user: Any) -> QuerySet[Site]:
    if user.has_role(Role.ADMIN):
        return Site.objects.all()
    return Site.objects.filter(programs__pk__in=user.program_ids).distinct()
