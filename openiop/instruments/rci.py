"""Reliable change between two totals (Jacobson & Truax 1991).

    SE     = SD · √(1 − r)          standard error of measurement
    S_diff = √2 · SE                standard error of the difference of two scores
    RCI    = (latest − first) / S_diff

|RCI| > 1.96 means the change is larger than measurement error alone would produce
95% of the time. Which direction counts as improvement depends on the instrument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .definitions import Instrument, get

Z = 1.96

_LABELS = {
    "improved": "Reliable improvement",
    "no_change": "No reliable change",
    "deteriorated": "Reliable deterioration",
}


@dataclass(frozen=True)
class Change:
    rci: float
    # The smallest change in points that counts as reliable is anything above this.
    threshold_points: float
    category: str  # "improved" | "no_change" | "deteriorated"

    @property
    def label(self) -> str:
        return _LABELS[self.category]

    @property
    def is_reliable(self) -> bool:
        return self.category != "no_change"


def reliable_change(
    code_or_instrument: str | Instrument, first: float, latest: float
) -> Change | None:
    """The reliable change from `first` to `latest`, or None without published reliability.

    Raises ValueError for a score that is not a number or lies outside the instrument's
    range, and UnknownInstrument for an unknown code.
    """
    instrument = (
        code_or_instrument
        if isinstance(code_or_instrument, Instrument)
        else get(code_or_instrument)
    )
    reliability = instrument.reliability
    if reliability is None or not instrument.has_total:
        return None
    for name, value in (("first", first), ("latest", latest)):
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise ValueError(f"The {name} {instrument.short_name} score must be a number.")
        if not instrument.min_total <= value <= instrument.max_total:
            raise ValueError(
                f"The {name} {instrument.short_name} score {value} is outside "
                f"{instrument.min_total}–{instrument.max_total}."
            )
    # √(2(1 − r)) is √2 · √(1 − r) written so that round values stay exact.
    s_diff = reliability.sd * math.sqrt(2.0 * (1.0 - reliability.r))
    rci = (latest - first) / s_diff
    if abs(rci) <= Z:
        category = "no_change"
    elif (rci < 0) == instrument.higher_is_worse:
        category = "improved"
    else:
        category = "deteriorated"
    return Change(rci=rci, threshold_points=Z * s_diff, category=category)
