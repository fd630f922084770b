"""Pre-admission screening: every answer that points elsewhere is flagged, never dropped."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.intake import prescreen
from openiop.intake.prescreen import BY_CODE, QUESTIONS, evaluate

# Every answer that raises no concern: IOP fits with no flags.
CLEAR: dict[str, object] = {
    "stable_housing": "yes",
    "withdrawal_now": "no",
    "needs_24h_medical": "no",
    "needs_24h_psychiatric": "no",
    "overdose_30d": "no",
    "suicidal": "no",
    "pregnant_active_use": "no",
    "motivation": 7,
    "can_attend": "yes",
    "has_transport": "yes",
}


def with_(**changes: object) -> dict[str, object]:
    return {**CLEAR, **changes}


def only_flag(result: prescreen.ScreenResult) -> prescreen.ScreenFlag:
    assert len(result.flags) == 1, result.flags
    return result.flags[0]


def test_questions_cover_the_screen_and_have_unique_codes():
    assert set(BY_CODE) == set(CLEAR)
    assert len(QUESTIONS) == len(BY_CODE)
    for q in QUESTIONS:
        assert q.kind in ("yes_no", "scale")
        assert q.text.strip() and q.help.strip()
    assert BY_CODE["motivation"].kind == "scale"


def test_all_clear_fits_with_no_flags():
    result = evaluate(CLEAR)
    assert result.flags == ()
    assert result.fits is True
    assert result.summary == "IOP may fit: no answer points to another level of care."


@pytest.mark.parametrize(
    ("code", "answer", "severity", "points_to"),
    [
        ("stable_housing", "no", "barrier", "sober living or Level 3.1"),
        ("withdrawal_now", "yes", "refer", "withdrawal management"),
        ("needs_24h_medical", "yes", "refer", "Level 3.7 / 4"),
        ("needs_24h_psychiatric", "yes", "refer", "Level 3.7 / 4 or inpatient psychiatry"),
        ("overdose_30d", "yes", "review", "medical review"),
        ("suicidal", "yes", "urgent", "same-day safety assessment"),
        ("pregnant_active_use", "yes", "review", "biomedical review"),
        ("can_attend", "no", "barrier", "another track or Level 1 outpatient"),
        ("has_transport", "no", "barrier", "transport help or telehealth"),
    ],
)
def test_each_concern_is_flagged_on_its_own(code, answer, severity, points_to):
    result = evaluate(with_(**{code: answer}))
    flag = only_flag(result)
    assert (flag.question, flag.severity, flag.points_to) == (code, severity, points_to)
    assert flag.message.strip()
    assert result.fits is (severity not in ("urgent", "refer"))


def test_suicide_risk_is_urgent_and_the_summary_leads_with_it():
    result = evaluate(with_(suicidal="yes", withdrawal_now="yes"))
    assert [f.severity for f in result.flags] == ["urgent", "refer"]
    assert "same-day safety assessment" in result.flags[0].message
    assert result.summary.startswith("Urgent: arrange a same-day safety assessment")
    assert "refer for withdrawal management" in result.summary
    assert result.fits is False


def test_urgent_alone_does_not_fit_until_the_need_is_met():
    result = evaluate(with_(suicidal="yes"))
    assert result.fits is False
    assert "IOP does not fit now until the urgent need is met." in result.summary


@pytest.mark.parametrize("score", [0, 1, 2, 3])
def test_low_motivation_is_a_review_not_a_refusal(score):
    result = evaluate(with_(motivation=score))
    flag = only_flag(result)
    assert (flag.severity, flag.points_to) == ("review", "motivational enhancement")
    assert f"Motivation rated {score} of 10" in flag.message
    assert "not a reason to refuse" in flag.message
    assert result.fits is True


@pytest.mark.parametrize("score", [4, 5, 10])
def test_motivation_above_3_raises_no_flag(score):
    assert evaluate(with_(motivation=score)).flags == ()


@pytest.mark.parametrize("value", ["unknown", "Unknown ", None, ""])
def test_unknown_answers_are_flagged_as_unanswered(value):
    result = evaluate(with_(withdrawal_now=value))
    flag = only_flag(result)
    assert flag.severity == "unanswered"
    assert "before admitting" in flag.message
    assert BY_CODE["withdrawal_now"].text in flag.message
    assert result.fits is True
    assert "Before admitting: 1 question to ask." in result.summary


def test_a_missing_question_counts_as_unanswered():
    answers = dict(CLEAR)
    del answers["motivation"]
    flag = only_flag(evaluate(answers))
    assert (flag.question, flag.severity) == ("motivation", "unanswered")


def test_nothing_answered_flags_every_question():
    result = evaluate({})
    assert [f.question for f in result.flags] == [q.code for q in QUESTIONS]
    assert {f.severity for f in result.flags} == {"unanswered"}
    assert "10 questions to ask" in result.summary


def test_every_concern_at_once_is_kept_and_ordered_by_severity():
    worst = {
        "stable_housing": "no",
        "withdrawal_now": "yes",
        "needs_24h_medical": "yes",
        "needs_24h_psychiatric": "yes",
        "overdose_30d": "yes",
        "suicidal": "yes",
        "pregnant_active_use": "yes",
        "motivation": 1,
        "can_attend": "no",
        "has_transport": "unknown",
    }
    result = evaluate(worst)
    assert len(result.flags) == len(QUESTIONS)
    severities = [f.severity for f in result.flags]
    assert severities == sorted(severities, key=prescreen.SEVERITIES.index)
    # Within a severity, the order of the questions.
    assert [f.question for f in result.flags if f.severity == "refer"] == [
        "withdrawal_now",
        "needs_24h_medical",
        "needs_24h_psychiatric",
    ]
    assert result.fits is False
    assert (
        "refer for withdrawal management; Level 3.7 / 4; "
        "Level 3.7 / 4 or inpatient psychiatry." in result.summary
    )
    assert (
        "Before admitting: 3 items to review, 2 barriers to solve, 1 question to ask."
        in result.summary
    )


def test_answers_are_case_and_space_insensitive():
    assert evaluate(with_(withdrawal_now=" YES ")).flags[0].severity == "refer"


@pytest.mark.parametrize(
    ("code", "value", "message"),
    [
        ("withdrawal_now", "maybe", "answered yes, no or unknown"),
        ("withdrawal_now", True, "answered yes, no or unknown"),
        ("withdrawal_now", 1, "answered yes, no or unknown"),
        ("motivation", 11, "whole number from 0 to 10"),
        ("motivation", -1, "whole number from 0 to 10"),
        ("motivation", 5.5, "whole number from 0 to 10"),
        ("motivation", "7", "whole number from 0 to 10"),
        ("motivation", "yes", "whole number from 0 to 10"),
        ("motivation", True, "whole number from 0 to 10"),
    ],
)
def test_invalid_values_are_refused(code, value, message):
    with pytest.raises(ValueError, match=message):
        evaluate(with_(**{code: value}))


def test_unknown_question_codes_are_refused():
    with pytest.raises(ValueError, match=r"Unknown screening question: 'housing', 'zzz'\."):
        evaluate(with_(zzz="yes", housing="no"))


ANSWER = st.sampled_from(["yes", "no", "unknown"])


@given(
    st.fixed_dictionaries(
        {q.code: ANSWER for q in QUESTIONS if q.kind == "yes_no"}
        | {"motivation": st.one_of(st.integers(0, 10), st.just("unknown"))}
    )
)
def test_fits_exactly_when_no_urgent_or_refer_flag_and_nothing_is_dropped(answers):
    result = evaluate(answers)
    blocking = {f.severity for f in result.flags} & {"urgent", "refer"}
    assert result.fits is (not blocking)
    # Every unknown answer and every concerning answer has its own flag.
    flagged = {f.question for f in result.flags}
    for code, value in answers.items():
        if value == "unknown":
            assert code in flagged
    for code, value in answers.items():
        concern = prescreen._CONCERNS.get(code)
        if concern and value == concern.answer:
            assert code in flagged
    assert len(flagged) == len(result.flags)
    assert result.summary
