"""The daily random-selection job: reveal the past days, draw today, order scheduled tests."""

from __future__ import annotations

from openiop.core.worker import Daily, register_job

from .selection import run_daily


@register_job("screening.daily_draw", Daily(hour=5))
def daily_draw_job(period: str) -> str:
    """Reveal past random draws, draw today's selection and order scheduled tests."""
    run = run_daily()
    return (
        f"{run.programs} programs: {run.drawn} drawn, "
        f"{run.revealed} revealed, {run.scheduled} scheduled or admission tests"
    )
