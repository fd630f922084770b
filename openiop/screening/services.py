"""Every write to drug screening, atomic and audited: orders, collections and their chain
of custody, refusals and no-shows, results (by hand or imported), expected medications and
clinician reviews. Views, imports, the worker, the demo and tests all come through here.

The program's policy (`ScreeningPolicy`) decides what needs a clinician's review:
* an unexpected positive always opens a review for the primary counsellor; under a *strict*
  policy the review is also escalated to the director (issue 7, point 2);
* a refusal, a no-show and a dilute or adulterated specimen count as the policy says:
  as a positive or a missed test (both reviewed), or as a retest (a new order, no review).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.roles import Perm
from openiop.participants.choices import IN_CARE

from .choices import (
    CountsAs,
    CustodyStep,
    Handling,
    Interpretation,
    OrderReason,
    OrderStatus,
    ResultMethod,
    ResultOutcome,
    ResultSource,
    ReviewOutcome,
    ReviewReason,
    ReviewStatus,
    Validity,
)
from .models import (
    Analyte,
    Collection,
    CustodyEvent,
    ExpectedMedication,
    Order,
    Panel,
    Result,
    Review,
    ScreeningPolicy,
)

DEFAULT_PANEL = "12-panel urine cup"
MAX_NOTE = 500
MAX_SPECIMEN_ID = 40
# A collection or custody step timed more than this far ahead of now is a typing mistake.
CLOCK_SKEW = dt.timedelta(minutes=5)
# Custody steps must follow collection in this order; the others may come at any time.
_CUSTODY_ORDER = {
    CustodyStep.COLLECTED: 0,
    CustodyStep.SEALED: 1,
    CustodyStep.SENT: 2,
    CustodyStep.RECEIVED: 3,
    CustodyStep.SEAL_BROKEN: 3,
}
_INVALID_VALIDITY = {
    Validity.DILUTE: "dilute_counts_as",
    Validity.ADULTERATED: "adulterated_counts_as",
    Validity.SUBSTITUTED: "adulterated_counts_as",
    Validity.INVALID: "adulterated_counts_as",
}


class ScreeningError(Exception):
    """A request refused because of the record's state (409); the message says why."""


class ScreeningInputError(ValueError):
    """A request refused because of what was typed (400); the message says why."""


# --- policy ---------------------------------------------------------------------------


def default_panel() -> Panel | None:
    return Panel.objects.filter(name=DEFAULT_PANEL, retired=False).first()


def policy_for(program: Any) -> ScreeningPolicy:
    """The program's policy, created with the defaults the first time it is asked for."""
    policy = ScreeningPolicy.objects.filter(program=program).select_related("random_panel").first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            return ScreeningPolicy.objects.create(program=program, random_panel=default_panel())
    except IntegrityError:  # pragma: no cover  (two first requests at once)
        return ScreeningPolicy.objects.select_related("random_panel").get(program=program)


def update_policy(policy: ScreeningPolicy, *, actor: Any, **values: Any) -> ScreeningPolicy:
    """Save validated values (from the policy form) and audit what changed."""
    changes: dict[str, list[Any]] = {}
    with transaction.atomic():
        for name, value in values.items():
            old = getattr(policy, name)
            if old != value:
                changes[name] = [audit._jsonable(old), audit._jsonable(value)]
                setattr(policy, name, value)
        policy.updated_at = timezone.now()
        policy.updated_by = actor
        policy.full_clean()
        policy.save()
        audit.record(AuditAction.CHANGE, actor=actor, obj=policy, changes=changes)
    return policy


# --- visibility -----------------------------------------------------------------------


def sees_today_list(user: Any) -> bool:
    """Only lab and director roles see who is selected today (issue 7, point 3)."""
    return bool(user.has_perm_code(Perm.SCREENING_COLLECT))


def order_visible(user: Any, order: Order, today: dt.date) -> bool:
    """A random selection stays hidden from everyone but lab and director until the
    specimen is collected (or refused, or missed) or the day is over."""
    if order.reason != OrderReason.RANDOM or sees_today_list(user):
        return True
    return order.status != OrderStatus.OPEN or order.day < today


# --- orders ---------------------------------------------------------------------------


def order_test(
    episode: Any,
    *,
    actor: Any,
    day: dt.date,
    reason: str,
    panel: Panel | None = None,
    reason_detail: str = "",
    selection: Any = None,
) -> Order:
    """Order a test for an episode in care. A for-cause order must say why."""
    if episode.status not in IN_CARE or episode.voided:
        raise ScreeningError("Tests are ordered only for participants in care.")
    if reason not in OrderReason.values:
        raise ScreeningInputError("Unknown reason for the test.")
    reason_detail = (reason_detail or "").strip()
    if reason == OrderReason.FOR_CAUSE and not reason_detail:
        raise ScreeningInputError("Say why a for-cause test is ordered.")
    if len(reason_detail) > MAX_NOTE:
        raise ScreeningInputError(f"The reason is limited to {MAX_NOTE} characters.")
    panel = panel or policy_for(episode.program).random_panel or default_panel()
    if panel is None or panel.retired:
        raise ScreeningInputError("Choose a panel that is in use.")
    with transaction.atomic():
        duplicate = Order.objects.filter(
            participant_id=episode.participant_id,
            day=day,
            panel=panel,
            status=OrderStatus.OPEN,
            voided=False,
        ).first()
        if duplicate is not None:
            raise ScreeningError("This participant already has that test to collect that day.")
        order = Order.objects.create(
            participant_id=episode.participant_id,
            episode=episode,
            program_id=episode.program_id,
            day=day,
            reason=reason,
            reason_detail=reason_detail,
            panel=panel,
            selection=selection,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=order,
            changes={"reason": [None, reason], "day": [None, day.isoformat()]},
        )
    return order


def cancel_order(order: Order, *, actor: Any, reason: str) -> Order:
    reason = (reason or "").strip()
    if not reason:
        raise ScreeningInputError("Say why the test is cancelled.")
    if order.reason == OrderReason.RANDOM:
        # A random selection is collected, refused or missed; never quietly dropped.
        raise ScreeningError("A random selection cannot be cancelled; record a no-show.")
    return _close(order, OrderStatus.CANCELLED, actor, reason[:MAX_NOTE])


def _close(order: Order, status: str, actor: Any, note: str) -> Order:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.OPEN or locked.voided:
            raise ScreeningError(f"This test is already {locked.get_status_display().lower()}.")
        old = locked.status
        locked.status = status
        locked.status_at = timezone.now()
        locked.status_by = actor
        locked.status_note = note
        locked.updated_by = actor
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        audit.record(AuditAction.CHANGE, actor=actor, obj=locked, changes={"status": [old, status]})
    order.refresh_from_db()
    return order


def record_refusal(order: Order, *, actor: Any, note: str = "") -> Order:
    """The participant refused to give a specimen; the policy says how it counts."""
    with transaction.atomic():
        order = _close(order, OrderStatus.REFUSED, actor, (note or "").strip()[:MAX_NOTE])
        _apply_counts_as(
            order, policy_for(order.program).refusal_counts_as, ReviewReason.REFUSAL, actor
        )
    return order


def record_no_show(order: Order, *, actor: Any, note: str = "") -> Order:
    """The participant did not come to test on the day."""
    with transaction.atomic():
        order = _close(order, OrderStatus.NO_SHOW, actor, (note or "").strip()[:MAX_NOTE])
        _apply_counts_as(
            order, policy_for(order.program).no_show_counts_as, ReviewReason.NO_SHOW, actor
        )
    return order


def _apply_counts_as(order: Order, counts_as: str, reason: str, actor: Any) -> None:
    if counts_as == CountsAs.RETEST:
        retest_day = max(order.day, order.program.today()) + dt.timedelta(days=1)
        order_test(
            order.episode,
            actor=actor,
            day=retest_day,
            reason=OrderReason.FOR_CAUSE,
            panel=order.panel,
            reason_detail=f"Retest after a {dict(ReviewReason.choices)[reason].lower()}.",
        )
    else:
        open_review(order, reason=reason, detail="", actor=actor)


# --- collection and custody -----------------------------------------------------------


@dataclass
class CollectionInput:
    specimen_id: str
    collected_at: dt.datetime
    observed: bool = False
    observed_reason: str = ""
    temperature_in_range: bool | None = None
    validity: str = Validity.VALID
    remarks: str = ""


def record_collection(order: Order, data: CollectionInput, *, actor: Any) -> Collection:
    """Record the specimen for an open order and its first custody step."""
    specimen_id = (data.specimen_id or "").strip()
    if not specimen_id or len(specimen_id) > MAX_SPECIMEN_ID:
        raise ScreeningInputError(f"Give the specimen id (1–{MAX_SPECIMEN_ID} characters).")
    if data.collected_at > timezone.now() + CLOCK_SKEW:
        raise ScreeningInputError("The collection time is in the future.")
    if data.validity not in Validity.values:
        raise ScreeningInputError("Unknown specimen validity.")
    if data.observed and not data.observed_reason.strip():
        raise ScreeningInputError("Say why the collection was observed.")
    with transaction.atomic():
        if Collection.objects.filter(specimen_id=specimen_id).exists():
            raise ScreeningInputError("That specimen id is already used by another specimen.")
        order = _close(order, OrderStatus.COLLECTED, actor, "")
        collection = Collection.objects.create(
            order=order,
            participant_id=order.participant_id,
            specimen_id=specimen_id,
            specimen_type=order.panel.specimen_type,
            collected_at=data.collected_at,
            collected_by=actor,
            observed=data.observed,
            observed_reason=data.observed_reason.strip()[:300],
            temperature_in_range=data.temperature_in_range,
            validity=data.validity,
            remarks=data.remarks.strip()[:MAX_NOTE],
            created_by=actor,
            updated_by=actor,
        )
        CustodyEvent.objects.create(
            collection=collection,
            step=CustodyStep.COLLECTED,
            at=data.collected_at,
            by=actor,
            by_name=actor.get_full_name() or actor.username,
            recorded_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=collection,
            changes={"validity": [None, data.validity], "observed": [None, data.observed]},
        )
        if data.validity != Validity.VALID:
            policy = policy_for(order.program)
            _apply_counts_as(
                order,
                getattr(policy, _INVALID_VALIDITY[Validity(data.validity)]),
                ReviewReason.INVALID_SPECIMEN,
                actor,
            )
    return collection


def add_custody(
    collection: Collection,
    *,
    actor: Any,
    step: str,
    at: dt.datetime,
    by_name: str = "",
    detail: str = "",
) -> CustodyEvent:
    """Append a chain-of-custody step. Steps come in order (sealed, sent, received) and
    never before the collection."""
    if step not in CustodyStep.values or step == CustodyStep.COLLECTED:
        raise ScreeningInputError("Unknown custody step.")
    if at > timezone.now() + CLOCK_SKEW:
        raise ScreeningInputError("The time of the step is in the future.")
    if at < collection.collected_at:
        raise ScreeningInputError("A custody step cannot come before the collection.")
    by_name = (by_name or "").strip()
    # Blank "who": the person recording it did the step; otherwise a courier or the lab.
    by_user = None if by_name else actor
    by_name = by_name or actor.get_full_name() or actor.username
    with transaction.atomic():
        done = list(
            CustodyEvent.objects.filter(collection=collection).values_list("step", flat=True)
        )
        if step in done and step != CustodyStep.RESULTED:
            raise ScreeningError(f"“{CustodyStep(step).label}” is already recorded.")
        rank = _CUSTODY_ORDER.get(CustodyStep(step))
        if rank is not None:
            missing = [
                s
                for s, r in _CUSTODY_ORDER.items()
                if r < rank and r > 0 and s not in done and s != CustodyStep.SEAL_BROKEN
            ]
            if missing:
                raise ScreeningError(f"Record “{CustodyStep(missing[0]).label}” first.")
            if rank == 3 and {CustodyStep.RECEIVED, CustodyStep.SEAL_BROKEN} & set(done):
                raise ScreeningError("The lab's receipt is already recorded.")
        event = CustodyEvent.objects.create(
            collection=collection,
            step=step,
            at=at,
            by=by_user,
            by_name=by_name[:150],
            detail=(detail or "").strip()[:300],
            recorded_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=event,
            object_type="screening.custodyevent",
            participant_id=collection.participant_id,
            changes={"step": [None, step]},
        )
    return event


# --- expected medications -------------------------------------------------------------


def explaining_medication(
    medications: Iterable[ExpectedMedication], analyte_id: int, day: dt.date
) -> ExpectedMedication | None:
    """The expected medication that explains a positive for this analyte on this day, if
    any: it lists the analyte and covers the day. `medications` carry prefetched
    `analytes` (the rule itself runs no query)."""
    for medication in medications:
        if medication.voided or not medication.covers(day):
            continue
        if any(a.pk == analyte_id for a in medication.analytes.all()):
            return medication
    return None


def interpret(
    outcome: str, analyte_id: int, day: dt.date, medications: Iterable[ExpectedMedication]
) -> tuple[str, ExpectedMedication | None]:
    """What a result means: a positive explained by an expected medication is *expected*,
    not use (issue 7, point 6)."""
    if outcome == ResultOutcome.NEGATIVE:
        return Interpretation.NEGATIVE, None
    if outcome == ResultOutcome.INCONCLUSIVE:
        return Interpretation.INCONCLUSIVE, None
    medication = explaining_medication(medications, analyte_id, day)
    if medication is not None:
        return Interpretation.EXPECTED, medication
    return Interpretation.UNEXPECTED, None


def medications_for(participant_id: int) -> list[ExpectedMedication]:
    return list(
        ExpectedMedication.objects.filter(participant_id=participant_id, voided=False)
        .prefetch_related("analytes")
        .order_by("start_date", "pk")
    )


def add_expected_medication(
    participant: Any,
    *,
    actor: Any,
    name: str,
    analytes: Sequence[Analyte],
    start_date: dt.date,
    end_date: dt.date | None = None,
    prescriber: str = "",
    note: str = "",
) -> ExpectedMedication:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ScreeningInputError("Give the medication's name (up to 120 characters).")
    if not analytes:
        raise ScreeningInputError("Choose what the medication shows up as on a test.")
    if end_date is not None and end_date < start_date:
        raise ScreeningInputError("The end date is before the start date.")
    with transaction.atomic():
        medication = ExpectedMedication.objects.create(
            participant=participant,
            name=name,
            start_date=start_date,
            end_date=end_date,
            prescriber=(prescriber or "").strip()[:120],
            note=(note or "").strip()[:300],
            created_by=actor,
            updated_by=actor,
        )
        medication.analytes.set(analytes)
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=medication,
            changes={"name": [None, name], "analytes": [None, [a.code for a in analytes]]},
        )
    return medication


def end_expected_medication(
    medication: ExpectedMedication, *, actor: Any, end_date: dt.date
) -> ExpectedMedication:
    if end_date < medication.start_date:
        raise ScreeningInputError("The end date is before the start date.")
    with transaction.atomic():
        old = medication.end_date
        medication.end_date = end_date
        medication.updated_by = actor
        medication.updated_at = timezone.now()
        medication.version += 1
        medication.save()
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=medication,
            changes={"end_date": [audit._jsonable(old), end_date.isoformat()]},
        )
    return medication


# --- results --------------------------------------------------------------------------


@dataclass
class ResultInput:
    analyte: Analyte
    method: str
    outcome: str
    value: Decimal | None = None
    unit: str = ""
    cutoff: Decimal | None = None


def record_results(
    collection: Collection,
    entries: Sequence[ResultInput],
    *,
    actor: Any,
    source: str = ResultSource.MANUAL,
    accession: str = "",
    resulted_at: dt.datetime | None = None,
) -> list[Result]:
    """Record a specimen's results, all or none. A result already recorded for the same
    analyte and method is refused (correct it by voiding). An unexpected positive opens
    (or extends) the order's review."""
    if not entries:
        raise ScreeningInputError("No results to record.")
    seen: set[tuple[int, str]] = set()
    for entry in entries:
        if entry.method not in ResultMethod.values:
            raise ScreeningInputError("Unknown result method.")
        if entry.outcome not in ResultOutcome.values:
            raise ScreeningInputError("Unknown result outcome.")
        if entry.value is not None and entry.value < 0:
            raise ScreeningInputError("A measured value cannot be negative.")
        key = (entry.analyte.pk, entry.method)
        if key in seen:
            raise ScreeningInputError(f"{entry.analyte.code} is given twice.")
        seen.add(key)
    day = timezone.localtime(collection.collected_at, collection.order.program.tz).date()
    medications = medications_for(collection.participant_id)
    resulted_at = resulted_at or timezone.now()
    created: list[Result] = []
    unexpected: list[str] = []
    with transaction.atomic():
        existing = set(
            Result.objects.filter(collection=collection, voided=False).values_list(
                "analyte_id", "method"
            )
        )
        clash = [e.analyte.code for e in entries if (e.analyte.pk, e.method) in existing]
        if clash:
            raise ScreeningError(
                f"Results already recorded for {', '.join(clash)}; void them to correct."
            )
        for entry in entries:
            meaning, medication = interpret(entry.outcome, entry.analyte.pk, day, medications)
            created.append(
                Result.objects.create(
                    collection=collection,
                    participant_id=collection.participant_id,
                    analyte=entry.analyte,
                    method=entry.method,
                    outcome=entry.outcome,
                    value=entry.value,
                    unit=entry.unit[:20],
                    cutoff=entry.cutoff,
                    interpretation=meaning,
                    explained_by=medication,
                    source=source,
                    resulted_at=resulted_at,
                    lab_accession=accession[:60],
                    created_by=actor,
                    updated_by=actor,
                )
            )
            if meaning == Interpretation.UNEXPECTED:
                unexpected.append(entry.analyte.code)
        CustodyEvent.objects.create(
            collection=collection,
            step=CustodyStep.RESULTED,
            at=resulted_at,
            by=actor,
            by_name=actor.get_full_name() or actor.username,
            detail=f"{len(created)} results ({source})",
            recorded_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=collection,
            object_type="screening.result",
            changes={
                "results": [None, [f"{e.analyte.code}:{e.method}:{e.outcome}" for e in entries]],
                "source": [None, source],
            },
        )
        if unexpected:
            open_review(
                collection.order,
                reason=ReviewReason.UNEXPECTED_POSITIVE,
                detail=", ".join(unexpected),
                actor=actor,
            )
    return created


def void_result(result: Result, *, actor: Any, reason: str) -> Result:
    reason = (reason or "").strip()
    if not reason:
        raise ScreeningInputError("Say why the result is voided.")
    with transaction.atomic():
        result.voided = True
        result.voided_at = timezone.now()
        result.voided_by = actor
        result.void_reason = reason[:500]
        result.version += 1
        result.save()
        audit.record(AuditAction.VOID, actor=actor, obj=result, reason=reason)
    return result


# --- reviews --------------------------------------------------------------------------


def open_review(order: Order, *, reason: str, detail: str, actor: Any) -> Review:
    """Open the review of an order for its counsellor, or add to the open one. Under a
    strict policy the director is told as well (the review is `escalated`)."""
    policy = policy_for(order.program)
    with transaction.atomic():
        review = (
            Review.objects.select_for_update()
            .filter(order=order, reason=reason, voided=False)
            .first()
        )
        if review is not None:
            if review.status == ReviewStatus.DONE and review.outcome == ReviewOutcome.DISPUTED:
                # The disputed result came back from definitive testing still unexpected:
                # the review opens again (DOMAIN.md §5.3).
                review.status = ReviewStatus.OPEN
                review.outcome = ""
                audit.record(
                    AuditAction.CHANGE,
                    actor=actor,
                    obj=review,
                    changes={"status": ["done", "open"]},
                    reason="definitive result still unexpected",
                )
            if detail:
                parts = [p for p in review.detail.split(", ") if p]
                parts += [d for d in detail.split(", ") if d not in parts]
                review.detail = ", ".join(parts)[:300]
            review.version += 1
            review.save()
            return review
        review = Review.objects.create(
            participant_id=order.participant_id,
            episode_id=order.episode_id,
            order=order,
            reason=reason,
            detail=detail[:300],
            assigned_to_id=order.episode.primary_counsellor_id,
            escalated=policy.handling == Handling.STRICT,
            created_by=actor,
            updated_by=actor,
        )
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=review,
            changes={"reason": [None, reason], "escalated": [None, review.escalated]},
        )
    return review


def complete_review(
    review: Review, *, actor: Any, outcome: str, plan_change: str, expected_version: int
) -> Review:
    """The clinician's conclusion and what changed in the plan (required: "no change"
    is an answer, a blank is not)."""
    if outcome not in ReviewOutcome.values:
        raise ScreeningInputError("Choose what the review concluded.")
    plan_change = (plan_change or "").strip()
    if not plan_change:
        raise ScreeningInputError("Say what changed in the plan (or why nothing did).")
    if len(plan_change) > 4000:
        raise ScreeningInputError("Keep what changed to 4000 characters.")
    if outcome == ReviewOutcome.DISPUTED and review.reason != ReviewReason.UNEXPECTED_POSITIVE:
        # A disputed positive is sent out on the same specimen; its definitive result
        # reopens this review if it is still unexpected (DOMAIN.md §5.3).
        raise ScreeningInputError("Only a positive result can be sent for confirmation.")
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.status == ReviewStatus.DONE:
            raise ScreeningError("This review is already done.")
        if locked.version != expected_version:
            raise ScreeningError("Someone else changed this review; reload it.")
        locked.status = ReviewStatus.DONE
        locked.outcome = outcome
        locked.plan_change = plan_change
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = actor
        locked.updated_by = actor
        locked.updated_at = timezone.now()
        locked.version += 1
        locked.save()
        audit.record(
            AuditAction.CHANGE,
            actor=actor,
            obj=locked,
            changes={"status": ["open", "done"], "outcome": [None, outcome]},
        )
    return locked
