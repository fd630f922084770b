"""The Kaplan–Meier estimator against a hand-worked example and against `lifelines`
(acceptance 1 of issue 10)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.outcomes.km import kaplan_meier, survival_table


def test_a_hand_worked_example_with_censoring():
    """Eight people; durations in days, * = censored (completed, or still in care):

        3  5*  7  7  10*  12  15*  20

    t    n at risk   d   c   S(t)
    3    8           1   0   1 · (1 − 1/8)      = 0.875
    5    7           0   1   0.875
    7    6           2   0   0.875 · (1 − 2/6)  = 0.583333…
    10   4           0   1   0.583333…
    12   3           1   0   0.583333 · (1 − 1/3) = 0.388888…
    15   2           0   1   0.388888…
    20   1           1   0   0

    The median is 12, the first time S(t) ≤ 0.5. S(10) = 0.5833; nobody is followed past
    20 days, so S(30) is not known.
    """
    durations = [3, 5, 7, 7, 10, 12, 15, 20]
    events = [True, False, True, True, False, True, False, True]
    km = kaplan_meier(durations, events)
    table = [(s.time, s.at_risk, s.events, s.censored) for s in km.steps]
    assert table == [
        (3, 8, 1, 0),
        (5, 7, 0, 1),
        (7, 6, 2, 0),
        (10, 4, 0, 1),
        (12, 3, 1, 0),
        (15, 2, 0, 1),
        (20, 1, 1, 0),
    ]
    expected = [0.875, 0.875, 0.875 * 4 / 6, 0.875 * 4 / 6, 0.875 * 4 / 6 * 2 / 3]
    for step, want in zip(km.steps, expected, strict=False):
        assert step.survival == pytest.approx(want, abs=1e-12)
    assert km.steps[-1].survival == 0
    assert km.median == 12
    assert km.n == 8 and km.events == 5 and km.censored == 3
    assert km.survival_at(2) == 1.0
    assert km.survival_at(10) == pytest.approx(0.583333333, abs=1e-9)
    assert km.survival_at(30) is None
    assert survival_table(km, [7, 30]) == [(7, pytest.approx(0.5833333333), 6), (30, None, 0)]


def test_no_event_means_no_median_and_empty_input_is_empty():
    km = kaplan_meier([4, 9], [False, False])
    assert km.median is None and km.survival_at(9) == 1.0
    empty = kaplan_meier([], [])
    assert empty.steps == () and empty.median is None and empty.survival_at(30) is None


@pytest.mark.parametrize(("durations", "events"), [([1], []), ([-1], [True]), ([1.5], [True])])
def test_bad_input_is_refused(durations, events):
    with pytest.raises(ValueError):
        kaplan_meier(durations, events)


samples = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40), st.booleans()), min_size=1, max_size=60
)


@settings(max_examples=150, deadline=None)
@given(samples)
def test_matches_lifelines_on_random_data_with_ties_and_censoring(sample):
    from lifelines import KaplanMeierFitter

    durations = [d for d, _ in sample]
    events = [e for _, e in sample]
    km = kaplan_meier(durations, events)
    fitter = KaplanMeierFitter().fit(durations, event_observed=events)
    theirs = fitter.survival_function_["KM_estimate"]
    table = fitter.event_table
    for step in km.steps:
        assert theirs.loc[step.time] == pytest.approx(step.survival, abs=1e-9)
        assert table.loc[step.time, "at_risk"] == step.at_risk
        assert table.loc[step.time, "observed"] == step.events
        assert table.loc[step.time, "censored"] == step.censored
    their_median = fitter.median_survival_time_
    if math.isinf(their_median):
        assert km.median is None or abs(km.survival_at(km.median) - 0.5) < 1e-9
    elif km.median != their_median:
        # Only where S(t) is 0.5 up to rounding may the two disagree on "≤ 0.5".
        assert km.median is not None
        assert abs(km.survival_at(km.median) - 0.5) < 1e-9
    else:
        assert km.median == pytest.approx(their_median, abs=1e-9)
