"""The demo's billing (issue 11, point 7): a billing profile with a valid NPI, a sliding
fee, four payers, coverage (self-pay, secondary, ended, none), authorisation chains
renewed in concurrent review with two near their limit and one used up, claims in every
status, and days at risk for many reasons."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.db import transaction

from openiop.billing import days
from openiop.billing.choices import ClaimStatus, CoverageKind, Priority, Risk
from openiop.billing.models import (
    Authorisation,
    BillingProfile,
    Claim,
    ClaimBatch,
    ClaimLine,
    Coverage,
    Payer,
    SlidingFeeTier,
)
from openiop.billing.setup_forms import npi_is_valid
from openiop.demo import billing as billing_demo
from openiop.demo import builder
from openiop.programs.models import Program

DAY = dt.date(2026, 11, 24)  # a Tuesday


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        builder.build(today=DAY)
        yield
        transaction.set_rollback(True)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]


def program() -> Program:
    return Program.objects.get(name=builder.DEMO_PROGRAM)


def test_profile_and_sliding_fee():
    profile = BillingProfile.objects.get(program=program())
    assert profile.npi == "1234567893" and npi_is_valid(profile.npi)
    assert len(profile.tax_id) == 9 and len(profile.postal_code) == 9
    assert profile.billable_minimum_minutes == 180
    tiers = [
        (t.up_to_percent, t.fee_per_day)
        for t in SlidingFeeTier.objects.filter(program=program(), retired=False)
    ]
    assert tiers == [
        (100, Decimal("10.00")),
        (150, Decimal("25.00")),
        (200, Decimal("50.00")),
        (250, Decimal("100.00")),
        (None, Decimal("250.00")),
    ]


def test_four_payers_with_their_rules():
    payers = {p.name: p for p in Payer.objects.filter(program=program())}
    assert sorted(p.kind for p in payers.values()) == [
        "blue_cross",
        "commercial",
        "medicaid_mco",
        "medicare_adv",
    ]
    medicare = payers[billing_demo.MEDICARE]
    assert medicare.covers_telehealth is False
    blue = payers[billing_demo.BLUE]
    assert (blue.units_per_day, blue.telehealth_modifier) == (2, "GT")


def test_coverage_of_everyone_admitted_but_one():
    from openiop.participants.models import Participant

    admitted = Participant.objects.filter(
        program=program(), episodes__admission_date__isnull=False
    ).distinct()
    covered = set(Coverage.objects.values_list("participant_id", flat=True))
    missing = [p for p in admitted if p.pk not in covered]
    assert len(missing) == 1 and missing[0].current_episode.status == "active"
    self_pay = Coverage.objects.filter(kind=CoverageKind.SELF_PAY)
    assessed = self_pay.exclude(household_size=None).exclude(annual_income=None)
    assert assessed.count() >= 3
    # The three households of the demo fall in three different tiers: $10, $25 and full.
    tiers = list(SlidingFeeTier.objects.filter(program=program()))
    profile = BillingProfile.objects.get(program=program())
    from openiop.billing import sliding

    fees = {sliding.fee_per_day(profile, tiers, c) for c in assessed}
    assert {Decimal("10.00"), Decimal("25.00"), Decimal("250.00")} <= fees
    assert Coverage.objects.filter(priority=Priority.SECONDARY).count() == 3
    assert Coverage.objects.filter(end_date=DAY - dt.timedelta(days=7)).count() == 1


def test_authorisations_renewed_near_their_limit_and_used_up():
    assert Authorisation.objects.filter(renews__isnull=False).count() >= 10
    # A chain: each renewal starts the day after the one it renews ends.
    for renewal in Authorisation.objects.filter(renews__isnull=False).select_related("renews"):
        assert renewal.start_date == renewal.renews.end_date + dt.timedelta(days=1)
    live = list(days.live_authorisations(program(), DAY))
    usage = days.authorisation_usage(live, today=DAY)
    exhausted = [u for u in usage.values() if u.remaining == 0]
    assert len(exhausted) == 1 and exhausted[0].alerts[0] == "No units left"
    near = [u for u in usage.values() if 0 < u.remaining <= 3]
    assert len(near) >= 2
    assert all(any(a.startswith("Only") for a in u.alerts) for u in near)
    # Concurrent reviews fall due this week.
    due = [a for a in live if a.next_review_on and DAY <= a.next_review_on <= DAY + dt.timedelta(6)]
    assert len(due) >= 2


def test_claims_in_every_status_with_the_two_denials():
    statuses = Counter(Claim.objects.values_list("status", flat=True))
    assert set(statuses) == set(ClaimStatus.values)
    assert statuses[ClaimStatus.PAID] > statuses[ClaimStatus.DENIED] == 2
    assert sorted(Claim.objects.filter(status="denied").values_list("denial_code", flat=True)) == [
        "16",
        "197",
    ]
    start, end = billing_demo.claim_period(DAY)
    assert (start, end) == (dt.date(2026, 11, 3), dt.date(2026, 11, 15))
    sent = Claim.objects.exclude(status=ClaimStatus.DRAFT)
    assert all(start <= c.period_start and c.period_end <= end for c in sent)
    assert all(c.batch_id is not None for c in sent)
    assert ClaimBatch.objects.count() == 4  # one 837P file a payer
    for claim in Claim.objects.filter(status=ClaimStatus.PAID):
        assert Decimal("0") < claim.paid_amount < claim.total_charge
    # The BCBS plan bills two units a day.
    blue_lines = ClaimLine.objects.filter(claim__payer__name=billing_demo.BLUE)
    assert blue_lines.exists() and set(blue_lines.values_list("units", flat=True)) == {2}
    # Last week's days are left to build (but for the one draft to review).
    draft = Claim.objects.get(status=ClaimStatus.DRAFT)
    assert draft.period_start > end


def test_days_at_risk_for_many_reasons():
    service_days = days.service_days(program(), DAY - dt.timedelta(days=21), DAY, today=DAY)
    reasons = Counter(code for d in service_days for code in d.risk_codes)
    for reason in (
        Risk.NOTE_UNSIGNED,
        Risk.NO_COVERAGE,
        Risk.COVERAGE_ENDED,
        Risk.NO_AUTH,
        Risk.AUTH_EXHAUSTED,
        Risk.TELEHEALTH_NOT_COVERED,
        Risk.NO_CONSENT,
    ):
        assert reasons[reason] > 0, reason
    # Days ready to claim are left for the biller too.
    assert any(d.claimable for d in service_days)
    assert all(not d.claimable for d in service_days if d.claimed)


def test_the_user_guide_names_every_denial_code_and_risk():
    from pathlib import Path

    from openiop.billing.choices import DenialReason

    guide = (Path(__file__).resolve().parents[3] / "docs/user-guide/billing.md").read_text()
    text = " ".join(guide.split())
    for code in DenialReason.values:
        if code != DenialReason.OTHER:
            assert f" {code} " in text, code
    for words in (
        "No note",
        "Note not signed",
        "Note awaits co-signature",
        "No coverage",
        "Coverage ended",
        "No authorisation",
        "Authorisation exhausted",
        "Telehealth not paid",
        "No diagnosis",
        "No consent",
        "Filing limit",
    ):
        assert f"**{words}**" in text, words
    assert len(Risk.values) == 11  # one row of the guide's table each
    for code in ("H0015", "**95**", "**GT**", "**10**", "**02**"):
        assert code in text, code
