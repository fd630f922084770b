"""Policy simulation (issue 7, point 4): the real selection rule (`selection.derive`) run
over simulated program days, to show a director what a random rate means per participant,
per weekday and in cost before choosing it.

Each simulated day gets its own seed, derived from the run's seed text so the same
arguments print the same figures: SHA-256 of "<seed>|<day index>". The pool is the same
participants every day (ids 1 … N), K program days a week, Monday first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .selection import derive

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
# A Monday to count simulated days from (only the weekday matters).
START = dt.date(2024, 1, 1)
MAX_PARTICIPANTS = 10_000
MAX_DAYS = 20_000
# Participant-days a run may draw (about five seconds of HMACs).
MAX_DRAWS = 5_000_000
MAX_RATE = Decimal(7)
CENTS = Decimal("0.01")
_PLACES = Decimal("0.000001")


class SimulationInputError(ValueError):
    """Arguments out of range; the message says which."""


def day_seed(seed: str, index: int) -> bytes:
    return hashlib.sha256(f"{seed}|{index}".encode()).digest()


def program_days(days: int, days_per_week: int) -> list[dt.date]:
    """The first `days` program days from START, on the first K weekdays of each week."""
    out: list[dt.date] = []
    day = START
    while len(out) < days:
        if day.weekday() < days_per_week:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def simulate(
    *,
    participants: int,
    days: int,
    rate: Decimal,
    seed: str,
    days_per_week: int = 5,
    price: Decimal = Decimal("12.00"),
) -> dict[str, Any]:
    """Draw `days` program days for `participants` at `rate` random tests per participant
    per week (chance per day = rate ÷ days per week, as the policy computes it) and count.

    `cost_per_week` is the expected cost of the whole pool per week at that rate;
    `cost_total` is what the simulated selections would have cost."""
    if not 1 <= participants <= MAX_PARTICIPANTS:
        raise SimulationInputError(f"--participants must be 1 to {MAX_PARTICIPANTS}.")
    if not 1 <= days <= MAX_DAYS:
        raise SimulationInputError(f"--days must be 1 to {MAX_DAYS}.")
    if participants * days > MAX_DRAWS:
        raise SimulationInputError(
            f"--participants times --days is at most {MAX_DRAWS:,} draws; simulate fewer."
        )
    if not Decimal(0) <= rate <= MAX_RATE:
        raise SimulationInputError("--rate must be 0 to 7 tests per participant per week.")
    if not 1 <= days_per_week <= 7:
        raise SimulationInputError("--days-per-week must be 1 to 7.")
    if not Decimal(0) <= price <= Decimal(100_000):
        raise SimulationInputError("--price must be 0 to 100000.")
    # The same chance per day as a program's policy (ScreeningPolicy.daily_probability,
    # kept to the six decimals a draw records).
    probability = min(Decimal(1), rate / Decimal(days_per_week)).quantize(_PLACES)
    pool = list(range(1, participants + 1))
    per_participant = [0] * participants
    per_weekday = {WEEKDAYS[i]: 0 for i in range(days_per_week)}
    for index, day in enumerate(program_days(days, days_per_week)):
        picked = derive(day_seed(seed, index), day, pool, probability)
        for episode_id in picked:
            per_participant[episode_id - 1] += 1
        per_weekday[WEEKDAYS[day.weekday()]] += len(picked)
    total = sum(per_participant)
    weeks = Decimal(days) / Decimal(days_per_week)
    expected = probability * days_per_week
    observed = Decimal(total) / Decimal(participants) / weeks
    return {
        "participants": participants,
        "days": days,
        "days_per_week": days_per_week,
        "rate": float(rate),
        "probability": float(probability),
        "selections_per_participant": per_participant,
        "selections_per_weekday": per_weekday,
        "expected_tests_per_participant_per_week": float(expected.quantize(Decimal("0.0001"))),
        "observed_tests_per_participant_per_week": float(
            observed.quantize(Decimal("0.0001"), ROUND_HALF_UP)
        ),
        "price_per_test": float(price.quantize(CENTS, ROUND_HALF_UP)),
        "cost_per_week": float((expected * participants * price).quantize(CENTS, ROUND_HALF_UP)),
        "cost_total": float((Decimal(total) * price).quantize(CENTS, ROUND_HALF_UP)),
        "selections_total": total,
    }
