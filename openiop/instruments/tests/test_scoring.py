"""Scoring of every instrument: ranges, every band boundary, reverse items, subscales,
flags, bad input, and the definitions' own consistency.

Expected numbers are written out from DOMAIN.md §4 (shared/docs), not read back from the
definitions, so a wrong definition fails here.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import cache
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.instruments import (
    Instrument,
    UnknownInstrument,
    all_definitions,
    get,
    score,
)

ALL = all_definitions()
BY_CODE = {d.code: d for d in ALL}


@cache
def _points_plan(code: str, total: int) -> tuple[int, ...] | None:
    """Points per item adding up to `total`, or None (searches the allowed values)."""
    items = get(code).items

    @cache
    def fill(i: int, remaining: int) -> tuple[int, ...] | None:
        if i == len(items):
            return () if remaining == 0 else None
        for points in sorted(set(items[i].values), reverse=True):
            if points <= remaining:
                rest = fill(i + 1, remaining - points)
                if rest is not None:
                    return (points, *rest)
        return None

    return fill(0, total)


def answers_for_total(code: str, total: int) -> list[int]:
    """Answers as recorded (reverse items flipped back) whose score is `total`."""
    plan = _points_plan(code, total)
    assert plan is not None, f"no answers give {code} {total}"
    items = get(code).items
    return [item.scored(p) for item, p in zip(items, plan, strict=True)]


def lowest(code: str) -> list[int]:
    return [item.min_value for item in get(code).items]


def highest(code: str) -> list[int]:
    return [item.max_value for item in get(code).items]


def answers(code: str, **by_item: int) -> dict[str, int]:
    """All answers at the lowest value except the items named (by item code)."""
    values = {item.code: item.min_value for item in get(code).items}
    assert set(by_item) <= set(values), set(by_item) - set(values)
    values.update(by_item)
    return values


# --- Lookup ---------------------------------------------------------------------------


def test_the_twelve_instrument_codes():
    assert [d.code for d in ALL] == [
        "PHQ-9",
        "GAD-7",
        "AUDIT",
        "AUDIT-C",
        "DAST-10",
        "BAM",
        "PSS-10",
        "PCL-5",
        "PACS",
        "CRAVING",
        "C-SSRS",
        "BARC-10",
    ]


@pytest.mark.parametrize(
    ("asked", "code"),
    [
        ("PHQ-9", "PHQ-9"),
        ("phq9", "PHQ-9"),
        ("Phq 9", "PHQ-9"),
        (" gad-7 ", "GAD-7"),
        ("audit", "AUDIT"),
        ("auditc", "AUDIT-C"),
        ("Audit C", "AUDIT-C"),
        ("dast10", "DAST-10"),
        ("cssrs", "C-SSRS"),
        ("c-ssrs", "C-SSRS"),
        ("barc10", "BARC-10"),
        ("pcl_5", "PCL-5"),
        ("craving", "CRAVING"),
    ],
)
def test_lookup_ignores_case_dashes_and_spaces(asked, code):
    assert get(asked).code == code


@pytest.mark.parametrize("asked", ["PHQ-8", "", "AUDIT-D", "phq99"])
def test_an_unknown_code_names_the_known_ones(asked):
    with pytest.raises(UnknownInstrument, match=r"Known instruments: PHQ-9, GAD-7, AUDIT"):
        get(asked)
    with pytest.raises(ValueError, match="Unknown instrument"):
        score(asked, [0])


def test_unknown_instrument_is_a_value_error_and_non_text_codes_are_unknown():
    assert issubclass(UnknownInstrument, ValueError)
    with pytest.raises(UnknownInstrument):
        get(9)  # type: ignore[arg-type]


def test_package_import_pulls_in_no_django():
    code = (
        "import sys; from openiop.instruments import score; "
        "assert not [m for m in sys.modules if m.startswith('django')], 'django imported'; "
        "print(score('phq9', [0] * 9).total)"
    )
    done = subprocess.run(  # noqa: S603 (fixed command, this interpreter)
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "0"


# --- Ranges, all-minimum and all-maximum ---------------------------------------------------

# DOMAIN.md §4 score ranges (BARC-10: 10 items of 1–6).
RANGES = {
    "PHQ-9": (0, 27),
    "GAD-7": (0, 21),
    "AUDIT": (0, 40),
    "AUDIT-C": (0, 12),
    "DAST-10": (0, 10),
    "PSS-10": (0, 40),
    "PCL-5": (0, 80),
    "PACS": (0, 30),
    "CRAVING": (0, 10),
    "BARC-10": (10, 60),
}


@pytest.mark.parametrize(("code", "bounds"), RANGES.items())
def test_published_score_range(code, bounds):
    instrument = get(code)
    assert (instrument.min_total, instrument.max_total) == bounds
    assert score(code, answers_for_total(code, bounds[0])).total == bounds[0]
    assert score(code, answers_for_total(code, bounds[1])).total == bounds[1]


# Every item answered with its lowest / highest option, as recorded. Reverse-scored items
# make these differ from the range: DAST-10 item 3 "No" scores 1; PSS-10 items 4, 5, 7, 8
# answered 0 score 4 each.
ALL_LOWEST = {
    "PHQ-9": (0, "Minimal depression"),
    "GAD-7": (0, "Minimal anxiety"),
    "AUDIT": (0, "Zone I: low-risk drinking"),
    "AUDIT-C": (0, "Negative"),
    "DAST-10": (1, "Low level"),
    "PSS-10": (16, "Moderate stress"),
    "PCL-5": (0, "Below the probable-PTSD cut-off"),
    "PACS": (0, "Below the craving cut-offs"),
    "CRAVING": (0, None),
    "BARC-10": (10, "Below the 47-point recovery-capital cut-off"),
    "BAM": (None, None),
    "C-SSRS": (None, "No risk identified"),
}
ALL_HIGHEST = {
    "PHQ-9": (27, "Severe depression"),
    "GAD-7": (21, "Severe anxiety"),
    "AUDIT": (40, "Zone IV: possible alcohol dependence"),
    "AUDIT-C": (12, "Positive"),
    "DAST-10": (9, "Severe level"),
    "PSS-10": (24, "Moderate stress"),
    "PCL-5": (80, "Probable PTSD (31 or more)"),
    "PACS": (30, "Strong craving (over 20)"),
    "CRAVING": (10, None),
    "BARC-10": (60, "At or above the 47-point recovery-capital cut-off"),
    "BAM": (None, None),
    "C-SSRS": (None, "High risk"),
}


@pytest.mark.parametrize(("code", "expected"), ALL_LOWEST.items())
def test_every_item_at_its_lowest_answer(code, expected):
    result = score(code, lowest(code))
    assert (result.total, result.band.label if result.band else None) == expected
    assert result.answers == tuple(lowest(code))


@pytest.mark.parametrize(("code", "expected"), ALL_HIGHEST.items())
def test_every_item_at_its_highest_answer(code, expected):
    result = score(code, highest(code), sex="male")
    assert (result.total, result.band.label if result.band else None) == expected


def test_bam_extremes_by_subscale():
    # DOMAIN.md §4: Use = 4+5+6, Risk = 1+2+3+8+11+15, Protective = 9+10+12+13+14+16.
    assert score("BAM", lowest("BAM")).subscales == {"use": 0, "risk": 0, "protective": 0}
    assert score("BAM", highest("BAM")).subscales == {"use": 12, "risk": 24, "protective": 24}


def test_instruments_without_a_total():
    assert get("BAM").has_total is False
    assert get("C-SSRS").has_total is False
    assert score("BAM", highest("BAM")).total is None
    assert score("C-SSRS", highest("C-SSRS")).total is None


# --- Every band boundary, both sides ---------------------------------------------------------

# (code, sex, [(low, high, label), ...]) written out from DOMAIN.md §4.
PUBLISHED_BANDS: list[tuple[str, str | None, list[tuple[int, int, str]]]] = [
    (
        "PHQ-9",
        None,
        [
            (0, 4, "Minimal depression"),
            (5, 9, "Mild depression"),
            (10, 14, "Moderate depression"),
            (15, 19, "Moderately severe depression"),
            (20, 27, "Severe depression"),
        ],
    ),
    (
        "GAD-7",
        None,
        [
            (0, 4, "Minimal anxiety"),
            (5, 9, "Mild anxiety"),
            (10, 14, "Moderate anxiety"),
            (15, 21, "Severe anxiety"),
        ],
    ),
    (
        "AUDIT",
        None,
        [
            (0, 7, "Zone I: low-risk drinking"),
            (8, 15, "Zone II: hazardous drinking"),
            (16, 19, "Zone III: harmful drinking"),
            (20, 40, "Zone IV: possible alcohol dependence"),
        ],
    ),
    ("AUDIT-C", "male", [(0, 3, "Negative"), (4, 12, "Positive")]),
    ("AUDIT-C", "female", [(0, 2, "Negative"), (3, 12, "Positive")]),
    ("AUDIT-C", None, [(0, 2, "Negative"), (3, 12, "Positive")]),
    (
        "DAST-10",
        None,
        [
            (0, 0, "No problems reported"),
            (1, 2, "Low level"),
            (3, 5, "Moderate level"),
            (6, 8, "Substantial level"),
            (9, 10, "Severe level"),
        ],
    ),
    (
        "PSS-10",
        None,
        [(0, 13, "Low stress"), (14, 26, "Moderate stress"), (27, 40, "High stress")],
    ),
    (
        "PCL-5",
        None,
        [(0, 30, "Below the probable-PTSD cut-off"), (31, 80, "Probable PTSD (31 or more)")],
    ),
    (
        "PACS",
        None,
        [
            (0, 14, "Below the craving cut-offs"),
            (15, 20, "Clinically significant craving (15 or more)"),
            (21, 30, "Strong craving (over 20)"),
        ],
    ),
    (
        "BARC-10",
        None,
        [
            (10, 46, "Below the 47-point recovery-capital cut-off"),
            (47, 60, "At or above the 47-point recovery-capital cut-off"),
        ],
    ),
]

BOUNDARY_CASES = [
    pytest.param(code, sex, total, label, id=f"{code}-{sex or 'any'}-{total}")
    for code, sex, bands in PUBLISHED_BANDS
    for low, high, label in bands
    for total in sorted({low, high})
]


@pytest.mark.parametrize(("code", "sex", "total", "label"), BOUNDARY_CASES)
def test_band_at_each_edge(code, sex, total, label):
    result = score(code, answers_for_total(code, total), sex=sex)
    assert result.total == total
    assert result.band is not None
    assert result.band.label == label


@pytest.mark.parametrize(("code", "sex", "bands"), [p[:3] for p in PUBLISHED_BANDS])
def test_bands_match_the_published_table_exactly(code, sex, bands):
    instrument = get(code)
    defined = instrument.bands_by_sex.get(sex, instrument.bands) if sex else instrument.bands
    assert [(b.low, b.high, b.label) for b in defined] == bands


def test_craving_rating_has_no_bands():
    for value in range(11):
        result = score("CRAVING", [value])
        assert (result.total, result.band) == (value, None)


# --- Reverse scoring -----------------------------------------------------------------------


def test_dast10_item_3_is_reverse_scored():
    assert score("DAST-10", answers("DAST-10")).total == 1  # "No" to always able to stop
    assert score("DAST-10", answers("DAST-10", **{"3": 1})).total == 0
    everything_yes = score("DAST-10", [1] * 10)
    assert everything_yes.total == 9
    assert everything_yes.answers == (1,) * 10  # kept as recorded


def test_pss10_items_4_5_7_8_are_reverse_scored():
    positive = {"4", "5", "7", "8"}
    best = [4 if str(i) in positive else 0 for i in range(1, 11)]
    assert score("PSS-10", best).total == 0
    worst = [0 if str(i) in positive else 4 for i in range(1, 11)]
    assert score("PSS-10", worst).total == 40
    for code in positive:
        # One positive item at "Never" alone scores 4.
        single = answers("PSS-10", **dict.fromkeys(positive - {code}, 4))
        assert score("PSS-10", single).total == 4
    assert score("PSS-10", answers("PSS-10", **{"1": 3}, **dict.fromkeys(positive, 4))).total == 3


def test_only_dast10_and_pss10_have_reverse_items():
    reversed_items = {(d.code, i.code) for d in ALL for i in d.items if i.reverse}
    assert reversed_items == {("DAST-10", "3")} | {("PSS-10", c) for c in ("4", "5", "7", "8")}


# --- Subscales ----------------------------------------------------------------------------


def test_audit_domains():
    result = score("AUDIT", [4, 4, 4, 0, 0, 0, 0, 0, 0, 0])
    assert result.subscales == {"consumption": 12, "dependence": 0, "harm": 0}
    result = score("AUDIT", [0, 0, 0, 1, 2, 3, 4, 4, 2, 4])
    assert result.subscales == {"consumption": 0, "dependence": 6, "harm": 14}
    assert result.total == 20
    assert result.band.label == "Zone IV: possible alcohol dependence"


def test_audit_c_is_audit_items_1_to_3():
    audit = score("AUDIT", [3, 2, 1, 4, 4, 4, 4, 4, 4, 4])
    audit_c = score("AUDIT-C", [3, 2, 1], sex="female")
    assert audit.subscales["consumption"] == audit_c.total == 6
    assert get("AUDIT-C").items == get("AUDIT").items[:3]


def test_pcl5_clusters():
    # B 1–5, C 6–7, D 8–14, E 15–20 (DOMAIN.md §4).
    result = score("PCL-5", [1] * 20)
    assert result.subscales == {"B": 5, "C": 2, "D": 7, "E": 6}
    values = [1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4]
    assert score("PCL-5", values).subscales == {"B": 5, "C": 4, "D": 21, "E": 24}


def test_bam_subscales_leave_out_7a_to_7g_and_17():
    lots_of_7_and_17 = answers("BAM", **{c: 4 for c in ("7A", "7B", "7C", "7D", "7E", "7F", "7G")})
    lots_of_7_and_17["17"] = 4
    assert score("BAM", lots_of_7_and_17).subscales == {"use": 0, "risk": 0, "protective": 0}


def test_bam_subscales_add_their_items():
    values = answers(
        "BAM",
        **{"1": 4, "2": 1, "3": 2, "8": 3, "11": 1, "15": 2},  # risk 13
        **{"9": 4, "10": 2, "12": 1, "13": 3, "14": 4, "16": 4},  # protective 18
        **{"4": 2, "5": 1, "6": 3},  # use 6
    )
    result = score("BAM", values)
    assert result.subscales == {"use": 6, "risk": 13, "protective": 18}
    assert result.total is None and result.band is None


def test_bam_income_item_scores_0_or_4():
    assert get("BAM").item("14").values == (0, 4)
    assert score("BAM", answers("BAM", **{"14": 4})).subscales["protective"] == 4


def test_bam_day_counts_are_ranges_0_to_4():
    days = get("BAM").item("4")
    assert [(o.value, o.label) for o in days.options] == [
        (0, "0"),
        (1, "1–3"),
        (2, "4–8"),
        (3, "9–15"),
        (4, "16–30"),
    ]
    assert get("BAM").item_codes == (
        *("1", "2", "3", "4", "5", "6"),
        *("7A", "7B", "7C", "7D", "7E", "7F", "7G"),
        *(str(n) for n in range(8, 18)),
    )


# --- Flags -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("item_9", "risk"), [(1, "moderate"), (2, "high"), (3, "high")])
def test_phq9_any_nonzero_item_9_raises_a_safety_flag(item_9, risk):
    result = score("PHQ-9", answers("PHQ-9", **{"9": item_9}))
    assert result.band.label == "Minimal depression"  # the flag does not wait for the total
    flag = result.flag("suicide_risk")
    assert flag is not None
    assert (flag.safety, flag.risk, flag.item) == (True, risk, "9")
    assert "same-day safety assessment" in flag.message
    assert result.safety_flags == (flag,)


def test_phq9_without_item_9_has_no_flag_however_high():
    result = score("PHQ-9", [3, 3, 3, 3, 3, 3, 3, 3, 0])
    assert result.total == 24
    assert result.flags == ()


def _cssrs(*yes: str) -> dict[str, int]:
    return {code: int(code in yes) for code in get("C-SSRS").item_codes}


# (answered yes, risk level, band, driving item) — Columbia triage, DOMAIN.md §4.
CSSRS_TRIAGE = [
    ((), "", "No risk identified", ""),
    (("1",), "low", "Low risk", "1"),
    (("2",), "low", "Low risk", "2"),
    (("1", "2"), "low", "Low risk", "2"),
    (("1", "2", "3"), "moderate", "Moderate risk", "3"),
    (("6",), "moderate", "Moderate risk", "6"),
    (("1", "2", "6"), "moderate", "Moderate risk", "6"),
    (("1", "2", "3", "6"), "moderate", "Moderate risk", "3"),
    (("1", "2", "4"), "high", "High risk", "4"),
    (("1", "2", "5"), "high", "High risk", "5"),
    (("1", "2", "3", "4", "5"), "high", "High risk", "4"),
    (("6", "6b"), "high", "High risk", "6b"),
    (("1", "6", "6b"), "high", "High risk", "6b"),
]


@pytest.mark.parametrize(("yes", "risk", "band", "item"), CSSRS_TRIAGE)
def test_cssrs_columbia_triage(yes, risk, band, item):
    result = score("C-SSRS", _cssrs(*yes))
    assert result.band.label == band
    assert result.total is None
    flag = result.flag("suicide_risk")
    if not risk:
        assert flag is None
        return
    assert (flag.risk, flag.item) == (risk, item)
    # Only moderate and high need the same-day response; low is shown, not alerted.
    assert flag.safety is (risk in {"moderate", "high"})
    assert result.flag("inconsistent_answers") is None


def test_cssrs_answers_outside_the_skip_pattern_still_count_and_are_flagged():
    result = score("C-SSRS", _cssrs("6b"))  # follow-up yes, behaviour question no
    assert result.band.label == "High risk"
    assert result.flag("suicide_risk").safety is True
    assert "skip pattern" in result.flag("inconsistent_answers").message

    result = score("C-SSRS", _cssrs("3"))  # method yes although no thoughts (question 2)
    assert result.band.label == "Moderate risk"
    assert result.flag("inconsistent_answers") is not None


def test_audit_c_cut_off_depends_on_sex():
    three = [1, 1, 1]
    assert score("AUDIT-C", three, sex="male").band.label == "Negative"
    assert score("AUDIT-C", three, sex="female").band.label == "Positive"
    assert score("AUDIT-C", [2, 1, 1], sex="m").band.label == "Positive"


def test_audit_c_without_sex_uses_the_lower_cut_off_and_says_so():
    result = score("AUDIT-C", [1, 1, 1])
    assert result.band.label == "Positive"
    flag = result.flag("sex_not_given")
    assert flag is not None and flag.safety is False
    assert "3" in flag.message and "4" in flag.message
    assert score("AUDIT-C", [1, 1, 1], sex="female").flags == ()


@pytest.mark.parametrize("sex", ["male", "Male", " M ", "m", "female", "FEMALE", "f"])
def test_sex_spellings_accepted(sex):
    score("AUDIT-C", [0, 0, 0], sex=sex)


@pytest.mark.parametrize("sex", ["", "x", "man", "unknown", 1, True])
def test_other_sex_values_are_refused(sex):
    with pytest.raises(ValueError, match="Sex must be 'male' or 'female'"):
        score("AUDIT-C", [0, 0, 0], sex=sex)
    with pytest.raises(ValueError, match="Sex must be"):
        score("PHQ-9", [0] * 9, sex=sex)


def _pcl(**ratings: int) -> list[int]:
    values = [0] * 20
    for item, rating in ratings.items():
        values[int(item.removeprefix("i")) - 1] = rating
    return values


def test_pcl5_provisional_diagnosis_needs_1_b_1_c_2_d_2_e():
    just_enough = _pcl(i1=2, i6=2, i8=2, i9=2, i15=2, i16=2)
    result = score("PCL-5", just_enough)
    assert result.total == 12
    assert result.band.label == "Below the probable-PTSD cut-off"
    assert result.flag("provisional_ptsd") is not None
    for missing in ("i1", "i6", "i8", "i15"):
        short = _pcl(**{k: 2 for k in ("i1", "i6", "i8", "i9", "i15", "i16") if k != missing})
        assert score("PCL-5", short).flag("provisional_ptsd") is None, missing


def test_pcl5_ratings_of_1_do_not_count_towards_the_pattern():
    result = score("PCL-5", [1] * 20)
    assert result.total == 20
    assert result.flag("provisional_ptsd") is None


def test_pcl5_high_total_without_the_pattern_is_probable_but_not_provisional():
    values = _pcl(**{f"i{n}": 4 for n in (1, 2, 3, 4, 5, 8, 9, 10, 15, 16, 17)})
    result = score("PCL-5", values)
    assert result.total == 44
    assert result.band.label == "Probable PTSD (31 or more)"
    assert result.flag("provisional_ptsd") is None  # no avoidance (C) item


@pytest.mark.parametrize(
    ("used", "item"), [({"4": 1}, "4"), ({"6": 4}, "6"), ({"4": 2, "5": 1, "6": 3}, "4,5,6")]
)
def test_bam_recent_use(used, item):
    flag = score("BAM", answers("BAM", **used)).flag("recent_use")
    assert flag is not None
    assert (flag.item, flag.safety) == (item, False)
    assert "days" in flag.message


def test_bam_no_use_no_flag():
    assert score("BAM", lowest("BAM")).flags == ()


def test_bam_drug_detail_without_drug_days_is_flagged():
    result = score("BAM", answers("BAM", **{"7C": 2}))
    assert result.flag("recent_use") is None
    assert result.flag("inconsistent_answers").item == "6"


def test_flags_only_where_a_rule_says_so():
    quiet = ("GAD-7", "AUDIT", "DAST-10", "PSS-10", "PACS", "CRAVING", "BARC-10")
    for code in quiet:
        assert score(code, highest(code)).flags == (), code


# --- Bad input --------------------------------------------------------------------------------

BAD_INPUT = [
    ("PHQ-9", [0] * 8, r"^PHQ-9 has 9 items \(1–9\); 8 answers were given\.$"),
    ("PHQ-9", [0] * 10, r"PHQ-9 has 9 items \(1–9\); 10 answers were given"),
    ("GAD-7", [0], r"GAD-7 has 7 items \(1–7\); 1 answer was given"),
    ("GAD-7", [], r"0 answers were given"),
    ("BAM", [0] * 17, r"BAM has 23 items \(1–6, 7A–7G, 8–17\); 17 answers were given"),
    ("C-SSRS", [0] * 6, r"C-SSRS has 7 items \(1–6, 6b\); 6 answers were given"),
    ("PHQ-9", [0, 0, 5, 0, 0, 0, 0, 0, 0], r"^PHQ-9 item 3: 5 is not an answer \(0–3\)\.$"),
    ("PHQ-9", [-1, 0, 0, 0, 0, 0, 0, 0, 0], r"PHQ-9 item 1: -1 is not an answer \(0–3\)"),
    ("AUDIT", [0] * 8 + [1, 0], r"AUDIT item 9: 1 is not an answer \(0, 2, 4\)"),
    ("AUDIT", [0] * 9 + [3], r"AUDIT item 10: 3 is not an answer \(0, 2, 4\)"),
    ("BAM", [0] * 19 + [2] + [0] * 3, r"BAM item 14: 2 is not an answer \(0, 4\)"),
    ("BARC-10", [0] * 10, r"BARC-10 item 1: 0 is not an answer \(1–6\)"),
    ("CRAVING", [11], r"Craving 0–10 item 1: 11 is not an answer \(0–10\)"),
    ("DAST-10", [2] + [0] * 9, r"DAST-10 item 1: 2 is not an answer \(0, 1\)"),
    ("C-SSRS", [0] * 6 + [2], r"C-SSRS item 6b: 2 is not an answer \(0, 1\)"),
    ("PHQ-9", [True] + [0] * 8, r"PHQ-9 item 1: True is not an answer \(0–3\)"),
    ("PHQ-9", ["1"] + [0] * 8, r"PHQ-9 item 1: '1' is not an answer"),
    ("PHQ-9", [1.0] + [0] * 8, r"PHQ-9 item 1: 1\.0 is not an answer"),
    ("PHQ-9", [None] + [0] * 8, r"PHQ-9 item 1: None is not an answer"),
    ("PHQ-9", "000000000", r"PHQ-9 answers must be a list of numbers in item order"),
    ("PHQ-9", b"\x00" * 9, r"answers must be a list"),
    ("PHQ-9", {0, 1}, r"answers must be a list"),
    ("PHQ-9", None, r"answers must be a list"),
    ("PHQ-9", 0, r"answers must be a list"),
    (
        "PHQ-9",
        {str(n): 0 for n in range(1, 9)},
        r"^PHQ-9 item 9 not answered\.$",
    ),
    ("PHQ-9", {}, r"PHQ-9 items 1, 2, 3, 4, 5, 6, 7, 8, 9 not answered"),
    (
        "PHQ-9",
        {**{str(n): 0 for n in range(1, 10)}, "10": 0},
        r"PHQ-9 has no item '10'; its items are 1–9",
    ),
    ("PHQ-9", {n: 0 for n in range(1, 10)}, r"PHQ-9 has no item 1, 2, .*; its items are 1–9"),
    ("PHQ-9", {**{str(n): 0 for n in range(1, 10)}, "9": 4}, r"PHQ-9 item 9: 4 is not"),
    ("C-SSRS", {**_cssrs(), "7": 0}, r"C-SSRS has no item '7'; its items are 1–6, 6b"),
    ("BAM", {"7a": 0}, r"BAM has no item '7a'"),
]


@pytest.mark.parametrize(("code", "given", "message"), BAD_INPUT)
def test_bad_answers_are_refused_with_a_clear_message(code, given, message):
    with pytest.raises(ValueError, match=message):
        score(code, given)


def test_mapping_and_list_give_the_same_result_in_any_order():
    values = [1, 2, 3, 0, 1, 2, 3, 0, 1]
    by_item = {str(n): v for n, v in reversed(list(enumerate(values, start=1)))}
    assert score("PHQ-9", by_item) == score("PHQ-9", values)
    assert score("C-SSRS", _cssrs("1", "6", "6b")).answers == (1, 0, 0, 0, 0, 1, 1)


def test_an_instrument_object_can_be_scored_directly():
    assert score(get("GAD-7"), [3] * 7).total == 21


# --- Properties over every instrument ------------------------------------------------------


@st.composite
def administrations(draw, codes=tuple(BY_CODE)):
    instrument = BY_CODE[draw(st.sampled_from(codes))]
    values = [draw(st.sampled_from(item.values)) for item in instrument.items]
    sex = draw(st.sampled_from([None, "male", "female"]))
    return instrument, values, sex


@given(administrations())
def test_total_in_range_and_band_covers_it(case):
    instrument, values, sex = case
    result = score(instrument.code, values, sex=sex)
    assert result.answers == tuple(values)
    if instrument.has_total:
        assert instrument.min_total <= result.total <= instrument.max_total
        if instrument.bands:
            assert result.band is not None
            assert result.band.low <= result.total <= result.band.high
        else:
            assert result.band is None
    else:
        assert result.total is None
    for name, codes in instrument.subscales.items():
        items = [instrument.item(c) for c in codes]
        lo, hi = sum(i.min_value for i in items), sum(i.max_value for i in items)
        assert lo <= result.subscales[name] <= hi


@given(administrations())
def test_mapping_input_matches_list_input(case):
    instrument, values, sex = case
    as_mapping = dict(zip(instrument.item_codes, values, strict=True))
    assert score(instrument.code, as_mapping, sex=sex) == score(instrument.code, values, sex=sex)


@given(administrations())
def test_messages_and_labels_fit_what_the_records_keep(case):
    # The clinical records keep band labels in 120 characters and alert messages in 300.
    instrument, values, sex = case
    result = score(instrument.code, values, sex=sex)
    if result.band is not None:
        assert len(result.band.label) <= 120
    for flag in result.flags:
        assert 0 < len(flag.message) <= 300
        assert flag.risk in {"", "low", "moderate", "high"}
        assert not flag.safety or flag.risk in {"moderate", "high"}


@given(administrations(codes=("PCL-5", "AUDIT")))
def test_subscales_add_up_to_the_total(case):
    instrument, values, _ = case
    result = score(instrument.code, values)
    assert sum(result.subscales.values()) == result.total


@given(administrations(codes=("PHQ-9",)))
def test_phq9_flag_exactly_when_item_9_is_above_zero(case):
    _, values, _ = case
    result = score("PHQ-9", values)
    assert (result.flag("suicide_risk") is not None) is (values[8] > 0)


@given(administrations(codes=("C-SSRS",)))
def test_cssrs_flag_matches_the_band(case):
    _, values, _ = case
    result = score("C-SSRS", values)
    flag = result.flag("suicide_risk")
    assert (flag is None) is (result.band.severity == 0) is (not any(values))
    if flag is not None:
        assert flag.safety is (result.band.severity >= 2)


@given(st.sampled_from(ALL), st.integers(min_value=0, max_value=40))
def test_wrong_number_of_answers_always_refused(instrument, length):
    if length == len(instrument.items):
        length += 1
    with pytest.raises(ValueError, match=r"has \d+ items .*; \d+ answers? (was|were) given"):
        score(instrument.code, [instrument.items[0].min_value] * length)


@given(st.data())
def test_any_value_that_is_not_an_option_is_refused(data):
    instrument = data.draw(st.sampled_from(ALL))
    position = data.draw(st.integers(min_value=0, max_value=len(instrument.items) - 1))
    item = instrument.items[position]
    numbers = st.integers(min_value=-100, max_value=100)
    not_an_option = numbers.filter(lambda v: v not in item.values)
    wrong = data.draw(not_an_option)
    values = [i.min_value for i in instrument.items]
    values[position] = wrong
    with pytest.raises(ValueError, match=rf"item {item.code}: {wrong} is not an answer"):
        score(instrument.code, values)


# --- The definitions themselves ------------------------------------------------------------


def _loinc_ok(code: str) -> bool:
    """LOINC form (digits, dash, one check digit) and its mod-10 check digit."""
    match = re.fullmatch(r"(\d{1,7})-(\d)", code)
    if not match:
        return False
    total = 0
    for position, digit in enumerate(reversed(match.group(1))):
        d = int(digit) * (2 if position % 2 == 0 else 1)
        total += d // 10 + d % 10
    return (10 - total % 10) % 10 == int(match.group(2))


def test_loinc_check_digit_helper():
    assert _loinc_ok("44249-1")
    assert not _loinc_ok("44249-2")
    assert not _loinc_ok("44249")
    assert not _loinc_ok("4424a-1")


# DOMAIN.md §4, only where it gives a code.
LOINC = {
    "PHQ-9": ("44249-1", "44261-6"),
    "GAD-7": ("69737-5", "70274-6"),
    "AUDIT": ("72110-0", "75624-7"),
    "AUDIT-C": ("72109-2", "75626-2"),
    "DAST-10": ("82666-9", "82667-7"),
    "PSS-10": ("", "106860-0"),
    "PCL-5": ("101697-1", "101698-9"),
}


@pytest.mark.parametrize("code", list(BY_CODE))
def test_loinc_codes_as_in_domain_reference(code):
    instrument = get(code)
    assert (instrument.loinc_panel, instrument.loinc_total) == LOINC.get(code, ("", ""))


def test_cssrs_item_and_risk_level_loinc_codes():
    instrument = get("C-SSRS")
    assert [i.loinc for i in instrument.items] == [
        "93246-7",
        "93247-5",
        "93248-3",
        "93249-1",
        "93250-9",
        "93267-3",
        "93269-9",
    ]
    assert instrument.loinc_band == "93374-7"


def test_licences():
    restricted = {d.code for d in ALL if d.licence.commercial_use_restricted}
    assert {"DAST-10", "PSS-10"} <= restricted  # DOMAIN.md §4
    assert "PCL-5" not in restricted and "PACS" not in restricted  # public / PhenX


def test_only_barc10_is_higher_is_better():
    assert [d.code for d in ALL if not d.higher_is_worse] == ["BARC-10"]


@pytest.mark.parametrize("code", list(BY_CODE))
def test_definition_is_consistent(code):
    d: Instrument = get(code)
    assert d.name and d.short_name and d.recall and d.instructions
    assert d.licence.text
    assert d.items
    for item in d.items:
        assert item.code and item.text.strip() == item.text and item.text
        assert len(item.options) >= 2
        values = [o.value for o in item.options]
        labels = [o.label for o in item.options]
        assert len(set(values)) == len(values), f"{code} item {item.code}: values repeat"
        assert len(set(labels)) == len(labels), f"{code} item {item.code}: labels repeat"
        assert values == sorted(values)
        assert all(label.strip() for label in labels)

    band_sets = [d.bands, *d.bands_by_sex.values()]
    for bands in band_sets:
        if not bands:
            continue
        if d.has_total:
            assert bands[0].low == d.min_total, f"{code}: bands start at {bands[0].low}"
            assert bands[-1].high == d.max_total, f"{code}: bands end at {bands[-1].high}"
        else:
            assert bands[0].low == 0
        for band in bands:
            assert band.low <= band.high
            assert 0 < len(band.label) <= 120
        for before, after in pairwise(bands):
            assert after.low == before.high + 1, f"{code}: gap or overlap at {after.low}"
        severities = [b.severity for b in bands]
        if d.higher_is_worse:
            assert severities == sorted(severities)
        else:
            assert severities == sorted(severities, reverse=True)
        assert min(severities) == 0
        assert len({b.label for b in bands}) == len(bands)
    assert set(d.bands_by_sex) <= {"male", "female"}

    for name, codes in d.subscales.items():
        assert name
        assert codes and len(set(codes)) == len(codes)
        assert set(codes) <= set(d.item_codes), f"{code} {name}: unknown items"
    assert set(d.safety_items) <= set(d.item_codes)

    for loinc in (d.loinc_panel, d.loinc_total, d.loinc_band, *(i.loinc for i in d.items)):
        if loinc:
            assert _loinc_ok(loinc), f"{code}: malformed LOINC {loinc}"

    if d.reliability is not None:
        assert d.has_total
        assert d.reliability.sd > 0
        assert 0 < d.reliability.r < 1
        assert d.reliability.source.strip()


def test_definitions_cannot_be_changed():
    d = get("PHQ-9")
    with pytest.raises(AttributeError):
        d.code = "X"  # type: ignore[misc]
    with pytest.raises(TypeError):
        d.subscales["x"] = ("1",)  # type: ignore[index]
    assert hash(d) == hash(get("phq9"))
