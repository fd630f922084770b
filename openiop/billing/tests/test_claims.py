"""Claim services (issue 11, point 4): building from billable days, the state rules,
sending through the consent gate, and the 837P a batch keeps."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import uuid
from decimal import Decimal

import pytest
import pyx12.params
import pyx12.x12n_document

from openiop.attendance.models import Attendance
from openiop.billing import claims
from openiop.billing.choices import ClaimStatus, DenialReason, Risk
from openiop.billing.models import Claim, ClaimBatch, ClaimLine, Payer
from openiop.core.choices import AuditAction
from openiop.core.models import AuditEvent
from openiop.core.records import StaleEdit
from openiop.intake.models import Diagnosis
from openiop.privacy.choices import Channel, InfoCategory, Purpose
from openiop.privacy.models import Consent, Disclosure
from openiop.testing import add_billing, add_claim, add_claim_batch


def build(world, **more):
    day = world.session.date
    return claims.build_claims(
        world.program,
        more.pop("payer", world.payer),
        more.pop("start", day),
        more.pop("end", day),
        actor=world.billing,
        today=world.program.today(),
    )


@pytest.fixture
def billed(world):
    add_billing(world)
    return world


def test_a_billable_day_makes_one_draft_claim_with_its_line(billed):
    w = billed
    result = build(w)
    assert len(result.claims) == 1 and result.left_out == []
    claim = Claim.objects.get(pk=result.claims[0].pk)
    assert claim.number.startswith("CLM-") and len(claim.number) == 10
    assert claim.status == ClaimStatus.DRAFT
    assert claim.participant_id == w.active.pk and claim.coverage_id == w.coverage.pk
    assert (claim.period_start, claim.period_end) == (w.session.date, w.session.date)
    assert claim.total_charge == Decimal("250.00")
    assert claim.diagnosis_codes == ["F10.20"]
    line = ClaimLine.objects.get(claim=claim)
    assert (line.service_code, line.modifiers, line.place_of_service) == ("H0015", [], "57")
    assert (line.units, line.charge, line.telehealth) == (1, Decimal("250.00"), False)
    assert line.minutes == 180 and line.authorisation_id == w.authorisation.pk
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, object_type="billing.claim", object_id=str(claim.pk)
    ).exists()
    assert result.days_claimed == 1 and result.total_charge == Decimal("250.00")


def test_a_day_is_never_claimed_twice_until_its_claim_is_voided(billed):
    w = billed
    first = build(w).claims[0]
    again = build(w)
    assert again.claims == [] and again.already_claimed == 1
    with pytest.raises(claims.ClaimError, match="only a claim that is"):
        claims.mark_paid(
            first,
            actor=w.billing,
            amount=Decimal("1"),
            paid_on=w.program.today(),
            payer_claim_number="",
            expected_version=first.version,
        )
    claims.void_claim(first, actor=w.billing, reason="Built in error", expected_version=1)
    voided = Claim.objects.get(pk=first.pk)
    assert voided.voided and voided.void_reason == "Built in error" and voided.version == 2
    rebuilt = build(w)
    assert len(rebuilt.claims) == 1 and rebuilt.claims[0].number != first.number
    assert ClaimLine.objects.filter(claim__voided=False).count() == 1


def test_a_telehealth_day_carries_modifier_95_and_place_10(billed):
    w = billed
    Attendance.objects.filter(session=w.session, participant=w.active).update(status="telehealth")
    line = ClaimLine.objects.get(claim=build(w).claims[0])
    assert line.modifiers == ["95"] and line.place_of_service == "10" and line.telehealth
    # A payer still asking for GT gets GT (DOMAIN.md §6.3).
    Claim.objects.update(voided=True)
    Payer.objects.filter(pk=w.payer.pk).update(telehealth_modifier="GT")
    w.payer.refresh_from_db()
    line = ClaimLine.objects.get(claim=build(w).claims[0])
    assert line.modifiers == ["GT"]


def test_days_left_out_say_why(billed):
    w = billed
    Diagnosis.objects.filter(episode=w.active.current_episode).update(voided=True)
    result = build(w)
    assert result.claims == []
    assert len(result.left_out) == 1
    assert [code for code, _ in result.left_out[0].reasons] == [Risk.NO_DIAGNOSIS]
    assert result.reason_counts() == [("No diagnosis on the episode", 1)]
    assert result.summary() == "1 day left out: 1 no diagnosis on the episode."
    # The preview says the same without writing.
    preview = claims.preview(
        w.program, w.payer, w.session.date, w.session.date, today=w.program.today()
    )
    assert preview.claimable_days == 0 and len(preview.result.left_out) == 1
    assert not Claim.objects.exists()


def test_diagnoses_primary_first_at_most_twelve(billed):
    w = billed
    episode = w.active.current_episode
    for n in range(14):
        Diagnosis.objects.create(
            episode=episode,
            participant=w.active,
            code=f"F1{n % 10}.{n:02d}",
            description="x",
            primary=False,
            noted_on=w.program.today() - dt.timedelta(days=40),
        )
    codes = build(w).claims[0].diagnosis_codes
    assert codes[0] == "F10.20" and len(codes) == 12


def test_the_period_is_checked(billed):
    w = billed
    day = w.session.date
    with pytest.raises(claims.ClaimError, match="ends before"):
        build(w, start=day, end=day - dt.timedelta(days=1))
    with pytest.raises(claims.ClaimError, match="by today"):
        build(w, end=w.program.today() + dt.timedelta(days=1))
    foreign = Payer.objects.create(
        program=w.other_program, name="Elsewhere", payer_id="EL01", kind="medicaid"
    )
    with pytest.raises(claims.ClaimError, match="another program"):
        build(w, payer=foreign)


def validate(text: str) -> tuple[bool, str]:
    ack = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    return ok, ack.getvalue()


def test_submitting_discloses_writes_the_837p_and_marks_the_claim(world):
    add_claim_batch(world)
    batch = ClaimBatch.objects.get(pk=world.claim_batch.pk)
    claim = Claim.objects.get(pk=world.claim.pk)
    assert claim.status == ClaimStatus.SUBMITTED and claim.batch_id == batch.pk
    assert claim.submitted_by_name == world.billing.display_name and claim.version == 2
    assert batch.claim_count == 1 and batch.total_charge == Decimal("250.00")
    assert batch.test_file and "*0*T*:~" in batch.content
    assert batch.sha256 == hashlib.sha256(batch.content.encode()).hexdigest()
    assert f"*{batch.control_number:09d}*" in batch.content
    assert f"CLM*{claim.number}*250***57:B:1*Y*A*Y*Y~" in batch.content
    ok, ack = validate(batch.content)
    assert ok and "IK5*A~" in ack, ack
    disclosure = Disclosure.objects.get(reference=claim.number)
    assert disclosure.recipient_name == "Harbor Health Plan"
    assert disclosure.purpose == Purpose.PAYMENT and disclosure.channel == Channel.EXPORT
    assert sorted(disclosure.information) == sorted(
        [InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE, InfoCategory.DIAGNOSIS]
    )
    assert disclosure.description == f"Claim {claim.number} for {claim.period_start:%Y-%m-%d}"
    # Submitted: neither sent again nor voided.
    with pytest.raises(claims.ClaimError, match="is submitted"):
        claims.submit_claims([claim], actor=world.billing)
    with pytest.raises(claims.ClaimError, match="payer holds it"):
        claims.void_claim(claim, actor=world.billing, reason="x", expected_version=2)


def test_the_consent_gate_refuses_a_claim_and_it_stays_a_draft(world):
    add_claim(world)
    Consent.objects.filter(participant=world.active).update(voided=True)
    with pytest.raises(claims.SubmitRefused) as refused:
        claims.submit_claims([world.claim], actor=world.billing)
    assert list(refused.value.refused) == [world.claim.number]
    assert "no consent" in " ".join(refused.value.refused[world.claim.number]).lower()
    assert Claim.objects.get(pk=world.claim.pk).status == ClaimStatus.DRAFT
    assert (
        not ClaimBatch.objects.exists()
        and not Disclosure.objects.filter(reference=world.claim.number).exists()
    )
    # The refusal stays in the audit log although nothing went out.
    assert AuditEvent.objects.filter(
        action=AuditAction.DISCLOSURE_REFUSED, participant_id=world.active.pk
    ).exists()


def test_a_refused_claim_stays_behind_and_the_others_go(world):
    add_claim(world)
    w = world
    other = Claim.objects.create(
        number="CLM-900001",
        program=w.program,
        payer=w.payer,
        coverage=w.coverage,
        participant=w.referred,  # no consent on file
        episode=w.referred.current_episode,
        period_start=w.session.date,
        period_end=w.session.date,
        total_charge=Decimal("250.00"),
        diagnosis_codes=["F10.20"],
    )
    ClaimLine.objects.create(
        claim=other,
        participant=w.referred,
        service_date=w.session.date,
        service_code="H0015",
        place_of_service="57",
        units=1,
        charge=Decimal("250.00"),
        minutes=180,
    )
    batch = claims.submit_claims([w.claim, other], actor=w.billing)
    assert [c.number for c in batch.sent] == [w.claim.number]
    assert list(batch.refused) == ["CLM-900001"]
    assert Claim.objects.get(pk=other.pk).status == ClaimStatus.DRAFT
    assert Claim.objects.get(pk=w.claim.pk).status == ClaimStatus.SUBMITTED
    assert "CLM-900001" not in batch.content and batch.claim_count == 1


def test_claims_of_two_payers_do_not_share_a_file(world):
    add_claim(world)
    second = Payer.objects.create(
        program=world.program, name="Second Plan", payer_id="SP01", kind="medicaid"
    )
    other = Claim.objects.get(pk=world.claim.pk)
    other.pk = None
    other.uuid = uuid.uuid4()
    other.number = "CLM-900002"
    other.payer = second
    other.save()
    with pytest.raises(claims.ClaimError, match="one payer"):
        claims.submit_claims([world.claim, other], actor=world.billing)


def answer_day(world):
    return world.program.today()


def test_paid_and_denied_follow_the_rules(world):
    add_claim_batch(world)
    w = world
    claim = Claim.objects.get(pk=w.claim.pk)
    today = answer_day(w)
    with pytest.raises(StaleEdit):
        claims.mark_paid(
            claim,
            actor=w.billing,
            amount=Decimal("200"),
            paid_on=today,
            payer_claim_number="",
            expected_version=1,
        )
    with pytest.raises(claims.ClaimError, match="more than the claim"):
        claims.mark_paid(
            claim,
            actor=w.billing,
            amount=Decimal("250.01"),
            paid_on=today,
            payer_claim_number="",
            expected_version=2,
        )
    with pytest.raises(claims.ClaimError, match="future"):
        claims.mark_paid(
            claim,
            actor=w.billing,
            amount=Decimal("200"),
            paid_on=today + dt.timedelta(days=1),
            payer_claim_number="",
            expected_version=2,
        )
    with pytest.raises(claims.ClaimError, match="“Other”"):
        claims.mark_denied(
            claim,
            actor=w.billing,
            code=DenialReason.OTHER,
            reason="  ",
            denied_on=today,
            expected_version=2,
        )
    denied = claims.mark_denied(
        claim,
        actor=w.billing,
        code=DenialReason.NO_AUTH,
        reason="",
        denied_on=today,
        expected_version=2,
    )
    assert (denied.status, denied.denial_code, denied.version) == ("denied", "197", 3)
    with pytest.raises(claims.ClaimError, match="only a claim that is submitted"):
        claims.mark_denied(
            denied,
            actor=w.billing,
            code=DenialReason.NO_AUTH,
            reason="",
            denied_on=today,
            expected_version=3,
        )
    # Paid on appeal.
    paid = claims.mark_paid(
        denied,
        actor=w.billing,
        amount=Decimal("180.50"),
        paid_on=today,
        payer_claim_number="PCN-1",
        expected_version=3,
    )
    assert (paid.status, paid.paid_amount, paid.payer_claim_number) == (
        "paid",
        Decimal("180.50"),
        "PCN-1",
    )
    with pytest.raises(claims.ClaimError, match="payer holds it"):
        claims.void_claim(paid, actor=w.billing, reason="x", expected_version=4)
    transitions = AuditEvent.objects.filter(
        action=AuditAction.TRANSITION, object_id=str(claim.pk), object_type="billing.claim"
    ).count()
    assert transitions == 3  # submitted, denied, paid


def test_a_denied_claim_is_voided_and_its_day_claimed_again(world):
    add_claim_batch(world)
    w = world
    claim = claims.mark_denied(
        Claim.objects.get(pk=w.claim.pk),
        actor=w.billing,
        code=DenialReason.MISSING_INFO,
        reason="Member id wrong",
        denied_on=answer_day(w),
        expected_version=2,
    )
    claims.void_claim(claim, actor=w.billing, reason="Fixed the member id", expected_version=3)
    with pytest.raises(claims.ClaimError, match="voided"):
        claims.void_claim(claim, actor=w.billing, reason="again", expected_version=4)
    assert len(build(w).claims) == 1
    assert claims.can(Claim.objects.get(pk=claim.pk), "void") is False
