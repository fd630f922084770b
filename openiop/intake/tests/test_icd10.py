"""ICD-10-CM: code shape, normalising, the catalogue, SUD detection and search."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.intake.icd10 import CATALOGUE, describe, is_sud, normalize, search

# --- normalize ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("F10.20", "F10.20"),
        ("f1020", "F10.20"),
        (" f10.20 ", "F10.20"),
        ("F10239", "F10.239"),
        ("F41.1", "F41.1"),
        ("F411", "F41.1"),
        ("f32a", "F32.A"),
        ("F41", "F41"),
        ("T401X1A", "T40.1X1A"),
        ("z79.891", "Z79.891"),
    ],
)
def test_normalize(raw, expected):
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "F1",
        "10.20",
        "FF0.20",
        "F10.",
        "F10.20000",
        "F10-20",
        "F10 20",
        "F10..2",
        "ß10",
        "F\u0661\u0660.20",
    ],
)
def test_normalize_refuses_a_malformed_code(raw):
    with pytest.raises(ValueError, match="is not an ICD-10-CM code"):
        normalize(raw)


@given(st.from_regex(r"[A-Za-z][0-9]{2}\.?[0-9A-Za-z]{1,4}", fullmatch=True))
def test_normalize_is_idempotent_and_dotted(raw):
    code = normalize(raw)
    assert normalize(code) == code
    assert re.fullmatch(r"[A-Z]\d{2}\.[0-9A-Z]{1,4}", code)
    assert code.replace(".", "") == raw.replace(".", "").upper()


# --- catalogue ------------------------------------------------------------------------


def test_catalogue_keys_are_normalised_and_descriptions_present():
    for code, description in CATALOGUE.items():
        assert normalize(code) == code
        assert description and description == description.strip()


def test_catalogue_has_the_common_sud_codes():
    sud = [code for code in CATALOGUE if is_sud(code)]
    assert len(sud) >= 60
    for category in ("F10", "F11", "F12", "F13", "F14", "F15", "F16", "F17", "F18", "F19"):
        assert any(code.startswith(category + ".") for code in CATALOGUE), category
    for code in ("F10.10", "F10.20", "F10.21", "F10.239", "F11.20", "F17.200", "F17.210"):
        assert code in CATALOGUE
    for code in ("F32.1", "F33.1", "F41.1", "F43.10", "F43.12"):
        assert code in CATALOGUE


@pytest.mark.parametrize(
    ("code", "description"),
    [
        # Spot checks of the official wording (CDC ICD-10-CM tabular list).
        ("F10.20", "Alcohol dependence, uncomplicated"),
        ("F10.239", "Alcohol dependence with withdrawal, unspecified"),
        ("F11.23", "Opioid dependence with withdrawal"),
        ("F13.20", "Sedative, hypnotic or anxiolytic dependence, uncomplicated"),
        ("F13.90", "Sedative, hypnotic, or anxiolytic use, unspecified, uncomplicated"),
        ("F17.210", "Nicotine dependence, cigarettes, uncomplicated"),
        ("F33.2", "Major depressive disorder, recurrent severe without psychotic features"),
        ("F43.10", "Post-traumatic stress disorder, unspecified"),
    ],
)
def test_describe_gives_the_official_description(code, description):
    assert describe(code) == description


def test_describe_normalises_and_is_blank_outside_the_catalogue():
    assert describe("f1120") == "Opioid dependence, uncomplicated"
    assert describe("F10") == ""  # a category, not a billable code
    assert describe("Z79.891") == ""  # valid shape, not in our catalogue
    assert describe("not a code") == ""


# --- is_sud ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("F10.20", True),
        ("f1920", True),
        ("F17.210", True),
        ("F19", True),
        ("F09", False),
        ("F20.9", False),
        ("F32.1", False),
        ("G10", False),
        ("Z71.41", False),
    ],
)
def test_is_sud(code, expected):
    assert is_sud(code) is expected


def test_is_sud_refuses_a_malformed_code():
    with pytest.raises(ValueError):
        is_sud("alcohol")


# --- search ---------------------------------------------------------------------------


def test_search_by_code_prefix_with_or_without_the_dot():
    dotted = search("f10.2")
    undotted = search("F102")
    assert dotted == undotted
    assert dotted and all(code.startswith("F10.2") for code, _ in dotted)
    assert dotted[0] == ("F10.20", "Alcohol dependence, uncomplicated")


def test_search_by_words_matches_all_of_them_in_any_case():
    results = search("alcohol REMISSION")
    assert ("F10.21", "Alcohol dependence, in remission") in results
    assert all("ALCOHOL" in d.upper() and "REMISSION" in d.upper() for _, d in results)


def test_search_puts_code_matches_before_word_matches():
    results = search("F41", limit=50)
    assert results[0] == ("F41.1", "Generalized anxiety disorder")


def test_search_word_matches_inside_descriptions():
    codes = [code for code, _ in search("post-traumatic")]
    assert codes == ["F43.10", "F43.12"]


def test_search_limit_and_blank_text():
    assert len(search("dependence", limit=5)) == 5
    assert len(search("dependence")) == 20
    assert search("") == []
    assert search("   ") == []
    assert search("alcohol", limit=0) == []
    assert search("zzzz") == []


def test_search_results_come_from_the_catalogue():
    for code, description in search("opioid", limit=100):
        assert CATALOGUE[code] == description
