"""ASAM decision support: each rule on its own, the combination, boundaries, validation."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.intake import asam
from openiop.intake.asam import DIMENSIONS, INTENSITY, RULES, check_choice, recommend
from openiop.programs.choices import LevelOfCare as L

ALL_3 = list(itertools.product(range(5), repeat=6))
ALL_4 = list(itertools.product(range(5), repeat=5))


def rec3(*ratings: int) -> asam.Recommendation:
    return recommend("3", ratings)


def rec4(*ratings: int, d6: int | None = None) -> asam.Recommendation:
    return recommend("4", (*ratings, d6))


def codes(rules: tuple[asam.Rule, ...]) -> set[str]:
    return {rule.code for rule in rules}


# --- Dimensions, editions, tables -----------------------------------------------------


def test_dimensions_follow_domain_names():
    third = DIMENSIONS["3"]
    fourth = DIMENSIONS["4"]
    assert [d.number for d in third] == [1, 2, 3, 4, 5, 6]
    assert [d.number for d in fourth] == [1, 2, 3, 4, 5, 6]
    assert third[0].name == "Acute Intoxication and/or Withdrawal Potential"
    assert third[3].name == "Readiness to Change"
    assert third[5].name == "Recovery/Living Environment"
    assert fourth[0].name == "Intoxication, Withdrawal, and Addiction Medications"
    assert fourth[3].name == "Substance Use-Related Risks"
    assert fourth[5].name == "Person-Centered Considerations"
    assert all(d.risk_rated for d in third)
    assert [d.risk_rated for d in fourth] == [True] * 5 + [False]
    assert all(d.prompt for d in third + fourth)


def test_intensity_lists_every_level_of_its_edition_once():
    for edition, levels in INTENSITY.items():
        expected = {v for v in L.values if v.startswith(f"{edition}:")}
        assert set(levels) == expected
        assert len(levels) == len(set(levels))
    assert INTENSITY["3"][0] == L.E3_0_5 and INTENSITY["3"][-1] == L.E3_4
    assert INTENSITY["4"][0] == L.E4_1_0 and INTENSITY["4"][-1] == L.E4_4_0
    assert asam.intensity(L.E3_2_1) < asam.intensity(L.E3_2_5) < asam.intensity(L.E3_3_1)


def test_rules_point_to_levels_of_their_own_edition_and_have_unique_codes():
    all_codes = [rule.code for rules in RULES.values() for rule in rules]
    assert len(all_codes) == len(set(all_codes))
    for edition, rules in RULES.items():
        for rule in rules:
            assert asam.edition_of(rule.level) == edition
            assert rule.description.strip()


@pytest.mark.parametrize(
    ("code", "edition"), [("3:2.1", "3"), ("3:4", "3"), ("4:2.1", "4"), ("4:1.0", "4")]
)
def test_edition_of(code, edition):
    assert asam.edition_of(code) == edition


@pytest.mark.parametrize("code", ["", "2.1", "5:2.1", "3:2.7", "4:4"])
def test_edition_of_refuses_an_unknown_level(code):
    with pytest.raises(ValueError, match="not a level of care"):
        asam.edition_of(code)


def test_rules_table_lists_descriptions_with_level_labels():
    table = asam.rules_table("3")
    assert len(table) == len(RULES["3"])
    assert table[0] == (RULES["3"][0].description, L.E3_4.label)
    assert table[-1][1] == "1 Outpatient Services (ASAM 3rd ed.)"
    assert asam.rules_table("4")[-1][1] == "1.5 Outpatient Therapy (ASAM 4th ed.)"
    with pytest.raises(ValueError, match="use 3 or 4"):
        asam.rules_table("5")


# --- 3rd edition: each rule on its own ------------------------------------------------

THIRD_SINGLE = [
    # (ratings, the rule that should set the level, level)
    ((4, 0, 0, 0, 0, 0), "3-any-4", L.E3_4),
    ((0, 0, 0, 0, 0, 4), "3-any-4", L.E3_4),
    ((3, 0, 0, 0, 0, 0), "3-d1-3", L.E3_3_7),
    ((0, 3, 0, 0, 0, 0), "3-d2-d3-3", L.E3_3_7),
    ((0, 0, 3, 0, 0, 0), "3-d2-d3-3", L.E3_3_7),
    ((0, 0, 0, 0, 3, 3), "3-d5-d6-3", L.E3_3_5),
    ((0, 0, 0, 0, 0, 3), "3-d6-3", L.E3_3_1),
    ((0, 0, 0, 0, 3, 0), "3-d5-3", L.E3_2_5),
    ((0, 0, 0, 3, 0, 0), "3-any-2-or-d4-3", L.E3_2_1),
    ((0, 2, 0, 0, 0, 0), "3-any-2-or-d4-3", L.E3_2_1),
    ((0, 0, 0, 0, 0, 0), "3-all-low", L.E3_1),
    ((1, 1, 1, 1, 1, 1), "3-all-low", L.E3_1),
]


@pytest.mark.parametrize(("ratings", "rule", "level"), THIRD_SINGLE)
def test_third_edition_rule_on_its_own(ratings, rule, level):
    result = recommend("3", ratings)
    assert result.level == level
    assert rule in codes(result.driving)


@pytest.mark.parametrize("dim", range(6))
def test_third_edition_any_dimension_at_4_is_level_4(dim):
    ratings = [0] * 6
    ratings[dim] = 4
    result = recommend("3", ratings)
    assert result.level == L.E3_4
    assert codes(result.driving) == {"3-any-4"}


@pytest.mark.parametrize("dim", range(6))
def test_third_edition_any_dimension_at_2_is_iop(dim):
    ratings = [1] * 6
    ratings[dim] = 2
    result = recommend("3", ratings)
    assert result.level == L.E3_2_1
    assert codes(result.fired) == {"3-any-2-or-d4-3"}


def test_third_edition_d5_and_d6_both_needed_for_3_5():
    assert rec3(0, 0, 0, 0, 3, 3).level == L.E3_3_5
    assert rec3(0, 0, 0, 0, 3, 2).level == L.E3_2_5
    assert rec3(0, 0, 0, 0, 2, 3).level == L.E3_3_1


def test_third_edition_d5_and_d6_at_3_fire_three_rules_and_the_highest_drives():
    result = rec3(0, 0, 0, 0, 3, 3)
    assert codes(result.fired) == {"3-d5-d6-3", "3-d6-3", "3-d5-3"}
    assert codes(result.driving) == {"3-d5-d6-3"}


# --- Boundaries: a rating one below the trigger does not fire the rule ----------------


@pytest.mark.parametrize(
    ("ratings", "level"),
    [
        ((2, 0, 0, 0, 0, 0), L.E3_2_1),  # D1 at 2 is not withdrawal needing 24-h care
        ((0, 2, 0, 0, 0, 0), L.E3_2_1),
        ((0, 0, 2, 0, 0, 0), L.E3_2_1),
        ((0, 0, 0, 2, 0, 0), L.E3_2_1),
        ((0, 0, 0, 0, 2, 0), L.E3_2_1),
        ((0, 0, 0, 0, 0, 2), L.E3_2_1),
        ((1, 1, 1, 1, 1, 1), L.E3_1),  # all at the top of "low"
        ((3, 3, 3, 3, 3, 3), L.E3_3_7),  # all at 3, none at 4
    ],
)
def test_third_edition_boundaries(ratings, level):
    assert recommend("3", ratings).level == level


# --- Most intensive wins --------------------------------------------------------------


def test_most_intensive_level_wins_and_the_others_are_kept():
    result = rec3(0, 2, 0, 3, 3, 0)  # any-2/D4-3 → 2.1, D5-3 → 2.5
    assert result.level == L.E3_2_5
    assert codes(result.fired) == {"3-any-2-or-d4-3", "3-d5-3"}
    assert codes(result.driving) == {"3-d5-3"}
    assert "Also noted" in result.explanation
    assert "2.1 Intensive Outpatient" in result.explanation


def test_withdrawal_at_3_outranks_environment_at_3():
    result = rec3(3, 0, 0, 0, 3, 3)
    assert result.level == L.E3_3_7
    assert codes(result.driving) == {"3-d1-3"}
    assert {"3-d5-d6-3", "3-d6-3", "3-d5-3"} <= codes(result.fired)


def test_two_rules_pointing_to_the_same_top_level_both_drive():
    result = rec3(3, 3, 0, 0, 0, 0)
    assert result.level == L.E3_3_7
    assert codes(result.driving) == {"3-d1-3", "3-d2-d3-3"}


def test_explanation_names_the_level_says_why_and_that_it_is_decision_support():
    result = rec3(3, 0, 0, 0, 0, 0)
    assert result.explanation.startswith(f"Recommended: {L.E3_3_7.label}.")
    assert "Withdrawal risk rated 3: withdrawal needs 24-hour medical monitoring." in (
        result.explanation
    )
    assert "not the ASAM Criteria" in result.explanation
    assert "Also noted" not in result.explanation


# --- 4th edition ----------------------------------------------------------------------

FOURTH_SINGLE = [
    ((4, 0, 0, 0, 0), "4-any-4", L.E4_4_0),
    ((0, 0, 0, 0, 4), "4-any-4", L.E4_4_0),
    ((3, 0, 0, 0, 0), "4-d1-3", L.E4_3_7),
    ((0, 3, 0, 0, 0), "4-d2-d3-3", L.E4_3_7),
    ((0, 0, 3, 0, 0), "4-d2-d3-3", L.E4_3_7),
    ((0, 0, 0, 3, 3), "4-d4-d5-3", L.E4_3_5),
    ((0, 0, 0, 0, 3), "4-d5-3", L.E4_3_1),
    ((0, 0, 0, 3, 0), "4-d4-3", L.E4_2_5),
    ((0, 0, 2, 0, 0), "4-any-2", L.E4_2_1),
    ((0, 0, 0, 0, 0), "4-all-low", L.E4_1_5),
    ((1, 1, 1, 1, 1), "4-all-low", L.E4_1_5),
]


@pytest.mark.parametrize(("ratings", "rule", "level"), FOURTH_SINGLE)
def test_fourth_edition_rule_on_its_own(ratings, rule, level):
    result = rec4(*ratings)
    assert result.level == level
    assert rule in codes(result.driving)


@pytest.mark.parametrize("dim", range(5))
def test_fourth_edition_any_rated_dimension_at_4_is_level_4(dim):
    ratings = [0] * 5
    ratings[dim] = 4
    assert rec4(*ratings).level == L.E4_4_0


@pytest.mark.parametrize("dim", range(5))
def test_fourth_edition_any_rated_dimension_at_2_is_iop(dim):
    ratings = [1] * 5
    ratings[dim] = 2
    assert rec4(*ratings).level == L.E4_2_1


@pytest.mark.parametrize(
    ("ratings", "level"),
    [
        ((0, 0, 0, 3, 2), L.E4_2_5),  # D5 one short of the 3.5 pair
        ((0, 0, 0, 2, 3), L.E4_3_1),  # D4 one short of the 3.5 pair
        ((2, 0, 0, 0, 0), L.E4_2_1),
        ((3, 3, 3, 3, 3), L.E4_3_7),
    ],
)
def test_fourth_edition_boundaries(ratings, level):
    assert rec4(*ratings).level == level


def test_fourth_edition_d4_at_3_in_third_is_iop_but_in_fourth_is_2_5():
    # The dimensions differ between editions: D4 is readiness in the 3rd, risk in the 4th.
    assert rec3(0, 0, 0, 3, 0, 0).level == L.E3_2_1
    assert rec4(0, 0, 0, 3, 0).level == L.E4_2_5


@pytest.mark.parametrize("d6", [None, 0, 1, 2, 3, 4])
def test_fourth_edition_dimension_6_never_changes_the_level(d6):
    assert rec4(0, 0, 0, 0, 0, d6=d6).level == L.E4_1_5
    assert rec4(1, 2, 1, 0, 0, d6=d6).level == L.E4_2_1


def test_fourth_edition_rules_never_see_dimension_6():
    seen: list[tuple[int, ...]] = []
    original = RULES["4"][0]
    spy = asam.Rule(
        original.code,
        original.description,
        original.level,
        lambda r: seen.append(r) or original.applies(r),
    )
    rules = RULES["4"]
    try:
        RULES["4"] = (spy, *rules[1:])
        rec4(0, 1, 2, 3, 0, d6=4)
    finally:
        RULES["4"] = rules
    assert seen == [(0, 1, 2, 3, 0)]


# --- Exhaustive and property tests ----------------------------------------------------


@pytest.mark.parametrize(("edition", "vectors"), [("3", ALL_3), ("4", ALL_4)])
def test_every_rating_profile_gets_a_level_of_its_edition(edition, vectors):
    for ratings in vectors:
        full = ratings if edition == "3" else (*ratings, None)
        result = recommend(edition, full)
        assert asam.edition_of(result.level) == edition
        assert result.fired, ratings
        assert result.driving and set(result.driving) <= set(result.fired)
        top = asam.intensity(result.level)
        for rule in result.fired:
            assert asam.intensity(rule.level) <= top
        for rule in result.driving:
            assert rule.level == result.level
        if 4 in ratings:
            assert result.level == INTENSITY[edition][-1]
        else:
            assert result.level != INTENSITY[edition][-1]
        if max(ratings) <= 1:
            assert result.level == (L.E3_1 if edition == "3" else L.E4_1_5)


@given(st.lists(st.integers(0, 4), min_size=6, max_size=6), st.integers(0, 5), st.integers(1, 4))
def test_raising_one_rating_never_lowers_the_third_edition_level(ratings, dim, bump):
    # Not guaranteed in general, but our 3rd-edition rules have this property: a worse
    # rating on any dimension never recommends less care.
    before = recommend("3", ratings)
    raised = list(ratings)
    raised[dim] = min(4, raised[dim] + bump)
    after = recommend("3", raised)
    assert asam.intensity(after.level) >= asam.intensity(before.level)


@given(st.lists(st.integers(0, 4), min_size=5, max_size=5), st.integers(0, 4), st.integers(1, 4))
def test_raising_one_rating_never_lowers_the_fourth_edition_level(ratings, dim, bump):
    before = rec4(*ratings)
    raised = list(ratings)
    raised[dim] = min(4, raised[dim] + bump)
    after = rec4(*raised)
    assert asam.intensity(after.level) >= asam.intensity(before.level)


# --- Validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edition", "ratings", "message"),
    [
        ("3", (0, 0, 0, 0, 0), "has 6 dimensions"),
        ("3", (0, 0, 0, 0, 0, 0, 0), "has 6 dimensions"),
        ("4", (0, 0, 0, 0, 0), "has 6 dimensions"),
        ("3", (0, 0, 5, 0, 0, 0), r"Dimension 3 .* is rated 5: ratings run from 0 to 4"),
        ("3", (-1, 0, 0, 0, 0, 0), r"Dimension 1 .* is rated -1"),
        ("4", (0, 0, 0, 0, 0, 7), r"Dimension 6 .* is rated 7"),
        ("3", (0, 0, 0, 0, 0, None), r"Dimension 6 \(Recovery/Living Environment\) has no"),
        ("4", (None, 0, 0, 0, 0, None), r"Dimension 1 .* has no rating"),
        ("3", (0, 1.5, 0, 0, 0, 0), r"Dimension 2 .* whole number"),
        ("3", (0, "2", 0, 0, 0, 0), r"Dimension 2 .* whole number"),
        ("3", (True, 0, 0, 0, 0, 0), r"Dimension 1 .* whole number"),
        ("3", "000000", "Give the ratings as a list"),
        ("5", (0, 0, 0, 0, 0, 0), "use 3 or 4"),
    ],
)
def test_recommend_refuses_bad_input_with_a_clear_message(edition, ratings, message):
    with pytest.raises(ValueError, match=message):
        recommend(edition, ratings)


def test_recommend_accepts_a_list():
    assert recommend("3", [0, 0, 2, 0, 0, 0]).level == L.E3_2_1


# --- check_choice ---------------------------------------------------------------------


def test_choosing_the_recommended_level_needs_no_reason():
    check_choice(L.E3_2_1, L.E3_2_1, "")


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_an_override_without_a_reason_is_refused(reason):
    with pytest.raises(ValueError, match="write the reason") as err:
        check_choice(L.E3_3_7, L.E3_2_1, reason)
    assert "less intensive than the recommended" in str(err.value)


def test_an_override_to_more_care_also_needs_a_reason():
    with pytest.raises(ValueError, match="more intensive than the recommended"):
        check_choice(L.E4_2_1, L.E4_2_5, " ")


def test_an_override_with_a_reason_is_accepted():
    check_choice(L.E3_3_7, L.E3_2_1, "Declines residential care; daily check-ins arranged.")
    check_choice(L.E4_2_1, L.E4_2_5, "Payer authorised HIOP after review.")


def test_a_level_from_the_other_edition_is_refused_even_with_a_reason():
    with pytest.raises(ValueError, match="choose a 3rd edition level"):
        check_choice(L.E3_2_1, L.E4_2_1, "same level really")
    with pytest.raises(ValueError, match="choose a 4th edition level"):
        check_choice(L.E4_2_1, L.E3_2_1, "same level really")


def test_an_unknown_chosen_level_is_refused():
    with pytest.raises(ValueError, match="not a level of care"):
        check_choice(L.E3_2_1, "3:9", "reason")
    with pytest.raises(ValueError, match="not a level of care"):
        check_choice("bogus", L.E3_2_1, "reason")
