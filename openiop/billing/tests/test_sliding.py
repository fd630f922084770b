"""The sliding-fee arithmetic (billing/sliding.py), worked by hand, and its properties: a
household with less income never pays more, whatever the (monotone) tiers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openiop.billing import sliding
from openiop.billing.setup_forms import tier_order_problem

# The 2025 HHS guideline for the 48 states (BillingProfile's defaults): $15,650 for one
# person and $5,500 for each additional person.
BASE, PER = 15650, 5500


@dataclass
class Tier:
    up_to_percent: int | None
    fee_per_day: Decimal


@dataclass
class Profile:
    daily_charge: Decimal = Decimal("250.00")
    poverty_base: int = BASE
    poverty_per_person: int = PER


@dataclass
class Household:
    household_size: int | None
    annual_income: Decimal | None


TIERS = [
    Tier(100, Decimal("20.00")),
    Tier(150, Decimal("50.00")),
    Tier(200, Decimal("100.00")),
    Tier(None, Decimal("250.00")),
]


@pytest.mark.parametrize(
    ("size", "guideline"),
    [(1, 15650), (2, 21150), (4, 32150), (8, 54150)],  # 15,650 + (n − 1) x 5,500
)
def test_poverty_guideline(size, guideline):
    assert sliding.poverty_guideline(BASE, PER, size) == guideline


def test_a_household_has_someone_in_it():
    with pytest.raises(ValueError):
        sliding.poverty_guideline(BASE, PER, 0)
    with pytest.raises(ValueError):
        sliding.percent_of_poverty(BASE, PER, 1, Decimal("-1"))


@pytest.mark.parametrize(
    ("size", "income", "percent"),
    [
        (1, "15650", 100),  # at the guideline
        (1, "0", 0),
        (2, "21150", 100),
        (4, "48225", 150),  # 48,225 / 32,150 = 1.5 exactly
        (4, "30000", 93),  # 30,000 / 32,150 = 0.9331… → 93
        (3, "30000", 113),  # 30,000 / 26,650 = 1.1257… → 113
        (1, "15728.25", 101),  # 15,728.25 / 15,650 = 1.005 exactly: half rounds up
        (1, "15727", 100),  # 1.00492… → 100
    ],
)
def test_percent_of_poverty(size, income, percent):
    assert sliding.percent_of_poverty(BASE, PER, size, Decimal(income)) == percent


@pytest.mark.parametrize(
    ("percent", "fee"),
    [
        (0, "20.00"),
        (100, "20.00"),  # a limit includes itself
        (101, "50.00"),
        (150, "50.00"),
        (151, "100.00"),
        (200, "100.00"),
        (201, "250.00"),  # above every limit: the open tier
        (900, "250.00"),
    ],
)
def test_tier_for(percent, fee):
    # Given out of order: the lowest limit at or above the percentage wins.
    tier = sliding.tier_for(list(reversed(TIERS)), percent)
    assert tier is not None and tier.fee_per_day == Decimal(fee)


def test_without_an_open_tier_an_income_above_every_limit_has_none():
    assert sliding.tier_for(TIERS[:2], 151) is None
    assert sliding.tier_for([], 50) is None


@pytest.mark.parametrize(
    ("household", "fee"),
    [
        (Household(4, Decimal("30000")), "20.00"),  # 93%
        (Household(3, Decimal("30000")), "50.00"),  # 113%
        (Household(1, Decimal("30000")), "100.00"),  # 30,000 / 15,650 = 192%
        (Household(1, Decimal("40000")), "250.00"),  # 256%
        (Household(None, None), "250.00"),  # not assessed: the full charge
        (Household(2, None), "250.00"),
    ],
)
def test_fee_per_day(household, fee):
    assert sliding.fee_per_day(Profile(), TIERS, household) == Decimal(fee)


def test_no_tiers_means_the_full_charge():
    assert sliding.fee_per_day(Profile(), [], Household(1, Decimal("0"))) == Decimal("250.00")
    # No open tier and an income above every limit: the full charge too.
    assert sliding.fee_per_day(Profile(), TIERS[:1], Household(1, Decimal("99999"))) == Decimal(
        "250.00"
    )


# --- properties ---------------------------------------------------------------------------


@st.composite
def monotone_tiers(draw):
    """Tiers as the set-up form lets a program make them: distinct limits, at most one
    open tier, a fee that never falls as the limit rises."""
    limits = sorted(draw(st.sets(st.integers(1, 1000), min_size=0, max_size=6)))
    fees = sorted(
        draw(st.lists(st.integers(0, 999_999), min_size=len(limits) + 1, max_size=len(limits) + 1))
    )
    tiers = [Tier(limit, Decimal(fee) / 100) for limit, fee in zip(limits, fees, strict=False)]
    if draw(st.booleans()) or not tiers:
        tiers.append(Tier(None, Decimal(fees[-1]) / 100))
    return draw(st.permutations(tiers))


incomes = st.decimals(min_value=0, max_value=10_000_000, places=2)


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    tiers=monotone_tiers(),
    size=st.integers(1, 20),
    a=incomes,
    b=incomes,
)
def test_the_fee_never_rises_when_income_falls(tiers, size, a, b):
    low, high = sorted([a, b])
    profile = Profile(daily_charge=Decimal("9999.99"))
    fee_low = sliding.fee_per_day(profile, tiers, Household(size, low))
    fee_high = sliding.fee_per_day(profile, tiers, Household(size, high))
    assert fee_low <= fee_high


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tiers=monotone_tiers(), size=st.integers(1, 19), income=incomes)
def test_a_bigger_household_never_pays_more_on_the_same_income(tiers, size, income):
    profile = Profile(daily_charge=Decimal("9999.99"))
    fee_small = sliding.fee_per_day(profile, tiers, Household(size, income))
    fee_big = sliding.fee_per_day(profile, tiers, Household(size + 1, income))
    assert fee_big <= fee_small


@settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(tiers=monotone_tiers())
def test_the_set_up_form_accepts_monotone_tiers_and_refuses_the_rest(tiers):
    ordered = sorted(tiers, key=lambda t: (t.up_to_percent is None, t.up_to_percent or 0))
    # Each tier fits among the others...
    for tier in ordered:
        rest = [t for t in ordered if t is not tier]
        assert tier_order_problem(rest, tier.up_to_percent, tier.fee_per_day) == ""
    # ...and a tier just above one that costs less, or just below it that costs more, is
    # refused.
    cent = Decimal("0.01")
    for tier in ordered:
        if tier.up_to_percent is None:
            assert tier_order_problem([tier], 50, tier.fee_per_day + cent) != ""
            continue
        if tier.fee_per_day > 0:
            cheaper = tier.fee_per_day - cent
            assert tier_order_problem([tier], tier.up_to_percent + 1, cheaper) != ""
            assert tier_order_problem([tier], None, cheaper) != ""
        if tier.up_to_percent > 1:
            dearer = tier.fee_per_day + cent
            assert tier_order_problem([tier], tier.up_to_percent - 1, dearer) != ""
