"""The billable-day rule, modifiers and place of service, and authorisation counting
across renewals (issue 11, acceptance 1), as pure functions and through the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openiop.attendance.choices import AttendanceStatus
from openiop.billing import days
from openiop.billing.choices import CoverageKind, Priority, Risk
from openiop.billing.days import AuthSlot, NoteState, SessionPart, allocate
from openiop.billing.models import Authorisation, Coverage
from openiop.notes.choices import NoteStatus

D = dt.date(2026, 1, 1)


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n - 1)


def part(minutes: int, note: str = NoteState.SIGNED, telehealth: bool = False) -> SessionPart:
    return SessionPart(
        session_id=1,
        title="Process group",
        starts_at=dt.datetime(2026, 1, 5, 9, 0),
        minutes=minutes,
        telehealth=telehealth,
        note=note,
    )


# --- notes ---------------------------------------------------------------------------


def test_the_best_note_of_a_session_counts():
    signed = (NoteStatus.SIGNED, False, False)
    draft = (NoteStatus.DRAFT, False, False)
    waiting = (NoteStatus.SIGNED, True, False)
    cosigned = (NoteStatus.SIGNED, True, True)
    assert days.note_state([]) == NoteState.MISSING
    assert days.note_state([draft]) == NoteState.UNSIGNED
    assert days.note_state([waiting]) == NoteState.COSIGN
    assert days.note_state([cosigned]) == NoteState.SIGNED
    assert days.note_state([draft, signed]) == NoteState.SIGNED
    assert days.note_state([draft, waiting]) == NoteState.COSIGN


# --- the billable-day rule ----------------------------------------------------------------


def test_a_day_at_the_minimum_with_every_note_signed_is_billable():
    billable, risks, why = days.day_verdict(180, 180, [part(120), part(60)])
    assert billable and risks == []
    assert why == "Billable: 180 minutes attended (minimum 180) and every note signed."


def test_a_minute_short_is_not_billable_and_says_so():
    billable, risks, why = days.day_verdict(179, 180, [part(179)])
    assert not billable and risks == []
    assert why == "Not billable: 179 minutes attended, the minimum is 180."


@pytest.mark.parametrize(
    ("state", "risk", "label"),
    [
        (NoteState.UNSIGNED, Risk.NOTE_UNSIGNED, "note not signed"),
        (NoteState.MISSING, Risk.NOTE_MISSING, "no note"),
        (NoteState.COSIGN, Risk.NOTE_COSIGN, "note awaits co-signature"),
    ],
)
def test_one_session_without_a_signed_note_stops_the_day(state, risk, label):
    billable, risks, why = days.day_verdict(200, 180, [part(150), part(50, note=state)])
    assert not billable
    assert risks == [(risk, f"Process group at 09:00: {label}")]
    assert why == f"Not billable yet: Process group at 09:00: {label}."


@given(
    minutes=st.lists(st.integers(0, 300), min_size=1, max_size=5),
    states=st.lists(st.sampled_from([NoteState.SIGNED, NoteState.UNSIGNED]), min_size=5),
    minimum=st.integers(15, 720),
)
def test_billable_exactly_when_minutes_reach_the_minimum_and_all_notes_are_signed(
    minutes, states, minimum
):
    parts = [part(m, s) for m, s in zip(minutes, states, strict=False)]
    total = sum(minutes)
    billable, risks, _ = days.day_verdict(total, minimum, parts)
    assert billable == (
        total >= minimum and all(s == NoteState.SIGNED for s in states[: len(minutes)])
    )
    assert len(risks) == sum(1 for p in parts if p.note != NoteState.SIGNED)


# --- modifiers and place of service (DOMAIN.md §6.3) -------------------------------------


def test_an_in_person_day_has_no_modifier_and_the_programs_place():
    assert days.modifiers_and_place(
        False, in_person_place="57", at_home=True, telehealth_modifier="95"
    ) == ([], "57")


def test_a_telehealth_day_from_home_is_95_at_place_10():
    assert days.modifiers_and_place(
        True, in_person_place="57", at_home=True, telehealth_modifier="95"
    ) == (["95"], "10")


def test_a_telehealth_day_not_from_home_is_place_02_and_the_payers_modifier():
    assert days.modifiers_and_place(
        True, in_person_place="11", at_home=False, telehealth_modifier="GT"
    ) == (["GT"], "02")


def test_a_day_is_telehealth_only_when_every_session_was():
    assert days.day_is_telehealth([part(90, telehealth=True), part(90, telehealth=True)])
    assert not days.day_is_telehealth([part(90, telehealth=True), part(90)])
    assert not days.day_is_telehealth([])


# --- authorisations across renewals -------------------------------------------------------


def test_a_renewal_takes_over_when_the_first_authorisation_runs_out():
    """A: 3 days, Jan 1–10. B renews it: 5 days, Jan 8–20 (overlapping). Days attended:
    Jan 2, 3, 5 → A (full after Jan 5); Jan 8 → A is full, B covers it → B; Jan 9, 12
    → B; Jan 21 → nothing covers it. A used 3, B used 3."""
    slots = [AuthSlot(1, 7, day(1), day(10), 3), AuthSlot(2, 7, day(8), day(20), 5)]
    service = [(n, day(n), 7, 1) for n in (2, 3, 5, 8, 9, 12, 21)]
    out, used = allocate(service, slots)
    assert {n: out[n].authorisation_id for n in (2, 3, 5, 8, 9, 12)} == {
        2: 1,
        3: 1,
        5: 1,
        8: 2,
        9: 2,
        12: 2,
    }
    assert out[21].authorisation_id is None and out[21].risk == Risk.NO_AUTH
    assert used == {1: 3, 2: 3}


def test_days_beyond_every_covering_authorisation_are_exhausted_not_unauthorised():
    slots = [AuthSlot(1, 7, day(1), day(10), 2)]
    out, used = allocate([(n, day(n), 7, 1) for n in (1, 2, 3)], slots)
    assert [out[n].risk for n in (1, 2, 3)] == [None, None, Risk.AUTH_EXHAUSTED]
    assert used == {1: 2}


def test_an_authorisation_of_another_coverage_does_not_count():
    out, used = allocate([(1, day(1), 8, 1)], [AuthSlot(1, 7, day(1), day(10), 5)])
    assert out[1].risk == Risk.NO_AUTH and used == {1: 0}


def test_half_day_units_use_two_a_day():
    """A payer counting half days (2 units a day): 5 units last two days, not three."""
    out, used = allocate(
        [(n, day(n), 7, 2) for n in (1, 2, 3)], [AuthSlot(1, 7, day(1), day(10), 5)]
    )
    assert [out[n].authorisation_id for n in (1, 2, 3)] == [1, 1, None]
    assert used == {1: 4}


slot_strategy = st.builds(
    lambda i, cov, start, length, units: AuthSlot(i, cov, day(start), day(start + length), units),
    st.integers(1, 10_000),
    st.integers(1, 2),
    st.integers(1, 40),
    st.integers(0, 30),
    st.integers(1, 12),
)


@settings(max_examples=200)
@given(
    slots=st.lists(slot_strategy, max_size=5, unique_by=lambda s: s.id),
    service=st.lists(
        st.tuples(st.integers(1, 60), st.integers(1, 2), st.integers(1, 2)),
        max_size=40,
        unique_by=lambda t: (t[0], t[1]),
    ),
)
def test_allocation_never_overspends_and_only_refuses_when_it_must(slots, service):
    days_in = [((n, cov), day(n), cov, units) for n, cov, units in service]
    out, used = allocate(days_in, slots)
    by_id = {s.id: s for s in slots}
    # No authorisation gives more units than it has.
    for slot in slots:
        assert used[slot.id] <= slot.units
    spent = {s.id: 0 for s in slots}
    for key, date, cov, units in days_in:
        alloc = out[key]
        covering = [s for s in slots if s.coverage_id == cov and s.start <= date <= s.end]
        if alloc.authorisation_id is not None:
            chosen = by_id[alloc.authorisation_id]
            assert chosen.coverage_id == cov and chosen.start <= date <= chosen.end
            spent[chosen.id] += units
            # Every authorisation starting earlier that covers the day could not take it:
            # even at the end it has fewer units left than the day needs.
            for s in covering:
                if (s.start, s.id) < (chosen.start, chosen.id):
                    assert used[s.id] + units > s.units
        elif alloc.risk == Risk.NO_AUTH:
            assert covering == []
        else:
            assert alloc.risk == Risk.AUTH_EXHAUSTED and covering
            assert all(used[s.id] + units > s.units for s in covering)
    assert spent == used


# --- coverage of a day ---------------------------------------------------------------------


def cov(pk, kind=CoverageKind.INSURANCE, priority=Priority.PRIMARY, start=1, end=None):
    return Coverage(
        pk=pk,
        kind=kind,
        priority=priority,
        start_date=day(start),
        end_date=day(end) if end else None,
        member_id=f"M{pk}",
    )


def test_the_primary_insurance_in_force_pays_then_self_pay():
    primary, secondary = cov(1), cov(2, priority=Priority.SECONDARY)
    self_pay = cov(3, kind=CoverageKind.SELF_PAY)
    assert days.primary_coverage([secondary, primary, self_pay], day(5))[0] is primary
    assert days.primary_coverage([self_pay, secondary], day(5))[0] is secondary
    assert days.primary_coverage([self_pay], day(5))[0] is self_pay


def test_a_day_after_the_coverage_ended_or_before_it_starts_is_named():
    ended = cov(1, end=10)
    coverage, risk, message = days.primary_coverage([ended], day(11))
    assert coverage is None and risk == Risk.COVERAGE_ENDED
    assert message.endswith("ended on 2026-01-10")
    coverage, risk, message = days.primary_coverage([cov(2, start=20)], day(11))
    assert coverage is None and risk == Risk.NO_COVERAGE
    assert message.endswith("starts on 2026-01-20")
    assert days.primary_coverage([], day(11))[1:] == (Risk.NO_COVERAGE, "No coverage on file")


# --- through the database ------------------------------------------------------------------


def _world_day(world):
    from openiop.testing import add_billing

    add_billing(world)
    session = world.session
    found = days.service_days(
        world.program, session.date, session.date, today=world.program.today()
    )
    return [d for d in found if d.participant_id == world.active.pk]


@pytest.mark.django_db
def test_the_worlds_attended_group_is_billable_and_claimable(world):
    (d,) = _world_day(world)
    assert d.minutes == 180 and d.billable and d.claimable
    assert d.authorisation == world.authorisation
    assert (d.service_code, d.modifiers, d.place_of_service, d.units, d.charge) == (
        "H0015",
        [],
        "57",
        1,
        Decimal("250.00"),
    )
    assert d.parts[0].note == NoteState.SIGNED and d.parts[0].note_id == world.signed_note.pk


@pytest.mark.django_db
def test_a_day_attended_by_telehealth_carries_95_and_place_10(world):
    from openiop.attendance.models import Attendance

    Attendance.objects.filter(session=world.session, participant=world.active).update(
        status=AttendanceStatus.TELEHEALTH
    )
    (d,) = _world_day(world)
    assert d.telehealth and d.modifiers == ["95"] and d.place_of_service == "10"
    world.payer.covers_telehealth = False
    world.payer.save()
    (d,) = _world_day(world)
    assert Risk.TELEHEALTH_NOT_COVERED in d.risk_codes and not d.claimable


@pytest.mark.django_db
def test_usage_counts_days_across_a_renewal_in_the_database(world):
    """The world's authorisation (20 units) shrunk to 1: the world's day uses it. A
    renewal overlapping it then has the next day; with the renewal voided it is exhausted."""
    from openiop.testing import add_billing

    add_billing(world)
    today = world.program.today()
    auth = world.authorisation
    Authorisation.objects.filter(pk=auth.pk).update(units=1)
    renewal = Authorisation.objects.create(
        coverage=world.coverage,
        participant=world.active,
        episode=auth.episode,
        service_code="H0015",
        units=10,
        start_date=world.session.date,
        end_date=today + dt.timedelta(days=60),
        reference_number="AUTH-1002",
        renews=auth,
    )
    auth.refresh_from_db()
    usage = days.authorisation_usage([auth, renewal], today=today)
    assert (usage[auth.pk].used, usage[auth.pk].remaining) == (1, 0)
    assert usage[auth.pk].alerts[0] == "No units left"
    assert (usage[renewal.pk].used, usage[renewal.pk].remaining) == (0, 10)
    assert _world_day(world)[0].authorisation == auth


@pytest.mark.django_db
def test_days_before_the_period_asked_for_still_use_the_authorisation(world):
    """A one-day authorisation used by an earlier group: the world's day, asked for on its
    own, finds the authorisation exhausted (not "no authorisation", not free)."""
    from openiop.attendance import services as attendance_services
    from openiop.scheduling.models import Session
    from openiop.testing import add_billing

    add_billing(world)
    earlier = (
        Session.objects.filter(track=world.session.track, date__lt=world.session.date)
        .order_by("-date")
        .first()
    )
    attendance_services.mark_all_present(earlier, actor=world.counsellor)
    Authorisation.objects.filter(pk=world.authorisation.pk).update(units=1, start_date=earlier.date)
    (d,) = _world_day(world)
    assert d.authorisation is None
    assert Risk.AUTH_EXHAUSTED in d.risk_codes and not d.claimable
    assert (
        days.authorisation_usage([world.authorisation], today=world.program.today())[
            world.authorisation.pk
        ].used
        == 1
    )
