"""The aftercare plan (issue 10, point 2): started while the person is in care, usable
after discharge, and given to the participant.

    plan = start_plan(episode, actor=user)
    plan = save_plan(plan, actor=user, values={...}, expected_version=plan.version)
    referral = add_referral(plan, actor=user, values={...})
    referral = change_referral(referral, actor=user, values={...}, expected_version=...)
    void_referral(referral, actor=user, reason="Entered twice", expected_version=...)
    plan = give_plan(plan, actor=user, expected_version=plan.version, pdf=render)

A plan given to the participant and changed afterwards goes back to "being prepared"
with its `given_at` kept: the page says "changed since given — give the new version".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import StaleEdit, lock_for_edit
from openiop.participants.choices import EpisodeStatus

from .choices import AftercareStatus, ReferralStatus
from .models import AftercarePlan, AftercareReferral

PLAN_FIELDS = ["goals", "warning_signs", "crisis_plan"]
REFERRAL_FIELDS = [
    "kind",
    "provider",
    "contact",
    "appointment_at",
    "responsible",
    "responsible_name",
    "status",
    "notes",
]
# Episodes an aftercare plan is written for: in care (before discharge) or discharged.
PLAN_STATUSES = frozenset(
    {
        EpisodeStatus.ADMITTED,
        EpisodeStatus.ACTIVE,
        EpisodeStatus.DISCHARGED,
        EpisodeStatus.ALUMNI,
    }
)
# Referral states that count on the participant's copy (cancelled and declined ones are
# listed on the staff page only).
LIVE_REFERRAL = (ReferralStatus.PLANNED, ReferralStatus.BOOKED, ReferralStatus.ATTENDED)


NOT_IN_CARE = "An aftercare plan is written for a participant in care or discharged."


class AftercareError(Exception):
    """The plan cannot be changed as asked (the message says why)."""


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _name(actor: Any) -> str:
    return str(getattr(actor, "display_name", "") or getattr(actor, "username", ""))[:200]


# --- rules ------------------------------------------------------------------------------------


def can_have_plan(episode: Any) -> bool:
    return episode is not None and episode.status in PLAN_STATUSES


def give_problems(plan: AftercarePlan, referrals: list[AftercareReferral]) -> list[str]:
    """Why the plan cannot be given yet (empty: it can)."""
    problems = []
    if not [r for r in referrals if not r.voided and r.status in LIVE_REFERRAL]:
        problems.append("Add at least one referral the participant is going to.")
    if not plan.crisis_plan.strip():
        problems.append("Write what to do in a crisis.")
    return problems


def referral_problems(values: dict[str, Any]) -> dict[str, str]:
    """A booked appointment has its date and time; someone else arranging it is named."""
    problems = {}
    if values.get("status") == ReferralStatus.BOOKED and not values.get("appointment_at"):
        problems["appointment_at"] = "An appointment made needs its date and time."
    if not (values.get("provider") or "").strip():
        problems["provider"] = "Name the provider or the meeting."
    if (
        values.get("responsible") not in (None, "", "participant", "counsellor")
        and not (values.get("responsible_name") or "").strip()
    ):
        problems["responsible_name"] = "Name who arranges it."
    return problems


def changed_since_given(plan: AftercarePlan) -> bool:
    return plan.given_at is not None and plan.status != AftercareStatus.GIVEN


# --- writes -----------------------------------------------------------------------------------


def _bump(record: Any, actor: Any) -> None:
    record.version += 1
    record.updated_by = _user(actor)
    record.updated_at = timezone.now()


def _back_to_draft(plan: AftercarePlan, actor: Any) -> None:
    """A change to a given plan: it is being prepared again (the given copy is kept)."""
    was_given = plan.status == AftercareStatus.GIVEN
    if was_given:
        plan.status = AftercareStatus.DRAFT
    _bump(plan, actor)
    plan.save(update_fields=["status", "version", "updated_by", "updated_at"])
    if was_given:
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=plan,
            changes={"status": [AftercareStatus.GIVEN, AftercareStatus.DRAFT]},
            reason="Referrals changed since the plan was given",
        )


def start_plan(episode: Any, *, actor: Any) -> tuple[AftercarePlan, bool]:
    """The episode's plan, made if it has none: (plan, made now)."""
    if not can_have_plan(episode):
        raise AftercareError(NOT_IN_CARE)
    with transaction.atomic():
        type(episode).objects.select_for_update().filter(pk=episode.pk).first()
        plan = AftercarePlan.objects.filter(episode=episode).first()
        if plan is not None:
            return plan, False
        plan = AftercarePlan.objects.create(
            episode=episode,
            participant_id=episode.participant_id,
            created_by=_user(actor),
            updated_by=_user(actor),
        )
        audit.record(AuditAction.CREATE, actor=actor, obj=plan, changes={"status": plan.status})
    return plan, True


def save_plan(
    plan: AftercarePlan, *, actor: Any, values: dict[str, Any], expected_version: int
) -> AftercarePlan:
    with transaction.atomic():
        current = lock_for_edit(AftercarePlan, plan.pk, expected_version, what="aftercare plan")
        before = audit.snapshot(current, PLAN_FIELDS)
        for name in PLAN_FIELDS:
            setattr(current, name, (values.get(name) or "").strip())
        changes = audit.diff(before, audit.snapshot(current, PLAN_FIELDS))
        if not changes:
            return current
        if current.status == AftercareStatus.GIVEN:
            current.status = AftercareStatus.DRAFT
            changes["status"] = [AftercareStatus.GIVEN, AftercareStatus.DRAFT]
        _bump(current, actor)
        current.save(update_fields=[*PLAN_FIELDS, "status", "version", "updated_by", "updated_at"])
        audit.record(AuditAction.CHANGE, actor=actor, obj=current, changes=changes)
    return current


def _clean_referral(values: dict[str, Any]) -> dict[str, Any]:
    out = {name: values.get(name) for name in REFERRAL_FIELDS}
    for name in ("provider", "contact", "responsible_name", "notes"):
        out[name] = (out[name] or "").strip()
    out["status"] = out["status"] or ReferralStatus.PLANNED
    return out


def _locked_plan(plan: AftercarePlan, expected_version: int | None) -> AftercarePlan:
    current = AftercarePlan.objects.select_for_update().get(pk=plan.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit(
            "Someone else changed this aftercare plan while you were editing. "
            "Your changes were not saved; reload to see theirs."
        )
    return current


def add_referral(
    plan: AftercarePlan,
    *,
    actor: Any,
    values: dict[str, Any],
    expected_version: int | None = None,
) -> AftercareReferral:
    problems = referral_problems(values)
    if problems:
        raise AftercareError(" ".join(problems.values()))
    with transaction.atomic():
        current = _locked_plan(plan, expected_version)
        referral = AftercareReferral.objects.create(
            plan=current,
            created_by=_user(actor),
            updated_by=_user(actor),
            **_clean_referral(values),
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=referral,
            participant_id=current.participant_id,
            changes=audit.snapshot(referral, REFERRAL_FIELDS),
        )
        _back_to_draft(current, actor)
    return referral


def change_referral(
    referral: AftercareReferral, *, actor: Any, values: dict[str, Any], expected_version: int
) -> AftercareReferral:
    problems = referral_problems(values)
    if problems:
        raise AftercareError(" ".join(problems.values()))
    with transaction.atomic():
        current = lock_for_edit(
            AftercareReferral, referral.pk, expected_version, what="aftercare referral"
        )
        if current.voided:
            raise AftercareError("This referral was removed from the plan.")
        before = audit.snapshot(current, REFERRAL_FIELDS)
        for name, value in _clean_referral(values).items():
            setattr(current, name, value)
        changes = audit.diff(before, audit.snapshot(current, REFERRAL_FIELDS))
        if not changes:
            return current
        _bump(current, actor)
        current.save(update_fields=[*REFERRAL_FIELDS, "version", "updated_by", "updated_at"])
        plan = AftercarePlan.objects.select_for_update().get(pk=current.plan_id)
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            participant_id=plan.participant_id,
            changes=changes,
        )
        _back_to_draft(plan, actor)
    return current


def void_referral(
    referral: AftercareReferral, *, actor: Any, reason: str, expected_version: int
) -> AftercareReferral:
    reason = reason.strip()
    if not reason:
        raise AftercareError("Say why the referral is removed.")
    with transaction.atomic():
        current = lock_for_edit(
            AftercareReferral, referral.pk, expected_version, what="aftercare referral"
        )
        if current.voided:
            raise AftercareError("This referral was already removed.")
        current.voided = True
        current.voided_at = timezone.now()
        current.voided_by = _user(actor)
        current.void_reason = reason[:500]
        _bump(current, actor)
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
        plan = AftercarePlan.objects.select_for_update().get(pk=current.plan_id)
        audit.record(
            AuditAction.VOID,
            actor=actor,
            obj=current,
            participant_id=plan.participant_id,
            reason=reason[:500],
        )
        _back_to_draft(plan, actor)
    return current


def give_plan(
    plan: AftercarePlan,
    *,
    actor: Any,
    expected_version: int,
    render: Callable[[AftercarePlan, list[AftercareReferral]], bytes],
) -> tuple[AftercarePlan, bytes]:
    """Give the plan to the participant: the PDF is made (`render`), its SHA-256 kept, the
    plan marked given, and the hand-over audited. Returns (plan, the PDF)."""
    with transaction.atomic():
        current = lock_for_edit(AftercarePlan, plan.pk, expected_version, what="aftercare plan")
        referrals = list(current.referrals.filter(voided=False).order_by("appointment_at", "pk"))
        problems = give_problems(current, referrals)
        if problems:
            raise AftercareError(" ".join(problems))
        current.given_at = timezone.now()
        data = render(current, referrals)
        current.status = AftercareStatus.GIVEN
        current.given_by = _user(actor)
        current.given_by_name = _name(actor)
        current.given_sha256 = hashlib.sha256(data).hexdigest()
        _bump(current, actor)
        current.save(
            update_fields=[
                "status",
                "given_at",
                "given_by",
                "given_by_name",
                "given_sha256",
                "version",
                "updated_by",
                "updated_at",
            ]
        )
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=current,
            changes={"status": [AftercareStatus.DRAFT, AftercareStatus.GIVEN]},
            reason=f"Given to the participant (PDF sha256 {current.given_sha256[:16]}…)",
        )
    return current, data


# --- the participant's copy -------------------------------------------------------------------

PDF_TEMPLATE = "discharge/aftercare_pdf.html"


def pdf_context(plan: AftercarePlan, referrals: list[AftercareReferral]) -> dict[str, Any]:
    participant = plan.participant
    return {
        "participant": participant,
        "plan": plan,
        "referrals": [r for r in referrals if not r.voided and r.status in LIVE_REFERRAL],
        "program_name": participant.program.name,
        "header_right": participant.display_name,
        "tz": participant.program.time_zone,
    }


def render_plan_pdf(
    plan: AftercarePlan, referrals: list[AftercareReferral], request: Any = None
) -> bytes:
    """The participant's copy: the crisis plan and every referral with its appointment
    and who arranges it (raises core.pdf.PdfUnavailable without WeasyPrint)."""
    from openiop.core.pdf import render_pdf_bytes

    return bytes(render_pdf_bytes(PDF_TEMPLATE, pdf_context(plan, referrals), request))
