"""Claims (issue 11, point 4): built from billable days, sent as 837P files, then paid or
denied. The state rules live here, in one place:

    draft ──submit──▶ submitted ──paid──▶ paid
      │                   │
      │                   └──denied──▶ denied ──paid (on appeal)──▶ paid
      └──void                            └──void (frees its days to be claimed again)

A paid or submitted claim is never voided: the payer holds it. Every change is audited in
the transaction that makes it, and edits check the version the page was opened with.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import Sequence
from openiop.core.records import lock_for_edit
from openiop.intake.models import Diagnosis
from openiop.privacy import gate
from openiop.privacy.choices import Channel, InfoCategory, Purpose, RecipientKind

from . import days as billing_days
from . import x12
from .choices import ClaimStatus, DenialReason, Risk
from .models import BillingProfile, Claim, ClaimBatch, ClaimLine, Coverage, Payer

REASON_LENGTH = 500
# What each action may start from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "submit": frozenset({ClaimStatus.DRAFT}),
    "pay": frozenset({ClaimStatus.SUBMITTED, ClaimStatus.DENIED}),
    "deny": frozenset({ClaimStatus.SUBMITTED}),
    "void": frozenset({ClaimStatus.DRAFT, ClaimStatus.DENIED}),
}
ACTION_LABELS = {
    "submit": "submitted",
    "pay": "marked paid",
    "deny": "marked denied",
    "void": "voided",
}
BELOW_MINIMUM = "below_minimum"
CLAIM_INFORMATION = (InfoCategory.ENROLMENT, InfoCategory.ATTENDANCE, InfoCategory.DIAGNOSIS)


class ClaimError(Exception):
    """A change the claim's state (or the input) does not allow; the page answers 409."""


def claim_number(value: int) -> str:
    return f"CLM-{value:06d}"


def problem(claim: Claim, action: str) -> str:
    """Why `action` may not be done to the claim now ("" when it may)."""
    if claim.voided:
        return f"Claim {claim.number} is voided."
    if claim.status not in ALLOWED_FROM[action]:
        allowed = " or ".join(ClaimStatus(s).label.lower() for s in sorted(ALLOWED_FROM[action]))
        why = ""
        if action == "void" and claim.status in (ClaimStatus.SUBMITTED, ClaimStatus.PAID):
            why = " The payer holds it: mark it denied first, or record the payment."
        return (
            f"Claim {claim.number} is {claim.get_status_display().lower()}: only a claim "
            f"that is {allowed} can be {ACTION_LABELS[action]}.{why}"
        )
    return ""


def can(claim: Claim, action: str) -> bool:
    return not problem(claim, action)


# --- building --------------------------------------------------------------------------------


@dataclass
class LeftOut:
    day: billing_days.ServiceDay
    reasons: list[tuple[str, str]]  # (code, message)


@dataclass
class BuildResult:
    claims: list[Claim] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    already_claimed: int = 0

    @property
    def days_claimed(self) -> int:
        return sum(len(getattr(c, "built_lines", [])) for c in self.claims)

    @property
    def total_charge(self) -> Decimal:
        return sum((c.total_charge for c in self.claims), Decimal("0"))

    def reason_counts(self) -> list[tuple[str, int]]:
        """(reason, days) for the days left out, most frequent first (a day with two
        problems counts under each)."""
        counts: Counter[str] = Counter()
        for item in self.left_out:
            for code, _ in item.reasons:
                counts[reason_label(code)] += 1
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))

    def summary(self) -> str:
        if not self.left_out:
            return "No day of the period was left out."
        parts = ", ".join(f"{n} {label.lower()}" for label, n in self.reason_counts())
        n = len(self.left_out)
        return f"{n} day{'s' if n != 1 else ''} left out: {parts}."


def reason_label(code: str) -> str:
    if code == BELOW_MINIMUM:
        return "Below the billable minimum"
    return Risk(code).label if code in Risk.values else code


def _left_out_reasons(day: billing_days.ServiceDay) -> list[tuple[str, str]]:
    reasons = [(code, message) for code, message in day.risks if code != Risk.FILING_LIMIT]
    if not day.meets_minimum:
        reasons.insert(0, (BELOW_MINIMUM, day.why))
    if not reasons and day.self_pay:
        reasons.append((Risk.NO_COVERAGE, "Self-pay: billed to the participant, not a payer"))
    return reasons


def _diagnoses(episode_ids: set[int]) -> dict[int, list[str]]:
    """Each episode's ICD-10 codes, primary first, at most 12 (DOMAIN.md §6)."""
    out: dict[int, list[str]] = defaultdict(list)
    for episode_id, code in (
        Diagnosis.objects.filter(episode_id__in=episode_ids, voided=False)
        .order_by("episode_id", "-primary", "noted_on", "pk")
        .values_list("episode_id", "code")
    ):
        code = code.strip().upper()
        if code and code not in out[episode_id] and len(out[episode_id]) < x12.MAX_DIAGNOSES:
            out[episode_id].append(code)
    return out


Group = tuple[int, int, int]  # (participant, episode, coverage)


def _sort_days(
    program: Any,
    payer: Payer,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    profile: BillingProfile,
) -> tuple[dict[Group, list[billing_days.ServiceDay]], BuildResult]:
    """The payer's days of the period: claimable ones grouped by claim, the others left
    out with their reasons. A day belongs to the payer when the payer's coverage pays for
    it, or when it has no coverage and the participant had coverage with the payer."""
    result = BuildResult()
    all_days = billing_days.service_days(program, start, end, today=today, profile=profile)
    former = set(
        Coverage.objects.filter(payer=payer, voided=False).values_list("participant_id", flat=True)
    )
    ready: dict[Group, list[billing_days.ServiceDay]] = defaultdict(list)
    for day in all_days:
        mine = (day.payer is not None and day.payer.pk == payer.pk) or (
            day.coverage is None and day.participant_id in former
        )
        if not mine:
            continue
        if day.claimed:
            result.already_claimed += 1
        elif day.claimable and day.coverage is not None:
            ready[(day.participant_id, day.episode_id, day.coverage.pk)].append(day)
        else:
            result.left_out.append(LeftOut(day, _left_out_reasons(day)))
    return ready, result


def _check_period(program: Any, payer: Payer, start: dt.date, end: dt.date, today: dt.date) -> None:
    if payer.program_id != program.pk:
        raise ClaimError("That payer belongs to another program.")
    if end < start:
        raise ClaimError("The period ends before it starts.")
    if end > today:
        raise ClaimError("A claim covers days that have happened: end the period by today.")


@dataclass
class Preview:
    """What a build would do now: claims (as groups of days) and days left out."""

    groups: list[list[billing_days.ServiceDay]]
    result: BuildResult

    @property
    def claimable_days(self) -> int:
        return sum(len(g) for g in self.groups)

    @property
    def charge(self) -> Decimal:
        return sum((d.charge for g in self.groups for d in g), Decimal("0"))


def preview(program: Any, payer: Payer, start: dt.date, end: dt.date, *, today: dt.date) -> Preview:
    """`build_claims` without writing anything (the build page shows it first)."""
    _check_period(program, payer, start, end, today)
    profile = billing_days.profile_for(program)
    if profile is None:
        raise ClaimError("Set up the program's billing profile first.")
    ready, result = _sort_days(program, payer, start, end, today=today, profile=profile)
    return Preview([ready[k] for k in _claim_order(ready)], result)


def _claim_order(ready: dict[Group, list[billing_days.ServiceDay]]) -> list[Group]:
    return sorted(ready, key=lambda k: (ready[k][0].participant.legal_last_name.lower(), k))


def build_claims(
    program: Any,
    payer: Payer,
    start: dt.date,
    end: dt.date,
    *,
    actor: Any,
    today: dt.date,
) -> BuildResult:
    """One DRAFT claim per participant (and episode and coverage) for the payer's
    claimable days from `start` to `end`, one line per day. Days already on a live claim
    are not claimed again: the program's billing profile is locked for the whole build,
    so two builds take turns and the second sees the first one's lines."""
    _check_period(program, payer, start, end, today)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().filter(program=program).first()
        if profile is None:
            raise ClaimError("Set up the program's billing profile first.")
        ready, result = _sort_days(program, payer, start, end, today=today, profile=profile)
        # A second guard, read under the lock: days on a live claim are never claimed twice.
        taken = set(
            ClaimLine.objects.filter(
                participant_id__in={key[0] for key in ready},
                service_date__gte=start,
                service_date__lte=end,
                claim__voided=False,
            ).values_list("participant_id", "service_date")
        )
        diagnoses = _diagnoses({key[1] for key in ready})
        for key in _claim_order(ready):
            group = [d for d in ready[key] if (key[0], d.day) not in taken]
            result.already_claimed += len(ready[key]) - len(group)
            if group:
                result.claims.append(
                    _make_claim(program, payer, group, diagnoses.get(key[1], []), actor)
                )
    return result


def _make_claim(
    program: Any,
    payer: Payer,
    group: list[billing_days.ServiceDay],
    diagnoses: list[str],
    actor: Any,
) -> Claim:
    first = group[0]
    if first.coverage is None:
        raise ClaimError("A day without coverage cannot go on a claim.")
    lines = [
        ClaimLine(
            participant_id=d.participant_id,
            service_date=d.day,
            service_code=d.service_code,
            modifiers=list(d.modifiers),
            place_of_service=d.place_of_service,
            units=d.units,
            charge=d.charge,
            minutes=d.minutes,
            telehealth=d.telehealth,
            authorisation=d.authorisation,
        )
        for d in sorted(group, key=lambda d: d.day)
    ]
    claim = Claim.objects.create(
        number=claim_number(Sequence.next_value("claim")),
        program=program,
        payer=payer,
        coverage=first.coverage,
        participant_id=first.participant_id,
        episode_id=first.episode_id,
        period_start=lines[0].service_date,
        period_end=lines[-1].service_date,
        status=ClaimStatus.DRAFT,
        total_charge=sum((line.charge for line in lines), Decimal("0")),
        diagnosis_codes=diagnoses,
        created_by=actor,
        updated_by=actor,
    )
    for line in lines:
        line.claim = claim
    ClaimLine.objects.bulk_create(lines)
    claim.built_lines = lines  # type: ignore[attr-defined]
    audit.record(
        AuditAction.CREATE,
        actor=actor,
        obj=claim,
        changes={
            "payer": payer.pk,
            "days": [line.service_date.isoformat() for line in lines],
            "total_charge": str(claim.total_charge),
        },
    )
    return claim


# --- sending -----------------------------------------------------------------------------------


class SubmitRefused(ClaimError):
    """No claim could go out: `refused` maps claim numbers to the consent gate's reasons."""

    def __init__(self, message: str, refused: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.refused = refused or {}


def period_text(claim: Claim) -> str:
    if claim.period_start == claim.period_end:
        return f"{claim.period_start:%Y-%m-%d}"
    return f"{claim.period_start:%Y-%m-%d} to {claim.period_end:%Y-%m-%d}"


def disclosure_request(claim: Claim) -> gate.DisclosureRequest:
    """A claim is a disclosure for payment (42 CFR Part 2, DOMAIN.md §2)."""
    return gate.DisclosureRequest(
        participant=claim.participant,
        recipient_kind=RecipientKind.PAYER,
        recipient_name=claim.payer.name,
        purpose=Purpose.PAYMENT,
        information=CLAIM_INFORMATION,
        channel=Channel.EXPORT,
        description=f"Claim {claim.number} for {period_text(claim)}",
        reference=claim.number,
    )


def submit_claims(claims: Any, *, actor: Any, at: dt.datetime | None = None) -> ClaimBatch:
    """Send DRAFT claims of one payer as one 837P file. Each claim goes through the
    consent gate first (and needs the participant's postal address); a refused claim
    stays DRAFT and is named in the returned batch's `refused` ({claim number:
    reasons}); the others go out. SubmitRefused when none may
    go; ClaimError when a claim is not a draft or the claims are of several payers."""
    at = at or timezone.now()
    ids = sorted({c.pk for c in claims})
    if not ids:
        raise ClaimError("Choose at least one claim to submit.")
    refused: dict[str, list[str]] = {}
    batch: ClaimBatch | None = None
    going: list[Claim] = []
    with transaction.atomic():
        locked = list(Claim.objects.select_for_update().filter(pk__in=ids).order_by("number"))
        if len(locked) != len(ids):
            raise ClaimError("A claim chosen no longer exists.")
        payers = {c.payer_id for c in locked}
        if len(payers) != 1:
            raise ClaimError("Claims go out in one file per payer: choose claims of one payer.")
        for claim in locked:
            why = problem(claim, "submit")
            if why:
                raise ClaimError(why)
        chosen = list(
            Claim.objects.filter(pk__in=ids)
            .select_related("participant", "coverage", "payer", "program")
            .prefetch_related("lines__authorisation")
            .order_by("number")
        )
        payer = chosen[0].payer
        profile = BillingProfile.objects.filter(program_id=chosen[0].program_id).first()
        if profile is None:
            raise ClaimError("Set up the program's billing profile first.")
        disclosures: dict[int, int] = {}
        for claim in chosen:
            missing = x12.address_problem(claim.participant)
            if missing:
                refused[claim.number] = [missing]
                continue
            try:
                disclosure = gate.disclose(
                    disclosure_request(claim), actor=actor, on=timezone.localdate(at), at=at
                )
            except gate.DisclosureRefused as exc:
                refused[claim.number] = list(exc.reasons)
                continue
            disclosures[claim.pk] = disclosure.pk
            going.append(claim)
        if going:
            batch = _send(going, chosen[0].program_id, payer, profile, actor, at, disclosures)
    if batch is None:
        # Raised after the transaction: the gate's refusals stay in the audit log.
        raise SubmitRefused("No claim may go to the payer: every one was refused.", refused)
    batch.refused = refused  # type: ignore[attr-defined]
    batch.sent = going  # type: ignore[attr-defined]
    return batch


def _send(
    going: list[Claim],
    program_id: int,
    payer: Payer,
    profile: BillingProfile,
    actor: Any,
    at: dt.datetime,
    disclosures: dict[int, int],
) -> ClaimBatch:
    """Write the file, keep it, and mark its claims submitted (in the caller's
    transaction)."""
    control = Sequence.next_value("isa")
    content = x12.write_837p(
        going,
        profile=profile,
        payer=payer,
        control_number=control,
        at=timezone.localtime(at),
        production=profile.production,
    )
    batch = ClaimBatch.objects.create(
        program_id=program_id,
        payer=payer,
        control_number=control,
        created_at=at,
        created_by=actor,
        claim_count=len(going),
        total_charge=sum((c.total_charge for c in going), Decimal("0")),
        content=content,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        test_file=not profile.production,
    )
    audit.record(
        AuditAction.CREATE,
        actor=actor,
        obj=batch,
        changes={
            "claims": [c.number for c in going],
            "control_number": control,
            "sha256": batch.sha256,
        },
    )
    name = getattr(actor, "display_name", "") or str(actor)
    for claim in going:
        claim.status = ClaimStatus.SUBMITTED
        claim.submitted_at = at
        claim.submitted_by_name = name[:200]
        claim.batch = batch
        claim.version += 1
        claim.updated_by = actor
        claim.updated_at = timezone.now()
        claim.save(
            update_fields=[
                "status",
                "submitted_at",
                "submitted_by_name",
                "batch",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.TRANSITION,
            actor=actor,
            obj=claim,
            changes={
                "status": [ClaimStatus.DRAFT, ClaimStatus.SUBMITTED],
                "batch": batch.pk,
                "disclosure": disclosures[claim.pk],
            },
        )
    return batch


# --- the payer's answer, and voiding -----------------------------------------------------------


def _locked(claim: Claim, action: str, expected_version: int) -> Claim:
    current = lock_for_edit(Claim, claim.pk, expected_version, what="claim")
    why = problem(current, action)
    if why:
        raise ClaimError(why)
    return current


def _save(current: Claim, actor: Any, fields: list[str], changes: dict[str, Any]) -> Claim:
    current.version += 1
    current.updated_by = actor
    current.updated_at = timezone.now()
    current.save(update_fields=[*fields, "version", "updated_by", "updated_at"])
    audit.record(AuditAction.TRANSITION, actor=actor, obj=current, changes=changes)
    return current


def _answer_date(claim: Claim, day: dt.date, what: str) -> None:
    today = claim.program.today()
    if day > today:
        raise ClaimError(f"The {what} date is in the future.")
    if claim.submitted_at is not None and day < timezone.localdate(claim.submitted_at):
        raise ClaimError(
            f"The {what} date is before the claim was submitted "
            f"({timezone.localdate(claim.submitted_at):%Y-%m-%d})."
        )


def mark_paid(
    claim: Claim,
    *,
    actor: Any,
    amount: Decimal,
    paid_on: dt.date,
    payer_claim_number: str,
    expected_version: int,
) -> Claim:
    """The payer paid (all or part of) a submitted claim, or a denied one on appeal."""
    with transaction.atomic():
        current = _locked(claim, "pay", expected_version)
        if amount <= 0:
            raise ClaimError("A payment is more than $0: mark a claim paid nothing as denied.")
        if amount > current.total_charge:
            raise ClaimError(
                f"The payment (${amount}) is more than the claim's charge "
                f"(${current.total_charge})."
            )
        _answer_date(current, paid_on, "payment")
        before = current.status
        current.status = ClaimStatus.PAID
        current.paid_amount = amount
        current.paid_on = paid_on
        current.payer_claim_number = payer_claim_number.strip()[:50]
        return _save(
            current,
            actor,
            ["status", "paid_amount", "paid_on", "payer_claim_number"],
            {
                "status": [before, ClaimStatus.PAID],
                "paid_amount": str(amount),
                "paid_on": paid_on.isoformat(),
                "payer_claim_number": current.payer_claim_number,
            },
        )


def mark_denied(
    claim: Claim,
    *,
    actor: Any,
    code: str,
    reason: str,
    denied_on: dt.date,
    expected_version: int,
) -> Claim:
    """The payer denied a submitted claim, with its adjustment reason (CARC)."""
    reason = reason.strip()
    with transaction.atomic():
        current = _locked(claim, "deny", expected_version)
        if code not in DenialReason.values:
            raise ClaimError("Choose the payer's reason code.")
        if code == DenialReason.OTHER and not reason:
            raise ClaimError("Say why the payer denied it when the reason is “Other”.")
        if len(reason) > REASON_LENGTH:
            raise ClaimError(f"Keep the reason to {REASON_LENGTH} characters.")
        _answer_date(current, denied_on, "denial")
        current.status = ClaimStatus.DENIED
        current.denial_code = code
        current.denial_reason = reason
        current.denied_on = denied_on
        return _save(
            current,
            actor,
            ["status", "denial_code", "denial_reason", "denied_on"],
            {
                "status": [ClaimStatus.SUBMITTED, ClaimStatus.DENIED],
                "denial_code": code,
                "denied_on": denied_on.isoformat(),
            },
        )


def void_claim(claim: Claim, *, actor: Any, reason: str, expected_version: int) -> Claim:
    """Void a draft (built in error) or a denied claim (to fix the problem and claim its
    days again). Its lines stay as they were; the days are free again."""
    reason = reason.strip()
    if not reason:
        raise ClaimError("Say why the claim is voided.")
    if len(reason) > REASON_LENGTH:
        raise ClaimError(f"Keep the reason to {REASON_LENGTH} characters.")
    with transaction.atomic():
        current = _locked(claim, "void", expected_version)
        current.voided = True
        current.voided_at = timezone.now()
        current.voided_by = actor
        current.void_reason = reason
        current.version += 1
        current.updated_by = actor
        current.updated_at = timezone.now()
        current.save(
            update_fields=[
                "voided",
                "voided_at",
                "voided_by",
                "void_reason",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.VOID,
            actor=actor,
            obj=current,
            changes={"status": current.status},
            reason=reason,
        )
        return current
