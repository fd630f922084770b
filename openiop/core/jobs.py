"""Jobs owned by core."""

from __future__ import annotations

from django.contrib.sessions.models import Session
from django.utils import timezone

from .worker import Daily, register_job


@register_job("core.clear_expired_sessions", Daily(hour=3))
def clear_expired_sessions(period: str) -> str:
    """Remove expired login sessions from the database."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return f"{deleted} expired sessions removed"
