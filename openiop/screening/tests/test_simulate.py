"""`openiop screening simulate` (issue 7, point 4): the real selection rule over simulated
program days, printed as JSON for a director choosing a random rate."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from openiop.screening import simulation


def run(*args: str) -> dict:
    out = StringIO()
    call_command("screening", "simulate", *args, stdout=out)
    return json.loads(out.getvalue())


BASE = ["--participants", "30", "--days", "400", "--rate", "1", "--seed", "director-42"]


def test_the_json_has_the_figures_a_director_needs():
    result = run(*BASE)
    assert result["participants"] == 30 and result["days"] == 400
    assert result["rate"] == 1.0 and result["probability"] == 0.2
    assert len(result["selections_per_participant"]) == 30
    assert list(result["selections_per_weekday"]) == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    total = sum(result["selections_per_participant"])
    assert total == sum(result["selections_per_weekday"].values()) == result["selections_total"]
    assert result["expected_tests_per_participant_per_week"] == 1.0
    # 400 program days at 5 a week are 80 weeks.
    assert result["observed_tests_per_participant_per_week"] == round(total / 30 / 80, 4)
    assert abs(result["observed_tests_per_participant_per_week"] - 1.0) < 0.1
    assert result["price_per_test"] == 12.0
    assert result["cost_per_week"] == 30 * 1.0 * 12.0
    assert result["cost_total"] == total * 12.0


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    assert run(*BASE) == run(*BASE)
    other = run(*BASE[:-1], "director-43")
    assert other["selections_per_participant"] != run(*BASE)["selections_per_participant"]


def test_it_runs_the_real_selection_rule():
    result = run("--participants", "5", "--days", "3", "--rate", "2", "--seed", "s")
    days = simulation.program_days(3, 5)
    expected = [0] * 5
    for i, day in enumerate(days):
        for e in simulation.derive(
            simulation.day_seed("s", i), day, [1, 2, 3, 4, 5], simulation.Decimal("0.4")
        ):
            expected[e - 1] += 1
    assert result["selections_per_participant"] == expected


def test_days_per_week_and_price():
    result = run(*BASE, "--days-per-week", "3", "--price", "25.50")
    assert list(result["selections_per_weekday"]) == ["Mon", "Tue", "Wed"]
    assert result["probability"] == 0.333333
    assert result["expected_tests_per_participant_per_week"] == 1.0
    assert result["price_per_test"] == 25.5
    assert result["cost_per_week"] == round(30 * 0.999999 * 25.5, 2)


def test_a_rate_above_the_program_days_is_capped_at_every_day():
    result = run(
        "--participants", "3", "--days", "10", "--rate", "7", "--seed", "x", "--days-per-week", "4"
    )
    assert result["probability"] == 1.0
    assert result["selections_per_participant"] == [10, 10, 10]
    assert result["expected_tests_per_participant_per_week"] == 4.0


def test_a_rate_of_zero_selects_nobody():
    result = run("--participants", "3", "--days", "10", "--rate", "0", "--seed", "x")
    assert result["selections_per_participant"] == [0, 0, 0]
    assert result["cost_per_week"] == 0.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--participants", "0"), "--participants must be a whole number"),
        (("--participants", "-3"), "--participants must be a whole number"),
        (("--participants", "abc"), "--participants must be a whole number"),
        (("--participants", "1.5"), "--participants must be a whole number"),
        (("--participants", "²"), "--participants must be a whole number"),
        (("--participants", "20000"), "--participants must be 1 to"),
        (("--days", "0"), "--days must be a whole number"),
        (("--days", "9" * 30), "--days must be a whole number"),
        (("--days", "50000"), "--days must be 1 to"),
        (("--rate", "8"), "--rate must be 0 to 7"),
        (("--rate", "-1"), "--rate must be 0 to 7"),
        (("--rate", "NaN"), "--rate must be a number"),
        (("--rate", "Infinity"), "--rate must be a number"),
        (("--rate", "one"), "--rate must be a number"),
        (("--days-per-week", "0"), "--days-per-week must be a whole number"),
        (("--days-per-week", "8"), "--days-per-week must be 1 to 7"),
        (("--price", "-1"), "--price must be 0 to"),
        (("--price", "free"), "--price must be a number"),
    ],
)
def test_bad_input_is_a_clear_error(change, message):
    args = dict(zip(BASE[::2], BASE[1::2], strict=True))
    args[change[0]] = change[1]
    flat = [x for pair in args.items() for x in pair]
    with pytest.raises(CommandError, match=message.replace("+", r"\+")):
        run(*flat)


def test_too_many_draws_is_refused():
    with pytest.raises(CommandError, match="at most"):
        run("--participants", "10000", "--days", "10000", "--rate", "1", "--seed", "x")


def test_missing_arguments_are_an_error():
    with pytest.raises(CommandError):
        call_command("screening", "simulate", "--participants", "3")
    with pytest.raises(CommandError):
        call_command("screening")
