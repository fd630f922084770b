"""Every denial-risk reason (issue 11, acceptance 1), each set up for real in the database
and seen through `days.service_days` and `risks.days_at_risk`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from openiop.billing import risks
from openiop.billing.choices import CoverageKind, Risk
from openiop.billing.models import Claim, ClaimLine, Coverage, Payer
from openiop.intake.models import Diagnosis
from openiop.notes import services as notes
from openiop.privacy.models import Consent
from openiop.testing import (
    add_billing,
    add_outcome_attendance,
    add_outcome_session,
    make_participant,
)


@pytest.fixture
def billed(world):
    add_billing(world)
    return world


def free_day(world, days_ago: int) -> dt.date:
    """A past day other than world.session's (which already has its attendance)."""
    day = world.program.today() - dt.timedelta(days=days_ago)
    return day - dt.timedelta(days=1) if day == world.session.date else day


def attend(
    world, day: dt.date, *, participant=None, status: str = "present", note: str | None = "signed"
) -> Any:
    """A 3-hour group on `day` the participant attended, with a note: "signed" (by the
    counsellor), "draft", "cosign" (signed by a supervisee who needs a co-signature)
    or None."""
    participant = participant or world.active
    episode = participant.current_episode
    session = add_outcome_session(world.program, day)
    add_outcome_attendance(session, episode, status)
    if note is None:
        return session
    author = world.supervisee if note == "cosign" else world.counsellor
    draft, _ = notes.start_note(
        episode, actor=author, fmt="dap", service_date=day, minutes=180, session=session
    )
    draft = notes.save_draft(
        draft,
        actor=author,
        sections={"data": "Attended.", "assessment": "Engaged.", "plan": "Continue."},
        expected_version=draft.version,
    )
    if note in ("signed", "cosign"):
        notes.sign_note(draft, actor=author, expected_version=draft.version)
    return session


def report_of(world, day: dt.date) -> risks.RiskReport:
    return risks.days_at_risk(world.program, day, day, today=world.program.today())


def codes_of(world, day: dt.date, participant=None) -> list[str]:
    participant = participant or world.active
    report = report_of(world, day)
    return [r.code for r in report.rows if r.day.participant_id == participant.pk]


def test_a_clean_billable_day_is_not_at_risk(billed):
    day = free_day(billed, 10)
    attend(billed, day)
    report = report_of(billed, day)
    assert report.days == [] and report.counts == {}


def test_note_missing(billed):
    day = free_day(billed, 10)
    attend(billed, day, note=None)
    report = report_of(billed, day)
    assert [r.code for r in report.rows] == [Risk.NOTE_MISSING]
    assert report.counts == {Risk.NOTE_MISSING: 1}
    row = report.rows[0]
    assert row.fix.startswith("Write the note for Process group")
    assert row.link == reverse("notes:new", args=[billed.active.pk])
    assert not row.day.billable
    assert "no note" in row.day.why


def test_note_unsigned_names_its_author_and_links_the_note(billed):
    day = free_day(billed, 10)
    session = attend(billed, day, note="draft")
    report = report_of(billed, day)
    assert [r.code for r in report.rows] == [Risk.NOTE_UNSIGNED]
    row = report.rows[0]
    note = row.day.parts[0]
    assert note.session_id == session.pk and note.note_id is not None
    assert row.fix == f"Ask {billed.counsellor.display_name} to sign the note of Process group"
    assert row.link == reverse("notes:detail", args=[billed.active.pk, note.note_id])


def test_note_awaiting_cosignature(billed):
    day = free_day(billed, 10)
    attend(billed, day, note="cosign")
    report = report_of(billed, day)
    assert [r.code for r in report.rows] == [Risk.NOTE_COSIGN]
    assert report.rows[0].fix == "Ask a supervisor to co-sign the note of Process group"
    assert "awaits co-signature" in report.rows[0].message


def test_no_coverage(billed):
    newcomer = make_participant(billed.program, billed.intake, last="Uninsured", status="active")
    day = free_day(billed, 10)
    attend(billed, day, participant=newcomer)
    codes = codes_of(billed, day, newcomer)
    # No coverage; no diagnosis on the new episode either. Nothing about a payer.
    assert codes == [Risk.NO_COVERAGE, Risk.NO_DIAGNOSIS]
    row = report_of(billed, day).rows[0]
    assert row.message == "No coverage on file"


def test_coverage_ended(billed):
    day = free_day(billed, 10)
    attend(billed, day)
    ended = day - dt.timedelta(days=1)
    Coverage.objects.filter(pk=billed.coverage.pk).update(end_date=ended)
    assert codes_of(billed, day) == [Risk.COVERAGE_ENDED]
    row = report_of(billed, day).rows[0]
    assert row.message.endswith(f"ended on {ended:%Y-%m-%d}")
    assert row.fix.startswith("Verify benefits")


def test_no_authorisation_covers_the_day(billed):
    # The authorisation starts 30 days ago; the coverage 60 days ago.
    day = free_day(billed, 40)
    attend(billed, day)
    assert codes_of(billed, day) == [Risk.NO_AUTH]
    assert report_of(billed, day).rows[0].fix.startswith("Ask Harbor Health Plan for an")


def test_authorisation_exhausted(billed):
    auth = billed.authorisation
    auth.units = 1
    auth.save(update_fields=["units"])
    first, second = free_day(billed, 25), free_day(billed, 24)
    if first == second:
        second = first + dt.timedelta(days=1)
    attend(billed, first)
    attend(billed, second)
    # The earlier day takes the one unit; the later one finds it used up. world.session's
    # day (later still) is exhausted too.
    assert codes_of(billed, first) == []
    assert codes_of(billed, second) == [Risk.AUTH_EXHAUSTED]
    assert report_of(billed, second).rows[0].fix.startswith("Request more days from")


def test_telehealth_not_covered(billed):
    Payer.objects.filter(pk=billed.payer.pk).update(covers_telehealth=False)
    day = free_day(billed, 10)
    attend(billed, day, status="telehealth")
    report = report_of(billed, day)
    assert [r.code for r in report.rows] == [Risk.TELEHEALTH_NOT_COVERED]
    d = report.days[0]
    assert d.telehealth and d.modifiers == ["95"] and d.place_of_service == "10"


def test_no_diagnosis(billed):
    Diagnosis.objects.filter(episode=billed.active.current_episode).update(voided=True)
    day = free_day(billed, 10)
    attend(billed, day)
    assert codes_of(billed, day) == [Risk.NO_DIAGNOSIS]
    assert report_of(billed, day).rows[0].link == reverse(
        "participants:chart", args=[billed.active.pk]
    )


def test_no_consent(billed):
    Consent.objects.filter(participant=billed.active).update(voided=True)
    day = free_day(billed, 10)
    attend(billed, day)
    assert codes_of(billed, day) == [Risk.NO_CONSENT]
    assert report_of(billed, day).rows[0].link == reverse("consents:list", args=[billed.active.pk])


def test_filing_limit(billed):
    # 30 days to file: a day 20 (or 21) days ago is due in 10 (or 9) days, within the
    # 14-day warning.
    Payer.objects.filter(pk=billed.payer.pk).update(timely_filing_days=30)
    day = free_day(billed, 20)
    attend(billed, day)
    report = report_of(billed, day)
    assert [r.code for r in report.rows] == [Risk.FILING_LIMIT]
    deadline = day + dt.timedelta(days=30)
    assert report.rows[0].message == (
        f"Harbor Health Plan's filing deadline falls on {deadline:%Y-%m-%d}"
    )
    # Still claimable: the filing limit hurries the claim, it does not block it.
    assert report.days[0].claimable


def test_a_claimed_day_is_not_at_risk(billed):
    day = free_day(billed, 10)
    attend(billed, day, note=None)
    episode = billed.active.current_episode
    claim = Claim.objects.create(
        number="CLM-TEST-1",
        program=billed.program,
        payer=billed.payer,
        coverage=billed.coverage,
        participant=billed.active,
        episode=episode,
        period_start=day,
        period_end=day,
        total_charge=250,
        created_by=billed.billing,
    )
    ClaimLine.objects.create(
        claim=claim,
        participant=billed.active,
        service_date=day,
        service_code="H0015",
        place_of_service="57",
        units=1,
        charge=250,
        minutes=180,
    )
    assert report_of(billed, day).days == []


def test_counts_are_days_per_reason(billed):
    Diagnosis.objects.filter(episode=billed.active.current_episode).update(voided=True)
    a, b = free_day(billed, 10), free_day(billed, 12)
    attend(billed, a, note=None)
    attend(billed, b)
    report = risks.days_at_risk(billed.program, min(a, b), max(a, b), today=billed.program.today())
    assert report.counts == {Risk.NO_DIAGNOSIS: 2, Risk.NOTE_MISSING: 1}
    assert [code for code, _, _ in report.by_reason] == [Risk.NOTE_MISSING, Risk.NO_DIAGNOSIS]


def test_self_pay_days_have_no_payer_risks(billed):
    Coverage.objects.filter(pk=billed.coverage.pk).update(
        kind=CoverageKind.SELF_PAY, payer=None, household_size=1, annual_income=20000
    )
    day = free_day(billed, 10)
    attend(billed, day)
    assert codes_of(billed, day) == []
