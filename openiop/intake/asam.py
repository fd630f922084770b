"""Decision support for the multidimensional assessment: ratings in, a level of care out.

These are OpenIOP's own transparent rules, written for this project and stated as
decision support. They are not the ASAM Criteria: they do not reproduce ASAM's anchor
text or its decision logic, which are copyrighted and need an ASAM licence to put in
software (DOMAIN.md §1.4). The clinician rates each dimension from history and the
current presentation, reads which of our rules fired and why, and chooses the level.
A choice that differs from the recommendation needs a written reason (`check_choice`).

    recommend("3", (1, 0, 2, 1, 1, 0))  ->  "3:2.1", because a dimension is rated 2

How the rules work (both editions):

- Each rule looks at the ratings and, if it applies, points to one level of care.
- Several rules can fire; the recommendation is the most intensive level any of them
  points to ("the highest-pointing dimension drives", DOMAIN.md §1.4). The ratings are
  never added up (DOMAIN.md §1.4).
- Dimensions 1-3 mostly decide how much medical or psychiatric capability is needed;
  dimensions 4-6 mostly decide how much structure and how many hours (DOMAIN.md §1.4).
- In the 4th edition, dimension 6 (person-centred considerations) is not risk-rated and
  never changes the level; it informs the choice of program (DOMAIN.md §1.3, §1.4).

Ratings run from 0 (none or stable) to 4 (severe, imminent danger) (DOMAIN.md §1.4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openiop.programs.choices import LevelOfCare as L

EDITIONS: tuple[str, ...] = ("3", "4")
MIN_RATING = 0
MAX_RATING = 4


@dataclass(frozen=True)
class Dimension:
    """One dimension of the assessment. `prompt` is our own guidance, not ASAM text."""

    number: int
    name: str
    risk_rated: bool
    prompt: str


# Dimension names from DOMAIN.md §1.3; prompts are ours (what to ask about and weigh).
DIMENSIONS: dict[str, tuple[Dimension, ...]] = {
    "3": (
        Dimension(
            1,
            "Acute Intoxication and/or Withdrawal Potential",
            True,
            "Is the person intoxicated now? When was the last use, and how much? "
            "How bad has withdrawal been before (seizures, delirium, hallucinations)? "
            "What support would withdrawal need now?",
        ),
        Dimension(
            2,
            "Biomedical Conditions and Complications",
            True,
            "Physical illnesses, pregnancy, pain, medications and their interactions. "
            "Can they be managed by the person's own doctor, or do they need nursing "
            "or medical monitoring?",
        ),
        Dimension(
            3,
            "Emotional, Behavioral, or Cognitive Conditions and Complications",
            True,
            "Psychiatric symptoms, trauma, suicidal or violent thoughts, memory or "
            "learning problems. Can the person keep safe and take part in groups?",
        ),
        Dimension(
            4,
            "Readiness to Change",
            True,
            "How the person sees their use and treatment: do they want help, and "
            "what do they want to change? Who or what brought them in?",
        ),
        Dimension(
            5,
            "Relapse, Continued Use, or Continued Problem Potential",
            True,
            "Cravings, past attempts to cut down, longest time without use, coping "
            "skills. How likely is use to continue without more structure?",
        ),
        Dimension(
            6,
            "Recovery/Living Environment",
            True,
            "Housing, people at home who use, safety, work or school, transport, "
            "legal pressure, and who supports the person's recovery.",
        ),
    ),
    "4": (
        Dimension(
            1,
            "Intoxication, Withdrawal, and Addiction Medications",
            True,
            "Intoxication now, expected withdrawal and its past severity, and any need "
            "to start or adjust medication for addiction.",
        ),
        Dimension(
            2,
            "Biomedical Conditions",
            True,
            "Physical health concerns and pregnancy-related concerns, and how much "
            "medical or nursing care they need.",
        ),
        Dimension(
            3,
            "Psychiatric and Cognitive Conditions",
            True,
            "Active psychiatric symptoms (including suicidal thoughts) and any lasting "
            "cognitive or psychiatric disability.",
        ),
        Dimension(
            4,
            "Substance Use-Related Risks",
            True,
            "How likely is risky substance use, and risky behaviour linked to it "
            "(overdose, driving, sharing equipment), in the coming weeks?",
        ),
        Dimension(
            5,
            "Recovery Environment Interactions",
            True,
            "The person's ability to function day to day, and the support and safety "
            "of where they live and who they live with.",
        ),
        Dimension(
            6,
            "Person-Centered Considerations",
            False,
            "The person's preferences, barriers to care (childcare, work, transport, "
            "language) and readiness. Not rated: use it to choose the program.",
        ),
    ),
}


# Least to most intensive, per edition (DOMAIN.md §1.1 and §1.2 tables, top to bottom).
INTENSITY: dict[str, tuple[str, ...]] = {
    "3": (
        L.E3_0_5,
        L.E3_1,
        L.E3_2_1,
        L.E3_2_5,
        L.E3_3_1,
        L.E3_3_3,
        L.E3_3_5,
        L.E3_3_7,
        L.E3_4,
    ),
    "4": (
        L.E4_1_0,
        L.E4_1_5,
        L.E4_1_7,
        L.E4_2_1,
        L.E4_2_5,
        L.E4_2_7,
        L.E4_3_1,
        L.E4_3_5,
        L.E4_3_7,
        L.E4_4_0,
    ),
}


@dataclass(frozen=True)
class Rule:
    """One of our rules: if `applies(ratings)`, the person needs at least `level`.

    `applies` receives the ratings of the risk-rated dimensions only, in dimension
    order (index 0 is dimension 1). In the 4th edition that is dimensions 1-5, so
    dimension 6 cannot influence a rule.
    """

    code: str
    description: str
    level: str
    applies: Callable[[tuple[int, ...]], bool]


@dataclass(frozen=True)
class Recommendation:
    """The recommended level, every rule that fired, and those that set the level."""

    level: str
    fired: tuple[Rule, ...]
    driving: tuple[Rule, ...]
    explanation: str


# Hours per week below come from DOMAIN.md §1.1 (Level 1 < 9 h, 2.1 ≥ 9 h, 2.5 ≥ 20 h).
RULES: dict[str, tuple[Rule, ...]] = {
    "3": (
        Rule(
            "3-any-4",
            "A dimension rated 4 (severe, imminent danger): the person needs a medically "
            "managed hospital setting until the danger has passed.",
            L.E3_4,
            lambda r: any(x == 4 for x in r),
        ),
        Rule(
            "3-d1-3",
            "Withdrawal risk rated 3: withdrawal needs 24-hour medical monitoring.",
            L.E3_3_7,
            lambda r: r[0] == 3,
        ),
        Rule(
            "3-d2-d3-3",
            "Biomedical or emotional/behavioural/cognitive conditions rated 3: they need "
            "24-hour medical or psychiatric monitoring alongside treatment.",
            L.E3_3_7,
            lambda r: r[1] == 3 or r[2] == 3,
        ),
        Rule(
            "3-d5-d6-3",
            "Relapse potential and living environment both rated 3: the person needs a "
            "high-intensity 24-hour structured setting away from the current environment.",
            L.E3_3_5,
            lambda r: r[4] == 3 and r[5] == 3,
        ),
        Rule(
            "3-d6-3",
            "Living environment rated 3: the person needs a 24-hour structured place to "
            "live, with clinical services at a low intensity.",
            L.E3_3_1,
            lambda r: r[5] == 3,
        ),
        Rule(
            "3-d5-3",
            "Relapse potential rated 3: the person needs 20 or more hours a week of "
            "structured daytime programming.",
            L.E3_2_5,
            lambda r: r[4] == 3,
        ),
        Rule(
            "3-any-2-or-d4-3",
            "A dimension rated 2 (moderate), or readiness to change rated 3: the person "
            "needs 9 or more hours a week of structured outpatient treatment, with "
            "motivational work where readiness is low.",
            L.E3_2_1,
            lambda r: any(x == 2 for x in r) or r[3] == 3,
        ),
        Rule(
            "3-all-low",
            "Every dimension rated 0 or 1 (none or mild): outpatient care of under 9 "
            "hours a week is the least intensive level that is safe.",
            L.E3_1,
            lambda r: all(x <= 1 for x in r),
        ),
    ),
    "4": (
        Rule(
            "4-any-4",
            "A dimension from 1 to 5 rated 4 (severe, imminent danger): the person needs "
            "medically managed inpatient care until the danger has passed.",
            L.E4_4_0,
            lambda r: any(x == 4 for x in r),
        ),
        Rule(
            "4-d1-3",
            "Intoxication/withdrawal rated 3: withdrawal or medication start needs "
            "24-hour medical management.",
            L.E4_3_7,
            lambda r: r[0] == 3,
        ),
        Rule(
            "4-d2-d3-3",
            "Biomedical or psychiatric/cognitive conditions rated 3: they need 24-hour "
            "medical or psychiatric management alongside treatment.",
            L.E4_3_7,
            lambda r: r[1] == 3 or r[2] == 3,
        ),
        Rule(
            "4-d4-d5-3",
            "Substance use-related risks and recovery environment both rated 3: the "
            "person needs a high-intensity 24-hour structured setting away from the "
            "current environment.",
            L.E4_3_5,
            lambda r: r[3] == 3 and r[4] == 3,
        ),
        Rule(
            "4-d5-3",
            "Recovery environment rated 3: the person needs a 24-hour structured place "
            "to live, with clinical services at a low intensity.",
            L.E4_3_1,
            lambda r: r[4] == 3,
        ),
        Rule(
            "4-d4-3",
            "Substance use-related risks rated 3 with a workable environment: the person "
            "needs 20 or more hours a week of outpatient programming.",
            L.E4_2_5,
            lambda r: r[3] == 3,
        ),
        Rule(
            "4-any-2",
            "A dimension from 1 to 5 rated 2 (moderate): the person needs 9 or more "
            "hours a week of structured outpatient treatment.",
            L.E4_2_1,
            lambda r: any(x == 2 for x in r),
        ),
        Rule(
            "4-all-low",
            "Dimensions 1 to 5 all rated 0 or 1 (none or mild): outpatient therapy is "
            "the least intensive level that is safe.",
            L.E4_1_5,
            lambda r: all(x <= 1 for x in r),
        ),
    ),
}

_EDITION_NAMES = {"3": "3rd edition", "4": "4th edition"}


def _check_edition(edition: str) -> str:
    if edition not in EDITIONS:
        raise ValueError(f"“{edition}” is not an ASAM edition we support: use 3 or 4.")
    return edition


def _label(level: str) -> str:
    return str(L(level).label)


def edition_of(level_code: str) -> str:
    """The edition a stored level belongs to: '3:2.1' -> '3', '4:2.1' -> '4'."""
    if level_code not in L.values:
        raise ValueError(f"“{level_code}” is not a level of care.")
    return level_code.split(":", 1)[0]


def intensity(level_code: str) -> int:
    """Position of a level within its edition: higher means more intensive care."""
    return INTENSITY[edition_of(level_code)].index(level_code)


def _validate(edition: str, ratings: Sequence[int | None]) -> tuple[int, ...]:
    """Check the ratings; return those of the risk-rated dimensions, in order."""
    dims = DIMENSIONS[_check_edition(edition)]
    if not isinstance(ratings, Sequence) or isinstance(ratings, str | bytes):
        raise ValueError(f"Give the ratings as a list of {len(dims)} numbers, dimension 1 first.")
    if len(ratings) != len(dims):
        raise ValueError(
            f"The {_EDITION_NAMES[edition]} assessment has {len(dims)} dimensions: "
            f"give one rating for each (got {len(ratings)})."
        )
    rated: list[int] = []
    for dim, value in zip(dims, ratings, strict=True):
        where = f"Dimension {dim.number} ({dim.name})"
        if value is None:
            if dim.risk_rated:
                raise ValueError(f"{where} has no rating: rate it from 0 to 4.")
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{where}: the rating must be a whole number from 0 to 4.")
        if not MIN_RATING <= value <= MAX_RATING:
            raise ValueError(f"{where} is rated {value}: ratings run from 0 to 4.")
        if dim.risk_rated:
            rated.append(value)
    return tuple(rated)


def recommend(edition: str, ratings: Sequence[int | None]) -> Recommendation:
    """The least intensive level our rules consider safe, with the reasons.

    `ratings` holds one rating per dimension, dimension 1 first. In the 4th edition
    dimension 6 is not risk-rated: pass None (a number is accepted and ignored).
    Raises ValueError with a message saying which rating to fix.
    """
    rated = _validate(edition, ratings)
    fired = tuple(rule for rule in RULES[edition] if rule.applies(rated))
    # The rules cover every rating profile (tested exhaustively), so `fired` is never empty.
    level = max((rule.level for rule in fired), key=intensity)
    driving = tuple(rule for rule in fired if rule.level == level)
    return Recommendation(
        level=level,
        fired=fired,
        driving=driving,
        explanation=_explain(level, fired, driving),
    )


def _explain(level: str, fired: tuple[Rule, ...], driving: tuple[Rule, ...]) -> str:
    lines = [f"Recommended: {_label(level)}."]
    lines.append("Why: " + " ".join(rule.description for rule in driving))
    others = [rule for rule in fired if rule not in driving]
    if others:
        lines.append(
            "Also noted (pointing to less intensive care): "
            + " ".join(f"{rule.description} [{_label(rule.level)}]" for rule in others)
        )
    lines.append(
        "This is decision support from OpenIOP's own rules, not the ASAM Criteria. "
        "The clinician decides; record the reason for choosing a different level."
    )
    return "\n".join(lines)


def check_choice(recommended: str, chosen: str, reason: str) -> None:
    """Refuse a chosen level that differs from the recommendation without a reason.

    Also refuses a level from the other edition: ratings made in one edition support
    a level of that edition only (convert with a mapping table, not here).
    """
    edition = edition_of(recommended)
    if chosen not in L.values:
        raise ValueError(f"“{chosen}” is not a level of care.")
    if edition_of(chosen) != edition:
        raise ValueError(
            f"The assessment used the {_EDITION_NAMES[edition]}, so choose a "
            f"{_EDITION_NAMES[edition]} level (not {_label(chosen)})."
        )
    if chosen == recommended or reason.strip():
        return
    direction = "less" if intensity(chosen) < intensity(recommended) else "more"
    raise ValueError(
        f"{_label(chosen)} is {direction} intensive than the recommended "
        f"{_label(recommended)}: write the reason for the different choice "
        "(for example the person's preference, a level not available, or a payer decision)."
    )


def rules_table(edition: str) -> list[tuple[str, str]]:
    """Every rule of an edition as (description, level label), for documentation and UI."""
    return [(rule.description, _label(rule.level)) for rule in RULES[_check_edition(edition)]]
