"""Self-pay sliding fee: household income as a percentage of the HHS poverty guideline
for the household's size, and the program's fee for that tier."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def poverty_guideline(base: int, per_person: int, household_size: int) -> int:
    """The guideline for a household: the one-person amount plus the amount for each
    additional person (HHS publishes it this way)."""
    if household_size < 1:
        raise ValueError("a household has at least one person")
    return base + per_person * (household_size - 1)


def percent_of_poverty(
    base: int, per_person: int, household_size: int, annual_income: Decimal
) -> int:
    """Income as a whole percentage of the guideline, rounded half up (100 = at it)."""
    if annual_income < 0:
        raise ValueError("income cannot be negative")
    guideline = Decimal(poverty_guideline(base, per_person, household_size))
    return int((Decimal(annual_income) * 100 / guideline).quantize(Decimal(1), ROUND_HALF_UP))


def tier_for(tiers: Iterable[Any], percent: int) -> Any | None:
    """The tier with the lowest limit at or above `percent`; the open tier (no limit)
    when income is above every limit; None when the program has no tiers."""
    tiers = list(tiers)
    limited = sorted(
        (t for t in tiers if t.up_to_percent is not None), key=lambda t: t.up_to_percent
    )
    for tier in limited:
        if percent <= tier.up_to_percent:
            return tier
    return next((t for t in tiers if t.up_to_percent is None), None)


def fee_per_day(profile: Any, tiers: Iterable[Any], coverage: Any) -> Decimal | None:
    """The self-pay fee of one program day for this coverage; the full charge when the
    household was not assessed or no tier applies."""
    tiers = list(tiers)
    if coverage.household_size is None or coverage.annual_income is None or not tiers:
        return Decimal(profile.daily_charge)
    percent = percent_of_poverty(
        profile.poverty_base,
        profile.poverty_per_person,
        coverage.household_size,
        coverage.annual_income,
    )
    tier = tier_for(tiers, percent)
    return Decimal(tier.fee_per_day) if tier is not None else Decimal(profile.daily_charge)
