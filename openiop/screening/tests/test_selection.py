"""Random selection (issue 7, point 3): the rule's statistics (acceptance 1), the pool of
participants expected that day, the daily draw and its audit trail, scheduled and
admission orders, revealing and verifying a day (acceptance 2), the daily job, and the
selection log with its "Verify" action."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from decimal import Decimal
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from scipy import stats

from openiop.core.models import AuditEvent
from openiop.core.worker import REGISTRY, Daily, run_period
from openiop.participants.choices import EpisodeStatus as S
from openiop.participants.models import Episode
from openiop.programs.models import Program
from openiop.scheduling import services as schedule
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.models import Session
from openiop.screening import selection, services
from openiop.screening.choices import OrderReason
from openiop.screening.models import Order, ScreeningPolicy, SelectionDay
from openiop.screening.selection import METHOD, derive
from openiop.screening.services import ScreeningError
from openiop.testing import ensure_screening_library, make_participant

pytestmark = pytest.mark.django_db

SEED = bytes(range(32))
OTHER_SEED = bytes(range(1, 33))


# --- acceptance 1: the statistics of the rule -------------------------------------------------

PARTICIPANTS = 40
DAYS = 2000
P = Decimal("0.25")
ALPHA = 0.001
START = dt.date(2025, 1, 6)  # a Monday


def _weekdays(n: int) -> list[dt.date]:
    """n program days, Monday to Friday."""
    out, day = [], START
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += dt.timedelta(days=1)
    return out


def _day_seed(i: int) -> bytes:
    # A fixed seed per day, so the test is deterministic (the worker uses a CSPRNG).
    return hashlib.sha256(f"acceptance-1|{i}".encode()).digest()


@pytest.fixture(scope="module")
def simulated() -> tuple[list[dt.date], list[set[int]]]:
    days = _weekdays(DAYS)
    pool = list(range(1001, 1001 + PARTICIPANTS))
    return days, [set(derive(_day_seed(i), d, pool, P)) for i, d in enumerate(days)]


def _counts(picks: list[set[int]]) -> list[int]:
    return [sum(e in day for day in picks) for e in range(1001, 1001 + PARTICIPANTS)]


@pytest.mark.django_db(False)
def test_each_participants_count_lies_within_binomial_bounds(simulated):
    _, picks = simulated
    low, high = stats.binom.interval(0.9999, DAYS, float(P))
    counts = _counts(picks)
    assert all(low <= c <= high for c in counts), (low, high, counts)
    # And the rate is what the policy asks for.
    assert abs(sum(counts) / (DAYS * PARTICIPANTS) - float(P)) < 0.01


@pytest.mark.django_db(False)
def test_chi_square_over_participants_does_not_reject_uniformity(simulated):
    _, picks = simulated
    assert stats.chisquare(_counts(picks)).pvalue > ALPHA


@pytest.mark.django_db(False)
def test_selection_is_independent_of_the_weekday(simulated):
    days, picks = simulated
    table = [[0, 0] for _ in range(5)]
    for day, picked in zip(days, picks, strict=True):
        table[day.weekday()][0] += len(picked)
        table[day.weekday()][1] += PARTICIPANTS - len(picked)
    assert stats.chi2_contingency(table).pvalue > ALPHA


@pytest.mark.django_db(False)
def test_selection_is_independent_of_having_been_picked_the_day_before(simulated):
    _, picks = simulated
    # Rows: picked the program day before or not; columns: picked today or not.
    table = [[0, 0], [0, 0]]
    for yesterday, today in pairwise(picks):
        for e in range(1001, 1001 + PARTICIPANTS):
            table[e not in yesterday][e not in today] += 1
    assert stats.chi2_contingency(table).pvalue > ALPHA


@pytest.mark.django_db(False)
def test_the_same_tests_catch_a_biased_or_sticky_selector():
    """The statistical tests have teeth: a rule favouring some ids, or one that tends to
    pick again who was picked yesterday, is rejected."""
    days = _weekdays(DAYS)
    pool = list(range(1001, 1001 + PARTICIPANTS))
    biased = [
        set(derive(_day_seed(i), d, pool[:10], P + Decimal("0.05")))
        | set(derive(_day_seed(i), d, pool[10:], P))
        for i, d in enumerate(days)
    ]
    assert stats.chisquare(_counts(biased)).pvalue < ALPHA
    sticky: list[set[int]] = []
    for i, d in enumerate(days):
        picked = set(derive(_day_seed(i), d, pool, P))
        if sticky:
            again = derive(_day_seed(i + DAYS), d, sorted(sticky[-1]), Decimal("0.3"))
            picked |= set(again)
        sticky.append(picked)
    table = [[0, 0], [0, 0]]
    for yesterday, today in pairwise(sticky):
        for e in pool:
            table[e not in yesterday][e not in today] += 1
    assert stats.chi2_contingency(table).pvalue < ALPHA


@pytest.mark.django_db(False)
def test_derive_is_the_documented_hmac_rule():
    day = dt.date(2026, 3, 2)
    pool = list(range(1, 200))
    picked = derive(SEED, day, pool, Decimal("0.3"))
    assert picked == sorted(picked) and picked == derive(SEED, day, pool[::-1], Decimal("0.3"))
    for e in pool:
        digest = hmac.new(SEED, f"{METHOD}|2026-03-02|{e}".encode(), hashlib.sha256).digest()
        assert (e in picked) == (int.from_bytes(digest[:8], "big") / 2**64 < 0.3)
    assert derive(SEED, day, pool, Decimal(0)) == []
    assert derive(SEED, day, pool, Decimal(1)) == pool
    assert derive(OTHER_SEED, day, pool, Decimal("0.3")) != picked
    assert derive(SEED, day + dt.timedelta(days=1), pool, Decimal("0.3")) != picked


# --- helpers for the database tests -----------------------------------------------------------


@pytest.fixture
def w(world):
    ensure_screening_library()
    return world


def session_days(program: Program, *, before: dt.date | None = None) -> list[dt.date]:
    rows = Session.objects.filter(
        program=program, kind=SessionKind.GROUP, status=SessionStatus.SCHEDULED, voided=False
    )
    if before is not None:
        rows = rows.filter(date__lt=before)
    return sorted(set(rows.values_list("date", flat=True)))


def past_session_day(world) -> dt.date:
    """The last day before today with a Morning group (world.active is expected)."""
    return session_days(world.program, before=world.program.today())[-1]


def no_session_day(world) -> dt.date:
    """A past day without any session (a Wednesday: the Morning track meets Mon, Tue, Thu)."""
    today = world.program.today()
    day = today - dt.timedelta(days=7)
    while day.weekday() != 2:
        day -= dt.timedelta(days=1)
    assert not Session.objects.filter(program=world.program, date=day).exists()
    return day


def set_policy(program: Program, **values) -> ScreeningPolicy:
    policy = services.policy_for(program)
    ScreeningPolicy.objects.filter(pk=policy.pk).update(**values)
    policy.refresh_from_db()
    return policy


def everyone(program: Program) -> None:
    """Chance 1: every participant in the pool is selected (7 tests a week over 7 days)."""
    set_policy(program, random_rate=Decimal(7), draw_days_per_week=7)


def more_active(world, n: int) -> list[Episode]:
    out = []
    for i in range(n):
        p = make_participant(world.program, world.intake, last=f"Pool{i}", status=S.ACTIVE)
        out.append(p.current_episode)
    return out


def draw_event(program: Program, day: dt.date) -> AuditEvent:
    return AuditEvent.objects.get(
        action="create", object_type="screening.selectionday", object_id=f"{program.pk}:{day}"
    )


# --- the pool ---------------------------------------------------------------------------------


def test_the_pool_is_who_is_expected_that_day(w):
    day = past_session_day(w)
    extra = more_active(w, 2)
    discharged = make_participant(w.program, w.intake, last="Gone", status=S.DISCHARGED)
    referred_id = w.referred.current_episode_id
    pool = [e.pk for e in selection.eligible_episodes(w.program, day)]
    assert pool == sorted([w.active.current_episode_id] + [e.pk for e in extra])
    assert discharged.episodes.get().pk not in pool
    assert referred_id not in pool
    # The other program's participant is in their own program's pool only.
    assert w.foreign.current_episode_id not in pool
    # Nobody is expected on a day without sessions (a weekend, a closure).
    assert selection.eligible_episodes(w.program, no_session_day(w)) == []


def test_someone_not_expected_that_day_is_not_in_the_pool(w):
    active = w.active.current_episode
    # Booked into an appointment on a day without a group: expected, and the only one.
    quiet = no_session_day(w)
    schedule.create_session(
        schedule.SessionInput(
            program=w.program,
            session_type=w.program.session_types.get(name="Process group"),
            kind=SessionKind.INDIVIDUAL,
            title="Individual session",
            day=quiet,
            start=dt.time(14),
            end=dt.time(15),
            facilitator=w.counsellor,
            room=None,
        ),
        actor=w.counsellor,
        episodes=[more_active(w, 1)[0]],
    )
    booked = [e.pk for e in selection.eligible_episodes(w.program, quiet)]
    assert len(booked) == 1 and active.pk not in booked
    # A cancelled group (a future one: attendance was not taken): its track is not
    # expected that day.
    ahead = next(
        d for d in session_days(w.program) if d > w.program.today() and d != w.appointment.date
    )
    assert active.pk in [e.pk for e in selection.eligible_episodes(w.program, ahead)]
    for session in Session.objects.filter(program=w.program, date=ahead, kind=SessionKind.GROUP):
        schedule.cancel_session(session, actor=w.director, reason="Snow day")
    assert active.pk not in [e.pk for e in selection.eligible_episodes(w.program, ahead)]


def test_the_pool_takes_a_bounded_number_of_queries(w, django_assert_max_num_queries):
    day = past_session_day(w)
    with django_assert_max_num_queries(3):
        small = selection.eligible_episodes(w.program, day)
    more_active(w, 6)
    with django_assert_max_num_queries(3):
        large = selection.eligible_episodes(w.program, day)
    assert len(large) == len(small) + 6


# --- the draw ---------------------------------------------------------------------------------


def test_a_draw_writes_the_hash_first_then_the_day_then_the_orders(w):
    day = past_session_day(w)
    extra = more_active(w, 3)
    everyone(w.program)
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    row = selection.draw_day(w.program, day, seed=SEED)
    assert row.seed_hash == hashlib.sha256(SEED).hexdigest()
    assert row.seed == SEED.hex() and row.method == METHOD
    assert row.probability == Decimal("1.000000")
    assert row.eligible == sorted([w.active.current_episode_id] + [e.pk for e in extra])
    assert row.selected == row.eligible
    assert row.drawn_by == "worker"
    event = draw_event(w.program, day)
    assert event.changes["seed_hash"] == [None, row.seed_hash]
    assert event.changes["eligible_count"] == [None, 4]
    assert event.changes["eligible_hash"] == [None, selection.pool_hash(row.eligible)]
    # The seed itself is never in the audit log.
    assert SEED.hex() not in str(event.changes)
    orders = list(Order.objects.filter(selection=row).order_by("pk"))
    assert sorted(o.episode_id for o in orders) == row.selected
    assert {o.reason for o in orders} == {OrderReason.RANDOM}
    assert {o.panel_id for o in orders} == {services.policy_for(w.program).random_panel_id}
    assert {o.day for o in orders} == {day}
    # The hash is the first thing written: before any order (and its audit event).
    first_write = AuditEvent.objects.filter(pk__gt=since).order_by("pk").first()
    assert first_write.pk == event.pk
    order_events = AuditEvent.objects.filter(
        pk__gt=since, object_type="screening.order", action="create"
    )
    assert order_events.count() == 4
    assert all(e.pk > event.pk for e in order_events)


def test_a_draw_is_made_once(w):
    day = past_session_day(w)
    everyone(w.program)
    first = selection.draw_day(w.program, day, seed=SEED)
    events = AuditEvent.objects.count()
    orders = Order.objects.count()
    again = selection.draw_day(w.program, day, seed=OTHER_SEED)
    assert again.pk == first.pk and again.seed == SEED.hex()
    assert AuditEvent.objects.count() == events and Order.objects.count() == orders
    assert SelectionDay.objects.filter(program=w.program, day=day).count() == 1


def test_a_draw_without_a_seed_takes_a_fresh_one_each_day(w):
    days = session_days(w.program, before=w.program.today())[-2:]
    rows = [selection.draw_day(w.program, d) for d in days]
    assert len({r.seed for r in rows}) == 2
    assert all(len(bytes.fromhex(r.seed)) == 32 for r in rows)
    assert all(hashlib.sha256(bytes.fromhex(r.seed)).hexdigest() == r.seed_hash for r in rows)


def test_the_draw_uses_the_policys_chance_and_the_real_rule(w):
    day = past_session_day(w)
    more_active(w, 8)
    set_policy(w.program, random_rate=Decimal("1.00"), draw_days_per_week=3)
    row = selection.draw_day(w.program, day, seed=SEED)
    assert row.probability == Decimal("0.333333")
    assert row.selected == derive(SEED, day, row.eligible, Decimal("0.333333"))
    assert sorted(Order.objects.filter(selection=row).values_list("episode_id", flat=True)) == (
        row.selected
    )


def test_a_day_without_sessions_has_an_empty_pool_and_no_orders(w):
    everyone(w.program)
    row = selection.draw_day(w.program, no_session_day(w), seed=SEED)
    assert row.eligible == [] and row.selected == []
    assert not Order.objects.filter(selection=row).exists()
    assert draw_event(w.program, row.day).changes["eligible_count"] == [None, 0]


def test_a_selected_participant_with_the_same_test_already_ordered_keeps_that_one(w):
    day = past_session_day(w)
    everyone(w.program)
    panel = services.policy_for(w.program).random_panel
    existing = services.order_test(
        w.active.current_episode,
        actor=w.counsellor,
        day=day,
        reason=OrderReason.FOR_CAUSE,
        panel=panel,
        reason_detail="Smelled of alcohol.",
    )
    row = selection.draw_day(w.program, day, seed=SEED)
    assert w.active.current_episode_id in row.selected
    assert list(Order.objects.filter(episode=w.active.current_episode, day=day)) == [existing]


def test_a_selection_day_is_written_once(w):
    row = selection.draw_day(w.program, past_session_day(w), seed=SEED)
    row.seed = OTHER_SEED.hex()
    with pytest.raises(TypeError):
        row.save()
    with pytest.raises(TypeError):
        row.save(update_fields=["seed"])
    with pytest.raises(TypeError):
        row.delete()
    with pytest.raises(ValueError, match="seed"):
        selection.draw_day(w.program, no_session_day(w), seed=b"x" * 33)


# --- scheduled and admission orders ---------------------------------------------------------


def test_a_weekly_scheduled_test_is_ordered_for_everyone_expected_once(w):
    day = past_session_day(w)
    extra = more_active(w, 2)
    set_policy(w.program, scheduled_weekday=day.weekday(), test_at_admission=False)
    made = selection.order_scheduled(w.program, day)
    assert sorted(o.episode_id for o in made) == sorted(
        [w.active.current_episode_id] + [e.pk for e in extra]
    )
    assert {o.reason for o in made} == {OrderReason.SCHEDULED}
    # A re-run orders nothing new, even after a test was collected.
    services.record_no_show(made[0], actor=w.lab)
    assert selection.order_scheduled(w.program, day) == []
    # Not on another weekday.
    other = next(d for d in session_days(w.program) if d.weekday() != day.weekday())
    assert selection.order_scheduled(w.program, other) == []


def test_a_scheduled_test_is_not_added_beside_an_open_order_that_day(w):
    day = past_session_day(w)
    everyone(w.program)
    set_policy(w.program, scheduled_weekday=day.weekday(), test_at_admission=False)
    row = selection.draw_day(w.program, day, seed=SEED)
    assert row.selected
    assert selection.order_scheduled(w.program, day) == []
    assert not Order.objects.filter(reason=OrderReason.SCHEDULED).exists()


def test_a_test_every_n_days_counts_from_admission(w):
    active = w.active.current_episode
    days = session_days(w.program)
    first = days[0]
    every = (first - active.admission_date).days
    set_policy(w.program, scheduled_every_days=every, test_at_admission=False)
    made = selection.order_scheduled(w.program, first)
    assert [o.episode_id for o in made] == [active.pk]
    # The next program day is in the same period: nothing.
    assert selection.order_scheduled(w.program, days[1]) == []
    # The next period begins N days later; the first program day from then on orders one.
    next_period = first + dt.timedelta(days=every)
    due = next((d for d in days if d >= next_period), None)
    if due is not None:
        assert [o.episode_id for o in selection.order_scheduled(w.program, due)] == [active.pk]


def test_an_admission_test_is_ordered_on_the_admission_day(w):
    active = w.active.current_episode
    set_policy(w.program, test_at_admission=True)
    made = selection.order_scheduled(w.program, active.admission_date)
    assert [(o.episode_id, o.reason) for o in made] == [(active.pk, OrderReason.ADMISSION)]
    assert selection.order_scheduled(w.program, active.admission_date) == []
    set_policy(w.program, test_at_admission=False)
    other = make_participant(w.program, w.intake, last="Later", status=S.ACTIVE, days_ago=20)
    assert selection.order_scheduled(w.program, other.current_episode.admission_date) == []


# --- reveal and verify (acceptance 2) ---------------------------------------------------------


def drawn_past_day(w, seed: bytes = SEED) -> SelectionDay:
    day = past_session_day(w)
    more_active(w, 5)
    set_policy(w.program, random_rate=Decimal("2.00"), draw_days_per_week=4)
    return selection.draw_day(w.program, day, seed=seed)


def test_reveal_marks_past_days_only_and_is_audited(w):
    past = drawn_past_day(w)
    today = selection.draw_day(w.program, w.program.today(), seed=OTHER_SEED)
    assert selection.reveal_past(w.program, w.program.today()) == 1
    past.refresh_from_db()
    today.refresh_from_db()
    assert past.revealed_at is not None and today.revealed_at is None
    assert AuditEvent.objects.filter(
        action="change",
        object_type="screening.selectionday",
        object_id=f"{w.program.pk}:{past.day}",
    ).exists()
    assert selection.reveal_past(w.program, w.program.today()) == 0


def test_a_past_day_verifies(w):
    row = drawn_past_day(w)
    result = selection.verify(row)
    assert result.ok, result.message
    assert result.derived == row.selected


def test_verifying_is_refused_before_the_day_is_over(w):
    row = selection.draw_day(w.program, w.program.today(), seed=SEED)
    with pytest.raises(ScreeningError, match="not over"):
        selection.verify(row)


def test_a_tampered_seed_fails(w):
    row = drawn_past_day(w)
    SelectionDay.objects.filter(pk=row.pk).update(seed=OTHER_SEED.hex())
    row.refresh_from_db()
    result = selection.verify(row)
    assert not result.ok and "seed" in result.message.lower()


def test_a_tampered_seed_with_a_matching_hash_still_fails_against_the_audit_log(w):
    row = drawn_past_day(w)
    SelectionDay.objects.filter(pk=row.pk).update(
        seed=OTHER_SEED.hex(),
        seed_hash=hashlib.sha256(OTHER_SEED).hexdigest(),
        selected=derive(OTHER_SEED, row.day, row.eligible, row.probability),
    )
    row.refresh_from_db()
    result = selection.verify(row)
    assert not result.ok and "audit log" in result.message


def test_a_tampered_eligible_list_fails(w):
    row = drawn_past_day(w)
    dropped = row.eligible[1:]
    SelectionDay.objects.filter(pk=row.pk).update(
        eligible=dropped, selected=derive(SEED, row.day, dropped, row.probability)
    )
    row.refresh_from_db()
    result = selection.verify(row)
    assert not result.ok and "eligible list" in result.message


def test_a_tampered_selected_list_fails(w):
    row = drawn_past_day(w)
    changed = sorted(set(row.eligible) - set(row.selected))[:1] or []
    SelectionDay.objects.filter(pk=row.pk).update(selected=changed)
    row.refresh_from_db()
    result = selection.verify(row)
    assert not result.ok and "selected list" in result.message


def test_a_tampered_probability_fails(w):
    row = drawn_past_day(w)
    SelectionDay.objects.filter(pk=row.pk).update(probability=Decimal("0.9"))
    row.refresh_from_db()
    result = selection.verify(row)
    assert not result.ok and "probability" in result.message


def test_a_random_order_for_someone_not_selected_fails(w):
    row = drawn_past_day(w)
    left_out = sorted(set(row.eligible) - set(row.selected))
    assert left_out, "the fixed seed leaves someone out"
    services.order_test(
        Episode.objects.get(pk=left_out[0]),
        actor=w.lab,
        day=row.day,
        reason=OrderReason.RANDOM,
        selection=row,
    )
    result = selection.verify(row)
    assert not result.ok and "did not select" in result.message


def test_the_command_verifies_a_past_day(w, capsys):
    row = drawn_past_day(w)
    call_command("screening", "verify", row.day.isoformat())
    out = capsys.readouterr().out
    assert f"Harbor IOP (id {w.program.pk}) {row.day}: OK" in out
    row.refresh_from_db()
    assert row.revealed_at is not None
    assert AuditEvent.objects.filter(
        object_type="screening.selectionday", changes__verified=True
    ).exists()
    call_command("screening", "verify", row.day.isoformat(), "--program", str(w.program.pk))


@pytest.mark.parametrize("what", ["seed", "eligible"])
def test_the_command_fails_on_a_tampered_day(w, capsys, what):
    row = drawn_past_day(w)
    if what == "seed":
        SelectionDay.objects.filter(pk=row.pk).update(seed=OTHER_SEED.hex())
    else:
        SelectionDay.objects.filter(pk=row.pk).update(eligible=row.eligible[:-1])
    with pytest.raises(CommandError, match="failed"):
        call_command("screening", "verify", row.day.isoformat())
    out = capsys.readouterr().out
    assert "FAILED" in out
    assert ("Tampered seed" if what == "seed" else "Tampered eligible list") in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["yesterday"], "YYYY-MM-DD"),
        (["2026-02-30"], "YYYY-MM-DD"),
        (["1999-01-01"], "No random draw"),
        (["{past}", "--program", "abc"], "number"),
        (["{past}", "--program", "999999"], "No program"),
        (["{today}"], "failed"),
    ],
)
def test_the_command_refuses_bad_input(w, args, message):
    row = drawn_past_day(w)
    selection.draw_day(w.program, w.program.today(), seed=OTHER_SEED)
    args = [a.format(past=row.day.isoformat(), today=w.program.today().isoformat()) for a in args]
    with pytest.raises(CommandError, match=message):
        call_command("screening", "verify", *args)


# --- the daily job ------------------------------------------------------------------------------


def test_the_daily_job_reveals_draws_and_orders_for_every_program_in_use(w):
    job = REGISTRY["screening.daily_draw"]
    assert job.schedule == Daily(hour=5)
    past = drawn_past_day(w)
    retired = Program.objects.create(site=w.program.site, name="Retired IOP", retired=True)
    set_policy(w.program, test_at_admission=True)
    outcome = run_period(job, "2099-01-01")
    assert outcome.status == "ran"
    past.refresh_from_db()
    assert past.revealed_at is not None
    for program in (w.program, w.other_program):
        assert SelectionDay.objects.filter(program=program, day=program.today()).exists()
    assert not SelectionDay.objects.filter(program=retired).exists()
    # Once a period.
    assert run_period(job, "2099-01-01").status == "skipped-done"
    # A second pass the same day draws nothing new.
    count = SelectionDay.objects.count()
    assert selection.run_daily().drawn == 0
    assert SelectionDay.objects.count() == count


# --- the selection log and the Verify action -------------------------------------------------


def test_the_log_is_for_those_who_may_verify(w, login):
    url = reverse("screening:selection_log")
    assert login(w.counsellor).get(url).status_code == 403
    assert login(w.lab).get(url).status_code == 200
    assert login(w.compliance).get(url).status_code == 200


def test_the_log_never_shows_who_and_hides_todays_seed(w, login):
    past = drawn_past_day(w)
    today = selection.draw_day(w.program, w.program.today(), seed=OTHER_SEED)
    selection.reveal_past(w.program, w.program.today())
    response = login(w.lab).get(reverse("screening:selection_log"))
    html = response.content.decode()
    assert today.seed_hash in html and OTHER_SEED.hex() not in html
    assert past.seed_hash in html and SEED.hex() in html
    rows = {r.day: r for r in response.context["rows"]}
    assert rows[today.day].selected is None and rows[today.day].seed == ""
    assert rows[today.day].pool == len(today.eligible)
    assert rows[past.day].selected == len(past.selected)
    for episode in Episode.objects.filter(pk__in=past.eligible).select_related("participant"):
        assert episode.participant.legal_last_name not in html


def test_the_log_runs_a_fixed_number_of_queries(w, login, django_assert_num_queries):
    drawn_past_day(w)
    client = login(w.lab)
    url = reverse("screening:selection_log")
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for d in session_days(w.program, before=w.program.today())[:-1]:
        selection.draw_day(w.program, d, seed=SEED)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) > 3


def test_verify_action_reports_ok_and_is_audited(w, login):
    row = drawn_past_day(w)
    client = login(w.lab)
    url = reverse("screening:selection_verify")
    assert client.get(url).status_code == 200
    response = client.post(url, {"program": w.program.pk, "day": row.day.isoformat()})
    assert response.status_code == 302
    assert response["Location"].endswith(f"?program={w.program.pk}")
    page = client.get(response["Location"])
    assert "OK. Verified" in page.content.decode()
    assert AuditEvent.objects.filter(
        actor=w.lab, object_type="screening.selectionday", changes__verified=True
    ).exists()


def test_verify_action_reports_a_tampered_day(w, login):
    row = drawn_past_day(w)
    SelectionDay.objects.filter(pk=row.pk).update(seed=OTHER_SEED.hex())
    client = login(w.director)
    response = client.post(
        reverse("screening:selection_verify"),
        {"program": w.program.pk, "day": row.day.isoformat()},
        follow=True,
    )
    assert "FAILED. Tampered seed" in response.content.decode()
    assert AuditEvent.objects.filter(actor=w.director, changes__verified=False).exists()


def test_verify_action_refuses_today_another_program_and_bad_days(w, login):
    selection.draw_day(w.program, w.program.today(), seed=SEED)
    foreign = selection.draw_day(w.other_program, no_session_day(w), seed=SEED)
    client = login(w.lab)
    url = reverse("screening:selection_verify")
    today = client.post(url, {"program": w.program.pk, "day": w.program.today().isoformat()})
    assert today.status_code == 409
    assert "not over" in today.content.decode()
    other = client.post(url, {"program": w.other_program.pk, "day": foreign.day.isoformat()})
    assert other.status_code == 400 and other.context["form"].errors["program"]
    for bad in ["not-a-date", "2026-02-30", "1999-01-01", ""]:
        response = client.post(url, {"program": w.program.pk, "day": bad})
        assert response.status_code == 400 and response.context["form"].errors["day"]
