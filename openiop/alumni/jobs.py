"""Jobs of the alumni follow-ups."""

from __future__ import annotations

from openiop.core.worker import Daily, register_job

from .services import GIVE_UP_AFTER_DAYS, close_overdue


@register_job("alumni.close_overdue_follow_ups", Daily(hour=3, minute=50))
def close_overdue_follow_ups(period: str) -> str:
    """Close as not reached the follow-ups tried and still pending 30 days after due."""
    closed = close_overdue()
    return f"{closed} follow-ups closed as not reached {GIVE_UP_AFTER_DAYS} days after due"
