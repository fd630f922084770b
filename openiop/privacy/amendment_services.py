"""A participant's right to amend their record (HIPAA 45 CFR §164.526; ONC 170.315(d)(4),
DOMAIN.md §3): log the request against the record it names, accept it (the amendment is
appended to the record; a signed record itself never changes) or deny it with a reason
(the request and the denial stay with the record, with the participant's statement of
disagreement if they file one). Every write is atomic and audited (AuditAction.AMEND,
VOID for a request logged in error).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction

from .choices import AmendmentStatus
from .models import AmendmentRequest

# §164.526(b)(2): act on a request no later than 60 days after receipt. (One extension of
# at most 30 days, with a written statement of the reasons to the participant, is allowed
# by §164.526(b)(2)(ii); it is not recorded here: the worklist flags the 60th day.)
DECISION_DAYS = 60

MAX_CHANGE = 4000  # the model's requested_change, amendment_text and disagreement
MAX_REASON = 2000  # the model's decision_reason
MAX_LABEL = 200  # target_label
MAX_BY = 200  # requested_by
MAX_VOID = 500  # void_reason

OTHER = "other"

# What a request may name, by app_label.model, with a short name for choice lists.
TARGET_KINDS: dict[str, str] = {
    "notes.note": "Signed progress notes",
    "plans.treatmentplan": "Treatment plan versions",
    "intake.assessment": "Signed ASAM assessments",
    "instruments.instrumentresponse": "Questionnaires (instrument responses)",
    "screening.order": "Drug-screen results",
}

# §164.526(a)(2): the only grounds on which a request may be denied. The denial must say
# which, in plain language (§164.526(d)(1)(i)).
DENIAL_GROUNDS: list[tuple[str, str]] = [
    (
        "accurate",
        "The record is accurate and complete (§164.526(a)(2)(iv))",
    ),
    (
        "not_created",
        "The record was not created by this program, and its author is available to act "
        "on the request (§164.526(a)(2)(i))",
    ),
    (
        "not_record_set",
        "The information is not part of the participant's designated record set "
        "(§164.526(a)(2)(ii))",
    ),
    (
        "not_inspectable",
        "The information is not available for the participant to inspect under §164.524 "
        "(§164.526(a)(2)(iii))",
    ),
]
DENIAL_GROUND_LABELS = dict(DENIAL_GROUNDS)


class AmendmentError(Exception):
    """A request refused; the message says why (409 in the pages)."""


@dataclass(frozen=True)
class Target:
    """One record a request may name: `value` is "type:id" (the form's choice)."""

    type: str
    id: str
    label: str

    @property
    def value(self) -> str:
        return f"{self.type}:{self.id}"


def _day(value: dt.date | dt.datetime | None, tz: Any = None) -> str:
    if value is None:
        return "?"
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value, tz).date()
    return f"{value:%b} {value.day}, {value.year}"


def targets_for(participant: Any) -> list[Target]:
    """The records of this participant a request may name, newest first within each kind:
    signed progress notes, signed or superseded treatment-plan versions, signed ASAM
    assessments, instrument responses and drug screens with results. Five queries.

    Labels name the record (kind, date, signer), never its content, so a compliance
    officer without clinical.view can handle the request.
    """
    from openiop.instruments.models import InstrumentResponse
    from openiop.intake.choices import AssessmentStatus
    from openiop.intake.models import Assessment
    from openiop.notes.choices import NoteStatus
    from openiop.notes.models import Note
    from openiop.plans.choices import LOCKED
    from openiop.plans.models import TreatmentPlan
    from openiop.screening.models import Order, Result

    tz = participant.program.tz
    out: list[Target] = []
    notes = (
        Note.objects.filter(participant=participant, status=NoteStatus.SIGNED, voided=False)
        .only("pk", "format", "service_date", "signed_name")
        .order_by("-service_date", "-pk")
    )
    for n in notes:
        kind = "Group note entry" if n.format == "group" else f"{n.format.upper()} note"
        out.append(
            Target("notes.note", str(n.pk), f"{kind} of {_day(n.service_date)} ({n.signed_name})")
        )
    plans = (
        TreatmentPlan.objects.filter(
            participant=participant, status__in=[str(s) for s in LOCKED], voided=False
        )
        .only("pk", "number", "signed_at", "status")
        .order_by("-number", "-pk")
    )
    for p in plans:
        out.append(
            Target(
                "plans.treatmentplan",
                str(p.pk),
                f"Treatment plan version {p.number}, signed {_day(p.signed_at, tz)}",
            )
        )
    assessments = (
        Assessment.objects.filter(
            participant=participant, status=AssessmentStatus.SIGNED, voided=False
        )
        .only("pk", "kind", "assessed_on")
        .order_by("-assessed_on", "-pk")
    )
    for a in assessments:
        out.append(
            Target(
                "intake.assessment",
                str(a.pk),
                f"ASAM assessment ({a.get_kind_display().lower()}) of {_day(a.assessed_on)}",
            )
        )
    responses = (
        InstrumentResponse.objects.filter(participant=participant, voided=False)
        .only("pk", "instrument", "administered_on")
        .order_by("-administered_on", "-pk")
    )
    for r in responses:
        out.append(
            Target(
                "instruments.instrumentresponse",
                str(r.pk),
                f"{r.instrument} given {_day(r.administered_on)}",
            )
        )
    with_results = Result.objects.filter(collection__order=OuterRef("pk"), voided=False)
    orders = (
        Order.objects.filter(participant=participant, voided=False, collection__voided=False)
        .filter(Exists(with_results))
        .select_related("collection")
        .order_by("-day", "-pk")
    )
    for o in orders:
        collection = o.collection
        out.append(
            Target(
                "screening.order",
                str(o.pk),
                f"Drug screen of {_day(collection.collected_at, tz)} "
                f"(specimen {collection.specimen_id})",
            )
        )
    return out


def target_choices(targets: Iterable[Target]) -> list[tuple[str, Any]]:
    """Grouped choices for a select: one group per kind, then "another record"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for t in targets:
        groups.setdefault(t.type, []).append((t.value, t.label))
    out: list[tuple[str, Any]] = [
        (TARGET_KINDS[kind], rows) for kind in TARGET_KINDS if (rows := groups.get(kind))
    ]
    out.append((OTHER, "Another record (describe it below)"))
    return out


def due_by(request: AmendmentRequest) -> dt.date:
    """The day a decision is due: 60 days after receipt (§164.526(b)(2))."""
    return request.received_on + dt.timedelta(days=DECISION_DAYS)


def is_overdue(request: AmendmentRequest, today: dt.date) -> bool:
    return request.status == AmendmentStatus.PENDING and today > due_by(request)


def with_due(requests: Iterable[AmendmentRequest], today: dt.date) -> list[AmendmentRequest]:
    """The requests with `due_by`, `overdue`, `days_left` and `days_late` set for the
    templates."""
    out = []
    for r in requests:
        r.due_by = due_by(r)  # type: ignore[attr-defined]
        r.overdue = is_overdue(r, today)  # type: ignore[attr-defined]
        r.days_left = (r.due_by - today).days  # type: ignore[attr-defined]
        r.days_late = max(0, -r.days_left)  # type: ignore[attr-defined]
        out.append(r)
    return out


def _text(value: str, *, what: str, limit: int, required: bool = True) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise AmendmentError(f"The {what} contains a character that cannot be saved (NUL).")
    if required and not text:
        raise AmendmentError(f"Write the {what}.")
    if len(text) > limit:
        raise AmendmentError(f"The {what} can hold at most {limit:,} characters.")
    return text


def log_request(
    participant: Any,
    *,
    actor: Any,
    received_on: dt.date,
    requested_by: str,
    target: str,
    requested_change: str,
    other_label: str = "",
) -> AmendmentRequest:
    """Log a request the participant (or their representative) made. `target` is one of
    `targets_for(participant)`'s values, or "other" with `other_label` describing it."""
    requested_by = _text(requested_by, what="name of who asked", limit=MAX_BY)
    change = _text(requested_change, what="change asked for", limit=MAX_CHANGE)
    today = participant.program.today()
    if received_on > today:
        raise AmendmentError("The date received cannot be in the future.")
    if target == OTHER:
        label = _text(other_label, what="description of the record", limit=MAX_LABEL)
        target_type, target_id = "", ""
    else:
        found = next((t for t in targets_for(participant) if t.value == target), None)
        if found is None:
            raise AmendmentError("Choose one of this participant's records, or “another record”.")
        target_type, target_id, label = found.type, found.id, found.label[:MAX_LABEL]
    with transaction.atomic():
        request = AmendmentRequest.objects.create(
            participant=participant,
            received_on=received_on,
            requested_by=requested_by,
            target_type=target_type,
            target_id=target_id,
            target_label=label,
            requested_change=change,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.AMEND,
            actor=actor,
            obj=request,
            changes={
                "step": "logged",
                "status": AmendmentStatus.PENDING,
                "target": f"{target_type}:{target_id}" if target_type else OTHER,
                "received_on": received_on.isoformat(),
            },
        )
    return request


def _locked(request: AmendmentRequest) -> AmendmentRequest:
    current = AmendmentRequest.objects.select_for_update().get(pk=request.pk)
    if current.voided:
        raise AmendmentError("This request was voided (logged in error).")
    return current


def _refuse_decided(current: AmendmentRequest) -> None:
    if current.status != AmendmentStatus.PENDING:
        who = current.decided_by.display_name if current.decided_by else "someone"
        raise AmendmentError(
            f"This request was already {current.get_status_display().lower()} on "
            f"{_day(current.decided_at)} by {who}; a decision is final. If the participant "
            "asks again, log a new request."
        )


def _decide(current: AmendmentRequest, actor: Any, status: str, **fields: Any) -> None:
    current.status = status
    current.decided_at = timezone.now()
    current.decided_by = actor
    current.updated_at = current.decided_at
    current.updated_by = actor
    current.version += 1
    for name, value in fields.items():
        setattr(current, name, value)
    current.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "updated_at",
            "updated_by",
            "version",
            *fields,
        ]
    )
    audit.record(
        AuditAction.AMEND,
        actor=actor,
        obj=current,
        changes={"step": status, "status": [AmendmentStatus.PENDING, status]},
    )
    if current.target_type:
        # The record it names carries the event in its own trail too.
        audit.record(
            AuditAction.AMEND,
            actor=actor,
            object_type=current.target_type,
            object_id=current.target_id,
            object_repr=f"{current.target_type.split('.')[-1]} {current.target_id}",
            participant_id=current.participant_id,
            changes={"amendment_request": current.pk, "status": status},
        )


def accept(request: AmendmentRequest, *, actor: Any, amendment_text: str) -> AmendmentRequest:
    """Accept: the amendment text is appended to the record (shown beside it wherever the
    record is shown, and on its PDF); the record itself does not change (§164.526(c)(1):
    identify the records affected and append or link the amendment)."""
    text = _text(amendment_text, what="amendment", limit=MAX_CHANGE)
    with transaction.atomic():
        current = _locked(request)
        _refuse_decided(current)
        _decide(current, actor, AmendmentStatus.ACCEPTED, amendment_text=text)
    return current


def deny(
    request: AmendmentRequest, *, actor: Any, ground: str, explanation: str
) -> AmendmentRequest:
    """Deny on one of the §164.526(a)(2) grounds, explained in plain language
    (§164.526(d)(1)). The request and the denial stay with the record (§164.526(d)(4))."""
    if ground not in DENIAL_GROUND_LABELS:
        raise AmendmentError("Choose the ground for the denial.")
    label = DENIAL_GROUND_LABELS[ground]
    text = _text(explanation, what="reason", limit=MAX_REASON - len(label) - 2)
    with transaction.atomic():
        current = _locked(request)
        _refuse_decided(current)
        _decide(current, actor, AmendmentStatus.DENIED, decision_reason=f"{label}. {text}")
    return current


def add_disagreement(request: AmendmentRequest, *, actor: Any, text: str) -> AmendmentRequest:
    """The participant's statement of disagreement with a denial (§164.526(d)(1)(iii),
    (d)(2)); it is shown with the record from then on (§164.526(d)(5)). One statement."""
    statement = _text(text, what="statement of disagreement", limit=MAX_CHANGE)
    with transaction.atomic():
        current = _locked(request)
        if current.status != AmendmentStatus.DENIED:
            raise AmendmentError("A statement of disagreement answers a denied request.")
        if current.disagreement:
            raise AmendmentError(
                "The participant's statement of disagreement is already on file; it is "
                "kept as given."
            )
        current.disagreement = statement
        current.updated_at = timezone.now()
        current.updated_by = actor
        current.version += 1
        current.save(update_fields=["disagreement", "updated_at", "updated_by", "version"])
        audit.record(
            AuditAction.AMEND,
            actor=actor,
            obj=current,
            changes={"step": "disagreement", "disagreement": True},
        )
    return current


def void_request(request: AmendmentRequest, *, actor: Any, reason: str) -> AmendmentRequest:
    """Void a request logged in error (the wrong participant, a duplicate). It is kept,
    marked voided, and no longer shown with the record."""
    why = _text(reason, what="reason for voiding", limit=MAX_VOID)
    with transaction.atomic():
        current = _locked(request)
        current.voided = True
        current.voided_at = timezone.now()
        current.voided_by = actor
        current.void_reason = why
        current.updated_at = current.voided_at
        current.updated_by = actor
        current.version += 1
        current.save(
            update_fields=[
                "voided",
                "voided_at",
                "voided_by",
                "void_reason",
                "updated_at",
                "updated_by",
                "version",
            ]
        )
        audit.record(AuditAction.VOID, actor=actor, obj=current, reason=why)
    return current
