"""The Kaplan–Meier product-limit estimator, in plain Python (no numpy at run time).

For each distinct time t_i at which something happened (an event or a censoring):

    n_i  = people still at risk just before t_i (duration ≥ t_i)
    d_i  = events at t_i
    c_i  = censored at t_i (they count as at risk at t_i, then leave)
    S(t) = Π over t_i ≤ t of (1 − d_i / n_i)

The median survival time is the first time at which S(t) ≤ 0.5 (as the `lifelines`
package defines it), or None when the curve never gets there. The test suite checks this
module against `lifelines.KaplanMeierFitter` (a test dependency only).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# S(t) = 0.5 exactly can come out a rounding error above or below a half; a median is
# taken at the first time within this distance of 0.5 or below it.
_HALF_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Step:
    time: int
    at_risk: int
    events: int
    censored: int
    survival: float


@dataclass(frozen=True)
class KaplanMeier:
    steps: tuple[Step, ...]
    n: int
    events: int

    @property
    def censored(self) -> int:
        return self.n - self.events

    @property
    def last_time(self) -> int | None:
        return self.steps[-1].time if self.steps else None

    def survival_at(self, day: int) -> float | None:
        """S(day): the share still "surviving" (here: not lost) at `day`.

        None when nobody was followed that long (day past the last time observed) or
        there is nobody at all; 1.0 before the first event."""
        if not self.steps or day > self.steps[-1].time:
            return None
        value = 1.0
        for step in self.steps:
            if step.time > day:
                break
            value = step.survival
        return value

    def at_risk_at(self, day: int) -> int:
        """People still followed at `day` (duration ≥ day)."""
        return next((s.at_risk for s in self.steps if s.time >= day), 0)

    @property
    def median(self) -> int | None:
        for step in self.steps:
            if step.survival <= 0.5 + _HALF_TOLERANCE:
                return step.time
        return None


def kaplan_meier(durations: Sequence[int], events: Sequence[bool]) -> KaplanMeier:
    """The product-limit estimate for `durations` (whole days ≥ 0) and `events` (True: the
    event happened at that duration; False: censored then). Raises ValueError for lists
    of different lengths or a negative duration."""
    if len(durations) != len(events):
        raise ValueError("Durations and event flags must be as many.")
    for d in durations:
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ValueError(f"A duration must be a whole number of days ≥ 0 (got {d!r}).")
    event_counts: Counter[int] = Counter(d for d, e in zip(durations, events, strict=True) if e)
    censor_counts: Counter[int] = Counter(
        d for d, e in zip(durations, events, strict=True) if not e
    )
    at_risk = len(durations)
    survival = 1.0
    steps: list[Step] = []
    for time in sorted(set(durations)):
        d, c = event_counts[time], censor_counts[time]
        if d:
            survival *= 1.0 - d / at_risk
        steps.append(Step(time=time, at_risk=at_risk, events=d, censored=c, survival=survival))
        at_risk -= d + c
    return KaplanMeier(steps=tuple(steps), n=len(durations), events=sum(event_counts.values()))


def survival_table(km: KaplanMeier, days: Iterable[int]) -> list[tuple[int, float | None, int]]:
    """(day, S(day), at risk at day) for each day asked, e.g. 30, 60 and 90."""
    return [(day, km.survival_at(day), km.at_risk_at(day)) for day in days]
