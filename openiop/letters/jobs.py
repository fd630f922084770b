"""Jobs of the attendance letters."""

from __future__ import annotations

from openiop.core.worker import Daily, register_job

from .verify import forget_old_attempts


@register_job("letters.forget_verification_attempts", Daily(hour=3, minute=40))
def forget_verification_attempts(period: str) -> str:
    """Remove failed letter verifications older than a day (they only feed the throttle)."""
    return f"{forget_old_attempts()} old failed verifications removed"
