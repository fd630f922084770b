"""Reliable change (Jacobson & Truax 1991), checked against numbers worked by hand."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.instruments import (
    Change,
    Reliability,
    UnknownInstrument,
    all_definitions,
    get,
    reliable_change,
)


def with_reliability(code: str, sd: float, r: float):
    return dataclasses.replace(get(code), reliability=Reliability(sd, r, "test values"))


# Worked by hand, the example used throughout:
#   SD = 5, r = 0.84
#   SE     = 5 * √(1 − 0.84) = 5 * √0.16 = 5 * 0.4 = 2.0
#   S_diff = √2 * 2.0        = 2.8284…
#   first 18 → latest 10:  RCI = (10 − 18) / 2.8284… = −8 / 2.8284… = −2.828…
#   |−2.83| > 1.96 and lower is better on the PHQ-9 → reliable improvement.
#   The change needed: 1.96 * 2.8284… = 5.5437… points, so 6 points or more.
HAND = with_reliability("PHQ-9", sd=5, r=0.84)


def test_hand_worked_example_is_an_improvement():
    change = reliable_change(HAND, 18, 10)
    assert change.rci == pytest.approx(-2.8284, abs=1e-4)
    assert change.threshold_points == pytest.approx(5.5437, abs=1e-4)
    assert change.category == "improved"
    assert change.label == "Reliable improvement"
    assert change.is_reliable


def test_same_change_upwards_is_a_deterioration():
    change = reliable_change(HAND, 10, 18)
    assert change.rci == pytest.approx(2.8284, abs=1e-4)
    assert (change.category, change.label) == ("deteriorated", "Reliable deterioration")


def test_a_change_inside_measurement_error_is_no_change():
    # 18 → 14: RCI = −4 / 2.8284 = −1.414, inside ±1.96.
    change = reliable_change(HAND, 18, 14)
    assert change.rci == pytest.approx(-1.4142, abs=1e-4)
    assert (change.category, change.label) == ("no_change", "No reliable change")
    assert not change.is_reliable
    assert reliable_change(HAND, 12, 12).rci == 0


def test_exactly_1_96_is_not_reliable():
    # SD 1, r 0.5: S_diff = 1 * √(2 * 0.5) = 1 exactly, so RCI equals the change itself.
    exact = with_reliability("PHQ-9", sd=1, r=0.5)
    at_boundary = reliable_change(exact, 0, 1.96)
    assert at_boundary.rci == 1.96  # no rounding: the boundary itself is tested
    assert at_boundary.threshold_points == 1.96
    assert at_boundary.category == "no_change"  # reliable needs |RCI| > 1.96
    assert reliable_change(exact, 1.96, 0).category == "no_change"
    assert reliable_change(exact, 0, 1.97).category == "deteriorated"
    assert reliable_change(exact, 1.97, 0).category == "improved"


def test_higher_is_better_instrument_reverses_the_direction():
    # BARC-10 (higher recovery capital is better), SD 8, r 0.9 for the test:
    #   S_diff = 8 * √(2 * 0.1) = 8 * 0.44721 = 3.5777; threshold 1.96 * 3.5777 = 7.0123.
    #   30 → 40: RCI = 10 / 3.5777 = 2.795 → a rise, and a rise is improvement here.
    barc = with_reliability("BARC-10", sd=8, r=0.9)
    assert barc.higher_is_worse is False
    up = reliable_change(barc, 30, 40)
    assert up.rci == pytest.approx(2.7951, abs=1e-4)
    assert up.threshold_points == pytest.approx(7.0123, abs=1e-4)
    assert up.category == "improved"
    assert reliable_change(barc, 40, 30).category == "deteriorated"
    assert reliable_change(barc, 30, 37).category == "no_change"


# The shipped values, worked by hand (see definitions.py for their sources):
#   PHQ-9  SD 5.5,  r 0.89: S_diff = 5.5 * √0.22 = 2.5797; threshold 5.056 → 6 points
#   GAD-7  SD 4.5,  r 0.92: S_diff = 4.5 * √0.16 = 1.8;    threshold 3.528 → 4 points
#   PCL-5  SD 12.4, r 0.91: S_diff = 12.4 * √0.18 = 5.2609; threshold 10.311 → 11 points
SHIPPED = [
    ("PHQ-9", 5.056, 5, 6),
    ("GAD-7", 3.528, 3, 4),
    ("PCL-5", 10.311, 10, 11),
]


@pytest.mark.parametrize(("code", "threshold", "not_enough", "enough"), SHIPPED)
def test_shipped_reliability_thresholds(code, threshold, not_enough, enough):
    high = get(code).max_total
    change = reliable_change(code, high, high - enough)
    assert change.threshold_points == pytest.approx(threshold, abs=1e-3)
    assert change.category == "improved"
    assert reliable_change(code, high, high - not_enough).category == "no_change"
    assert reliable_change(code, 0, enough).category == "deteriorated"
    assert reliable_change(code, 0, not_enough).category == "no_change"


def test_phq9_gad7_pcl5_have_reliability_with_a_named_source():
    for code in ("PHQ-9", "GAD-7", "PCL-5"):
        reliability = get(code).reliability
        assert reliability is not None
        assert reliability.source


NO_RELIABILITY = [d.code for d in all_definitions() if d.reliability is None]


def test_which_instruments_lack_reliability():
    assert set(NO_RELIABILITY) >= {"BAM", "C-SSRS", "CRAVING"}
    assert set(NO_RELIABILITY).isdisjoint({"PHQ-9", "GAD-7", "PCL-5"})


@pytest.mark.parametrize("code", NO_RELIABILITY)
def test_none_without_reliability(code):
    instrument = get(code)
    assert reliable_change(code, instrument.min_total, instrument.max_total) is None


def test_codes_are_looked_up_like_everywhere_else():
    assert reliable_change("phq9", 20, 5) == reliable_change("PHQ-9", 20, 5)
    with pytest.raises(UnknownInstrument, match="Known instruments"):
        reliable_change("HAM-D", 20, 5)


@pytest.mark.parametrize(
    ("first", "latest", "message"),
    [
        (28, 10, r"The first PHQ-9 score 28 is outside 0–27"),
        (10, -1, r"The latest PHQ-9 score -1 is outside 0–27"),
        (math.nan, 10, r"The first PHQ-9 score must be a number"),
        (True, 10, r"The first PHQ-9 score must be a number"),
        (10, "5", r"The latest PHQ-9 score must be a number"),
        (10, None, r"The latest PHQ-9 score must be a number"),
    ],
)
def test_impossible_scores_are_refused(first, latest, message):
    with pytest.raises(ValueError, match=message):
        reliable_change("PHQ-9", first, latest)


def test_change_label_for_each_category():
    labels = {c: Change(0.0, 1.0, c).label for c in ("improved", "no_change", "deteriorated")}
    assert labels == {
        "improved": "Reliable improvement",
        "no_change": "No reliable change",
        "deteriorated": "Reliable deterioration",
    }


WITH_RELIABILITY = [d for d in all_definitions() if d.reliability is not None]


@given(st.data())
def test_reliable_exactly_when_the_change_exceeds_the_threshold(data):
    instrument = data.draw(st.sampled_from(WITH_RELIABILITY))
    scores = st.integers(min_value=instrument.min_total, max_value=instrument.max_total)
    first, latest = data.draw(scores), data.draw(scores)
    change = reliable_change(instrument, first, latest)
    back = reliable_change(instrument, latest, first)
    assert back.rci == pytest.approx(-change.rci)
    assert change.threshold_points > 0
    moved = abs(latest - first)
    assert change.is_reliable is (moved > change.threshold_points)
    if change.is_reliable:
        assert change.category != back.category
        went_down = latest < first
        assert (change.category == "improved") is (went_down == instrument.higher_is_worse)
    else:
        assert back.category == "no_change"
