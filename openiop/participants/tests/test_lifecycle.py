"""The episode lifecycle: every allowed transition, every refused one, and the guards."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openiop.participants import lifecycle
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.lifecycle import ALLOWED, Request, TransitionRefused

TODAY = dt.date(2026, 11, 24)


@dataclass
class Ep:
    status: str
    referral_date: dt.date = TODAY - dt.timedelta(days=20)
    admission_date: dt.date | None = None
    discharge_date: dt.date | None = None
    level_of_care: str = "3:2.1"
    track_id: int | None = 1
    primary_counsellor_id: int | None = 1


def req(to: str, reason: str = "because") -> Request:
    return Request(to_status=to, effective_date=TODAY, reason=reason)


EXPECTED_ALLOWED = {
    (S.REFERRED, S.SCREENING),
    (S.REFERRED, S.NOT_ADMITTED),
    (S.REFERRED, S.REFERRED_ELSEWHERE),
    (S.SCREENING, S.ASSESSED),
    (S.SCREENING, S.NOT_ADMITTED),
    (S.SCREENING, S.REFERRED_ELSEWHERE),
    (S.ASSESSED, S.ADMITTED),
    (S.ASSESSED, S.NOT_ADMITTED),
    (S.ASSESSED, S.REFERRED_ELSEWHERE),
    (S.ADMITTED, S.ACTIVE),
    (S.ADMITTED, S.DISCHARGED),
    (S.ACTIVE, S.DISCHARGED),
    (S.DISCHARGED, S.ALUMNI),
}
ALL_PAIRS = list(itertools.product(S.values, S.values))


def test_the_table_is_the_documented_lifecycle():
    table = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert table == EXPECTED_ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED_ALLOWED))
def test_allowed_transitions_pass(current, target):
    lifecycle.check(Ep(current), req(target), today=TODAY)


REFUSED = [pair for pair in ALL_PAIRS if pair not in EXPECTED_ALLOWED]


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_transition_is_refused_with_a_reason(current, target):
    with pytest.raises(TransitionRefused) as exc:
        lifecycle.check(Ep(current), req(target), today=TODAY)
    message = str(exc.value)
    assert len(message) > 20
    if current == target:
        assert "already" in message
    elif not ALLOWED[current]:
        assert "closed" in message and "new episode" in message
    else:
        # Says what is possible instead.
        for option in ALLOWED[current]:
            assert lifecycle.label(option) in message


def test_backwards_and_skipping_are_named():
    with pytest.raises(TransitionRefused, match="do not move backwards"):
        lifecycle.check(Ep(S.ACTIVE), req(S.SCREENING), today=TODAY)
    with pytest.raises(TransitionRefused, match="cannot be skipped"):
        lifecycle.check(Ep(S.REFERRED), req(S.ACTIVE), today=TODAY)


@pytest.mark.parametrize("target", [S.NOT_ADMITTED, S.REFERRED_ELSEWHERE])
def test_side_exits_need_a_reason(target):
    with pytest.raises(TransitionRefused, match="reason is required"):
        lifecycle.check(Ep(S.SCREENING), req(target, reason="   "), today=TODAY)


def test_discharge_needs_a_reason():
    with pytest.raises(TransitionRefused, match="reason is required"):
        lifecycle.check(Ep(S.ACTIVE, admission_date=TODAY), req(S.DISCHARGED, ""), today=TODAY)


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("level_of_care", "level of care"),
        ("track_id", "track"),
        ("primary_counsellor_id", "primary counsellor"),
    ],
)
def test_admission_needs_level_track_and_counsellor(field, name):
    ep = Ep(S.ASSESSED)
    setattr(ep, field, "" if field == "level_of_care" else None)
    with pytest.raises(TransitionRefused, match=name):
        lifecycle.check(ep, req(S.ADMITTED), today=TODAY)


def test_dates_cannot_be_in_the_future_or_before_the_referral():
    with pytest.raises(TransitionRefused, match="future"):
        lifecycle.check(
            Ep(S.REFERRED), Request(S.SCREENING, TODAY + dt.timedelta(days=1)), today=TODAY
        )
    ep = Ep(S.REFERRED)
    with pytest.raises(TransitionRefused, match="referral date"):
        lifecycle.check(
            ep, Request(S.SCREENING, ep.referral_date - dt.timedelta(days=1)), today=TODAY
        )


def test_active_and_discharge_not_before_admission():
    ep = Ep(S.ADMITTED, admission_date=TODAY - dt.timedelta(days=2))
    with pytest.raises(TransitionRefused, match="admission date"):
        lifecycle.check(ep, Request(S.ACTIVE, TODAY - dt.timedelta(days=3)), today=TODAY)


def test_alumni_not_before_discharge():
    ep = Ep(
        S.DISCHARGED,
        admission_date=TODAY - dt.timedelta(days=10),
        discharge_date=TODAY - dt.timedelta(days=1),
    )
    with pytest.raises(TransitionRefused, match="discharge date"):
        lifecycle.check(ep, Request(S.ALUMNI, TODAY - dt.timedelta(days=2)), today=TODAY)


def test_unknown_status_is_refused():
    with pytest.raises(TransitionRefused, match="not an episode status"):
        lifecycle.check(Ep(S.REFERRED), req("paused"), today=TODAY)


def test_admission_and_discharge_set_their_dates():
    ep = Ep(S.ASSESSED)
    assert lifecycle.apply_dates(ep, req(S.ADMITTED)) == ["admission_date"]
    assert ep.admission_date == TODAY
    assert lifecycle.apply_dates(ep, req(S.DISCHARGED)) == ["discharge_date"]
    assert ep.discharge_date == TODAY
    assert lifecycle.apply_dates(ep, req(S.ACTIVE)) == []


@given(path=st.lists(st.sampled_from(S.values), max_size=12))
def test_any_walk_only_follows_the_table(path):
    """Whatever sequence is tried, the statuses actually reached follow the table."""
    ep = Ep(S.REFERRED, admission_date=TODAY - dt.timedelta(days=5))
    reached = [ep.status]
    for target in path:
        try:
            lifecycle.check(ep, req(target), today=TODAY)
        except TransitionRefused:
            continue
        assert target in ALLOWED[ep.status]
        ep.status = target
        reached.append(target)
    for a, b in itertools.pairwise(reached):
        assert (a, b) in EXPECTED_ALLOWED
