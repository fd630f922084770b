"""Pre-admission screening: before a full assessment, does an IOP look like a fit?

A short set of questions asked at first contact (phone or walk-in). Each answer that
points somewhere else — withdrawal management, a residential or hospital level, a
same-day safety assessment — is flagged with what to do, never dropped. A question
not yet answered is flagged too: ask it before admitting.

Severities, most pressing first:

- ``urgent``: act today, before anything else (same-day safety assessment).
- ``refer``: another level or service fits better now; IOP does not fit (``fits`` is
  False) until that need is met.
- ``review``: a clinician looks at it before admission; it is not a reason to refuse.
- ``barrier``: something practical to solve so the person can attend.
- ``unanswered``: not known yet; ask before admitting.

This screen is a triage aid, not the multidimensional assessment (see `asam.py`);
the level-of-care decision is made at assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["yes_no", "scale"]
Severity = Literal["urgent", "refer", "review", "barrier", "unanswered"]

SEVERITIES: tuple[Severity, ...] = ("urgent", "refer", "review", "barrier", "unanswered")
BLOCKING: frozenset[Severity] = frozenset({"urgent", "refer"})

YES, NO, UNKNOWN = "yes", "no", "unknown"
SCALE_MIN, SCALE_MAX = 0, 10
LOW_MOTIVATION = 3  # at or below: motivational enhancement (a review, not a refusal)


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    kind: Kind
    help: str


@dataclass(frozen=True)
class ScreenFlag:
    """An answer that needs action. `points_to` names the level or service it suggests."""

    question: str
    severity: Severity
    message: str
    points_to: str


@dataclass(frozen=True)
class ScreenResult:
    flags: tuple[ScreenFlag, ...]
    fits: bool
    summary: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "stable_housing",
        "Does the person have a stable, safe place to live?",
        "yes_no",
        "A place they can stay for the length of the program, where they are safe and "
        "recovery is possible.",
    ),
    Question(
        "withdrawal_now",
        "Does the person need withdrawal management now?",
        "yes_no",
        "Heavy daily alcohol, benzodiazepine or opioid use; past seizures or delirium "
        "in withdrawal; current shakes, sweats or vomiting.",
    ),
    Question(
        "needs_24h_medical",
        "Does the person need 24-hour medical care?",
        "yes_no",
        "An unstable physical condition that needs nursing or a doctor around the clock.",
    ),
    Question(
        "needs_24h_psychiatric",
        "Does the person need 24-hour psychiatric care?",
        "yes_no",
        "Psychosis, mania, or behaviour that cannot be kept safe outside a " "24-hour setting.",
    ),
    Question(
        "overdose_30d",
        "Has the person overdosed in the past 30 days?",
        "yes_no",
        "Any overdose, whether or not naloxone was used or the person went to hospital.",
    ),
    Question(
        "suicidal",
        "Is the person having thoughts of suicide now, or have they tried to end their "
        "life recently?",
        "yes_no",
        "Ask directly. Any yes means a same-day safety assessment by a clinician.",
    ),
    Question(
        "pregnant_active_use",
        "Is the person pregnant and currently using alcohol or drugs?",
        "yes_no",
        "Answer no if not pregnant. A yes needs a biomedical review (obstetric care and "
        "addiction medicine) before admission.",
    ),
    Question(
        "motivation",
        "How much does the person want to change their substance use right now (0-10)?",
        "scale",
        "0 = not at all, 10 = more than anything. Their own rating, in their own words.",
    ),
    Question(
        "can_attend",
        "Can the person attend the schedule: 3 or more days a week, 3 or more hours " "a day?",
        "yes_no",
        "An IOP gives at least 9 hours a week to adults. Think of work, childcare and "
        "court dates.",
    ),
    Question(
        "has_transport",
        "Can the person get to the program, or join by telehealth?",
        "yes_no",
        "Own car, lift, public transport, or a private place with a device and internet "
        "for telehealth sessions.",
    ),
)

BY_CODE: dict[str, Question] = {q.code: q for q in QUESTIONS}


@dataclass(frozen=True)
class _Concern:
    """The yes/no answer that needs action, and what to do about it."""

    answer: str
    severity: Severity
    message: str
    points_to: str


_CONCERNS: dict[str, _Concern] = {
    # Same-day safety assessment, as for a PHQ-9 item 9 above 0 (DOMAIN.md §4).
    "suicidal": _Concern(
        YES,
        "urgent",
        "Suicidal thoughts or a recent attempt: arrange a same-day safety assessment by a "
        "clinician before going on with intake. Do not leave the person without a plan.",
        "same-day safety assessment",
    ),
    # Withdrawal management is its own service (WM levels, DOMAIN.md §1.1, §1.2).
    "withdrawal_now": _Concern(
        YES,
        "refer",
        "Needs withdrawal management now: refer for withdrawal management (ambulatory or "
        "inpatient, as a medical review decides); IOP can follow once withdrawal is safe.",
        "withdrawal management",
    ),
    # Medically monitored or managed levels (DOMAIN.md §1.1, §1.2).
    "needs_24h_medical": _Concern(
        YES,
        "refer",
        "Needs 24-hour medical care: refer to a medically monitored or managed level; "
        "IOP can be the step down afterwards.",
        "Level 3.7 / 4",
    ),
    "needs_24h_psychiatric": _Concern(
        YES,
        "refer",
        "Needs 24-hour psychiatric care: refer to inpatient psychiatric or medically "
        "managed care; IOP can be the step down afterwards.",
        "Level 3.7 / 4 or inpatient psychiatry",
    ),
    "overdose_30d": _Concern(
        YES,
        "review",
        "Overdose in the past 30 days: a prescriber reviews overdose risk before "
        "admission (naloxone, medication for opioid use disorder) and whether a more "
        "intensive level is safer.",
        "medical review",
    ),
    "pregnant_active_use": _Concern(
        YES,
        "review",
        "Pregnant with active use: a biomedical review (obstetric care and addiction "
        "medicine) before admission decides whether IOP is safe.",
        "biomedical review",
    ),
    "stable_housing": _Concern(
        NO,
        "barrier",
        "No stable, safe housing: IOP can still work with housing arranged (for example a "
        "sober living home); if the person needs a 24-hour structured setting, consider "
        "a residential level.",
        "sober living or Level 3.1",
    ),
    # Level 2.1 is at least 9 hours a week for adults (DOMAIN.md §1.1).
    "can_attend": _Concern(
        NO,
        "barrier",
        "Cannot attend 3 or more days and 3 or more hours a day: look for a track that "
        "fits (evening, telehealth); if none does, outpatient care of under 9 hours a "
        "week is the option.",
        "another track or Level 1 outpatient",
    ),
    "has_transport": _Concern(
        NO,
        "barrier",
        "No way to get to the program: arrange transport help or telehealth sessions "
        "before the first day.",
        "transport help or telehealth",
    ),
}


def _normalise(question: Question, value: object) -> str | int:
    """The answer as "yes"/"no"/"unknown" or an int 0-10; ValueError if it is neither."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", UNKNOWN)):
        return UNKNOWN
    if question.kind == "yes_no":
        if isinstance(value, str) and value.strip().lower() in (YES, NO):
            return value.strip().lower()
        raise ValueError(f"“{question.text}” is answered yes, no or unknown (got {value!r}).")
    if isinstance(value, int) and not isinstance(value, bool) and SCALE_MIN <= value <= SCALE_MAX:
        return value
    raise ValueError(
        f"“{question.text}” is answered with a whole number from {SCALE_MIN} to "
        f"{SCALE_MAX}, or unknown (got {value!r})."
    )


def _flag_for(question: Question, answer: str | int) -> ScreenFlag | None:
    if answer == UNKNOWN:
        return ScreenFlag(
            question.code,
            "unanswered",
            f"Not answered yet: ask “{question.text}” before admitting.",
            "ask before admitting",
        )
    if question.code == "motivation":
        if isinstance(answer, int) and answer <= LOW_MOTIVATION:
            return ScreenFlag(
                question.code,
                "review",
                f"Motivation rated {answer} of 10: plan motivational enhancement in the "
                "first weeks. Low motivation is common at the start and is not a reason "
                "to refuse admission.",
                "motivational enhancement",
            )
        return None
    concern = _CONCERNS[question.code]
    if answer != concern.answer:
        return None
    return ScreenFlag(question.code, concern.severity, concern.message, concern.points_to)


def evaluate(answers: Mapping[str, object]) -> ScreenResult:
    """Flag every answer that needs action; IOP fits unless an urgent or refer flag exists.

    `answers` maps question codes to "yes"/"no"/"unknown" (or an int 0-10 for the
    motivation scale). A question left out, None, or blank counts as unanswered.
    Raises ValueError for an unknown question code or an answer of the wrong kind.
    """
    unknown = sorted(code for code in answers if code not in BY_CODE)
    if unknown:
        raise ValueError(
            "Unknown screening question: " + ", ".join(repr(code) for code in unknown) + "."
        )
    flags: list[ScreenFlag] = []
    for question in QUESTIONS:
        answer = _normalise(question, answers.get(question.code))
        flag = _flag_for(question, answer)
        if flag is not None:
            flags.append(flag)
    # Most pressing first; within a severity, the order of the questions.
    flags.sort(key=lambda f: SEVERITIES.index(f.severity))
    fits = not any(f.severity in BLOCKING for f in flags)
    return ScreenResult(flags=tuple(flags), fits=fits, summary=_summary(flags, fits))


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _summary(flags: list[ScreenFlag], fits: bool) -> str:
    by = {s: [f for f in flags if f.severity == s] for s in SEVERITIES}
    parts: list[str] = []
    if by["urgent"]:
        parts.append("Urgent: arrange a same-day safety assessment before anything else.")
    if fits:
        parts.append("IOP may fit: no answer points to another level of care.")
    else:
        where = "; ".join(f.points_to for f in by["refer"])
        parts.append(
            "IOP does not fit now"
            + (f": refer for {where}." if where else " until the urgent need is met.")
        )
    todo = [
        text
        for n, text in (
            (len(by["review"]), _count(len(by["review"]), "item", "items") + " to review"),
            (len(by["barrier"]), _count(len(by["barrier"]), "barrier", "barriers") + " to solve"),
            (
                len(by["unanswered"]),
                _count(len(by["unanswered"]), "question", "questions") + " to ask",
            ),
        )
        if n
    ]
    if todo:
        parts.append("Before admitting: " + ", ".join(todo) + ".")
    return " ".join(parts)
