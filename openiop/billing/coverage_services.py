"""A participant's coverage and authorisations (issue 11, points 1 and 2): the rules, and
saving with a version check, an audit event and nothing half-written.

The rules are pure functions (`coverage_problems`, `authorisation_problems`) returning
{field: message}; the forms show each beside its field, and the save functions run them
again inside the transaction against the rows as they are then, so two people cannot
both record a primary insurance for the same days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.records import StaleEdit, lock_for_edit, save_change
from openiop.participants.models import Participant

from .choices import CoverageKind, Priority, Relationship
from .models import Authorisation, Coverage, Payer

COVERAGE_FIELDS = [
    "kind",
    "payer",
    "priority",
    "member_id",
    "group_number",
    "plan_name",
    "relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_date_of_birth",
    "subscriber_sex",
    "patient_sex",
    "start_date",
    "end_date",
    "household_size",
    "annual_income",
]
SUBSCRIBER_FIELDS = {
    "subscriber_first_name": "the subscriber's first name",
    "subscriber_last_name": "the subscriber's last name",
    "subscriber_date_of_birth": "the subscriber's date of birth",
    "subscriber_sex": "the subscriber's sex",
}
AUTHORISATION_FIELDS = [
    "coverage",
    "service_code",
    "units",
    "start_date",
    "end_date",
    "reference_number",
    "next_review_on",
    "reviewer",
    "notes",
]
MAX_UNITS = 999
FULL_FEE = "No household assessed: the full charge applies."


class CoverageError(Exception):
    """A change the record's state refuses (409)."""


def _name(coverage: Coverage) -> str:
    if coverage.kind == CoverageKind.SELF_PAY:
        return f"self-pay from {coverage.start_date:%Y-%m-%d}"
    end = f" to {coverage.end_date:%Y-%m-%d}" if coverage.end_date else ""
    member = f" (member id {coverage.member_id})" if coverage.member_id else ""
    return (
        f"{Priority(coverage.priority).label.lower()} {coverage.payer}{member}, from "
        f"{coverage.start_date:%Y-%m-%d}{end}"
    )


def overlaps(
    a_start: dt.date, a_end: dt.date | None, b_start: dt.date, b_end: dt.date | None
) -> bool:
    """Two date ranges (an open end runs for ever) share at least one day."""
    return (a_end is None or b_start <= a_end) and (b_end is None or a_start <= b_end)


# --- the rules --------------------------------------------------------------------------


def coverage_problems(
    values: dict[str, Any],
    *,
    others: Iterable[Coverage],
    full_fee: bool = False,
    today: dt.date,
    keep_payer_id: int | None = None,
) -> dict[str, str]:
    """What is wrong with a coverage as entered; `others` are the participant's other
    coverages (voided ones are ignored); `keep_payer_id`, the payer an edited coverage
    already has (kept even once retired). {field: message}, empty when it may be saved."""
    problems: dict[str, str] = {}
    kind = values.get("kind")
    start, end = values.get("start_date"), values.get("end_date")
    if start and end and end < start:
        problems["end_date"] = "The coverage ends before it starts."
    if kind == CoverageKind.INSURANCE:
        payer = values.get("payer")
        if payer is None:
            problems["payer"] = "Insurance needs its payer."
        elif payer.retired and payer.pk != keep_payer_id:
            problems["payer"] = f"{payer} is retired: choose a payer still billed."
        if not (values.get("member_id") or "").strip():
            problems["member_id"] = "Insurance needs the member id on the card."
        if values.get("relationship", Relationship.SELF) != Relationship.SELF:
            for name, label in SUBSCRIBER_FIELDS.items():
                if values.get(name) in (None, ""):
                    problems[name] = (
                        f"The participant is not the subscriber: give {label} (it goes on "
                        "the claim)."
                    )
        born = values.get("subscriber_date_of_birth")
        if born and born > today:
            problems["subscriber_date_of_birth"] = "A date of birth cannot be in the future."
        if start and not problems.get("end_date"):
            clash = primary_clash(values, others)
            if clash is not None:
                problems["start_date"] = (
                    f"Another {Priority(values['priority']).label.lower()} insurance is in "
                    f"force on some of these days: {_name(clash)}. End it (or choose another "
                    "priority) first."
                )
    elif kind == CoverageKind.SELF_PAY:
        if values.get("payer") is not None:
            problems["payer"] = "Self-pay has no payer: choose Insurance, or leave the payer blank."
        size, income = values.get("household_size"), values.get("annual_income")
        if (size is None) != (income is None):
            missing = "household_size" if size is None else "annual_income"
            problems[missing] = (
                "The sliding fee needs both the household's size and its income a year."
            )
        elif size is None and not full_fee:
            problems["household_size"] = (
                "Give the household's size and income for the sliding fee, or tick that the "
                "full charge applies."
            )
        elif size is not None and full_fee:
            problems["full_fee"] = "The household is assessed: untick “the full charge applies”."
    return problems


def primary_clash(values: dict[str, Any], others: Iterable[Coverage]) -> Coverage | None:
    """An insurance of the same priority whose dates overlap these: one primary (and one
    secondary) insurance in force at a time."""
    for other in others:
        if other.voided or other.kind != CoverageKind.INSURANCE:
            continue
        if other.priority != values.get("priority"):
            continue
        if overlaps(values["start_date"], values.get("end_date"), other.start_date, other.end_date):
            return other
    return None


def authorisation_problems(
    values: dict[str, Any], *, used: int = 0, editing: bool = False
) -> dict[str, str]:
    """What is wrong with an authorisation as entered. `used`: units its days already
    took (an edit may not go below them)."""
    problems: dict[str, str] = {}
    coverage: Coverage | None = values.get("coverage")
    start, end = values.get("start_date"), values.get("end_date")
    units = values.get("units")
    if coverage is None:
        problems["coverage"] = "Choose the insurance that authorised it."
    elif coverage.voided:
        problems["coverage"] = "That coverage was voided."
    elif coverage.kind != CoverageKind.INSURANCE or coverage.payer_id is None:
        problems["coverage"] = (
            "An authorisation belongs to an insurance with a payer, not self-pay."
        )
    if units is not None and not 1 <= units <= MAX_UNITS:
        problems["units"] = f"Between 1 and {MAX_UNITS} units."
    if start and end and end < start:
        problems["end_date"] = "The authorisation ends before it starts."
    if coverage is not None and "coverage" not in problems and start and end:
        if start < coverage.start_date:
            problems["start_date"] = (
                f"The coverage starts on {coverage.start_date:%Y-%m-%d}: an authorisation "
                "falls inside its coverage's dates."
            )
        if coverage.end_date is not None and end > coverage.end_date:
            problems["end_date"] = (
                f"The coverage ends on {coverage.end_date:%Y-%m-%d}: an authorisation falls "
                "inside its coverage's dates."
            )
    if editing and units is not None and units < used and "units" not in problems:
        problems["units"] = (
            f"{used} units are already used by days of service: the authorisation cannot "
            f"have fewer than {used}."
        )
    review = values.get("next_review_on")
    if review and start and review < start:
        problems["next_review_on"] = "The next review cannot be before the authorisation starts."
    return problems


@dataclass(frozen=True)
class Renewal:
    """What a renewal of `previous` starts with."""

    start_date: dt.date
    end_date: dt.date
    units: int


def renewal_of(previous: Authorisation, *, today: dt.date) -> Renewal:
    """A renewal continues the authorisation: it starts the day after it ends (today when
    that day has passed), for as many days and units, inside the coverage's dates."""
    start = max(previous.end_date + dt.timedelta(days=1), today)
    length = (previous.end_date - previous.start_date).days
    end = start + dt.timedelta(days=length)
    coverage_end = previous.coverage.end_date
    if coverage_end is not None and end > coverage_end:
        end = max(coverage_end, start)
    return Renewal(start, end, previous.units)


def chains(authorisations: Sequence[Authorisation]) -> list[list[Authorisation]]:
    """Authorisations grouped by renewal: each chain starts with one that renews nothing
    shown here, followed by its renewals in order. Chains newest first."""
    by_id = {a.pk: a for a in authorisations}
    children: dict[int, list[Authorisation]] = {}
    roots = []
    for auth in authorisations:
        if auth.renews_id is not None and auth.renews_id in by_id:
            children.setdefault(auth.renews_id, []).append(auth)
        else:
            roots.append(auth)
    out = []
    for root in roots:
        chain, todo = [], [root]
        while todo:
            node = todo.pop(0)
            chain.append(node)
            todo = sorted(children.get(node.pk, []), key=lambda a: (a.start_date, a.pk)) + todo
        out.append(chain)
    out.sort(key=lambda c: (max(a.end_date for a in c), c[0].pk), reverse=True)
    return out


# --- saving ---------------------------------------------------------------------------------


def _others(participant: Participant, exclude: int | None = None) -> list[Coverage]:
    qs = Coverage.objects.filter(participant=participant, voided=False).select_related("payer")
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return list(qs)


def _lock_participant(participant: Participant) -> None:
    """Serialise changes to one participant's coverage (the overlap rule reads others)."""
    Participant.objects.select_for_update().filter(pk=participant.pk).first()


def _verification(coverage: Coverage, verified: bool, actor: Any, today: dt.date) -> None:
    if not verified:
        coverage.verified_on, coverage.verified_by_name = None, ""
    elif coverage.verified_on is None:
        coverage.verified_on = today
        coverage.verified_by_name = (actor.get_full_name() or actor.username)[:200]


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise CoverageError(" ".join(problems.values()))


def create_coverage(
    participant: Participant,
    *,
    actor: Any,
    values: dict[str, Any],
    verified: bool,
    full_fee: bool,
    today: dt.date,
) -> Coverage:
    with transaction.atomic():
        _lock_participant(participant)
        _refuse(
            coverage_problems(values, others=_others(participant), full_fee=full_fee, today=today)
        )
        coverage = Coverage(participant=participant, created_by=actor, updated_by=actor)
        for name in COVERAGE_FIELDS:
            setattr(coverage, name, values.get(name))
        _clean_kind(coverage)
        _verification(coverage, verified, actor, today)
        coverage.save()
        audit.record(AuditAction.CREATE, actor=actor, obj=coverage)
    return coverage


def _clean_kind(coverage: Coverage) -> None:
    """Fields of the other kind are not kept (self-pay has no member id; insurance no
    household)."""
    for name in ("member_id", "group_number", "plan_name", *SUBSCRIBER_FIELDS):
        if getattr(coverage, name) is None:
            setattr(coverage, name, "" if name != "subscriber_date_of_birth" else None)
    if coverage.kind == CoverageKind.SELF_PAY:
        coverage.payer = None
        coverage.relationship = Relationship.SELF
        for name in ("member_id", "group_number", "plan_name", *SUBSCRIBER_FIELDS):
            setattr(coverage, name, None if name == "subscriber_date_of_birth" else "")
    else:
        coverage.household_size = coverage.annual_income = None
        if coverage.relationship == Relationship.SELF:
            for name in SUBSCRIBER_FIELDS:
                setattr(coverage, name, None if name == "subscriber_date_of_birth" else "")
    if not coverage.subscriber_sex:
        coverage.subscriber_sex = ""
    if not coverage.patient_sex:
        coverage.patient_sex = "U"


AUDITED_COVERAGE = [*COVERAGE_FIELDS, "verified_on", "verified_by_name"]


def change_coverage(
    coverage: Coverage,
    *,
    actor: Any,
    values: dict[str, Any],
    verified: bool,
    full_fee: bool,
    today: dt.date,
    expected_version: int,
) -> Coverage:
    with transaction.atomic():
        _lock_participant(coverage.participant)
        current = lock_for_edit(Coverage, coverage.pk, expected_version, what="coverage")
        if current.voided:
            raise CoverageError("This coverage was voided: it is kept as it was.")
        others = _others(current.participant, exclude=current.pk)
        _refuse(
            coverage_problems(
                values,
                others=others,
                full_fee=full_fee,
                today=today,
                keep_payer_id=current.payer_id,
            )
        )
        if (
            current.kind != values.get("kind")
            and Authorisation.objects.filter(coverage=current, voided=False).exists()
        ):
            raise CoverageError(
                "Authorisations belong to this insurance: void them before making it self-pay."
            )
        before = audit.snapshot(current, AUDITED_COVERAGE)
        for name in COVERAGE_FIELDS:
            setattr(current, name, values.get(name))
        _clean_kind(current)
        _verification(current, verified, actor, today)
        changes = audit.diff(before, audit.snapshot(current, AUDITED_COVERAGE))
        save_change(current, actor=actor, fields=AUDITED_COVERAGE, changes=changes)
    return current


def _void(record: Any, *, actor: Any, reason: str) -> None:
    record.voided = True
    record.voided_at = timezone.now()
    record.voided_by = actor
    record.void_reason = reason[:500]
    record.version += 1
    record.updated_by = actor
    record.updated_at = timezone.now()
    record.save(
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
    audit.record(AuditAction.VOID, actor=actor, obj=record, reason=reason[:500])


def void_coverage(coverage: Coverage, *, actor: Any, reason: str, expected_version: int) -> None:
    reason = reason.strip()
    if not reason:
        raise CoverageError("Say why the coverage is voided.")
    with transaction.atomic():
        current = lock_for_edit(Coverage, coverage.pk, expected_version, what="coverage")
        if current.voided:
            raise CoverageError("This coverage was already voided.")
        live = list(
            Authorisation.objects.filter(coverage=current, voided=False).values_list(
                "reference_number", flat=True
            )
        )
        if live:
            raise CoverageError(
                "Authorisations of this coverage are not voided: "
                f"{', '.join(live)}. Void them first."
            )
        from .choices import OPEN_CLAIM_STATUSES
        from .models import Claim

        claims = list(
            Claim.objects.filter(
                coverage=current, voided=False, status__in=sorted(OPEN_CLAIM_STATUSES)
            ).values_list("number", flat=True)[:5]
        )
        if claims:
            raise CoverageError(
                f"Open claims bill this coverage: {', '.join(claims)}. Void or settle them first."
            )
        _void(current, actor=actor, reason=reason)


def create_authorisation(
    participant: Participant,
    *,
    actor: Any,
    values: dict[str, Any],
    renews: Authorisation | None = None,
) -> Authorisation:
    episode_id = participant.current_episode_id
    if episode_id is None:
        raise CoverageError("The participant has no episode of care to authorise.")
    with transaction.atomic():
        _lock_participant(participant)
        coverage = Coverage.objects.filter(
            pk=values["coverage"].pk, participant=participant
        ).first()
        values = {**values, "coverage": coverage}
        _refuse(authorisation_problems(values))
        if renews is not None:
            renews = Authorisation.objects.select_for_update().get(pk=renews.pk)
            if renews.voided:
                raise CoverageError("The authorisation to renew was voided.")
            already = Authorisation.objects.filter(renews=renews, voided=False).first()
            if already is not None:
                raise CoverageError(
                    f"{renews.reference_number} was already renewed by "
                    f"{already.reference_number}."
                )
        auth = Authorisation(
            participant=participant,
            episode_id=episode_id,
            renews=renews,
            created_by=actor,
            updated_by=actor,
        )
        for name in AUTHORISATION_FIELDS:
            setattr(auth, name, values.get(name))
        auth.reviewer = auth.reviewer or ""
        auth.notes = auth.notes or ""
        auth.save()
        audit.record(
            AuditAction.CREATE,
            actor=actor,
            obj=auth,
            reason=f"renews {renews.reference_number}" if renews else "",
        )
    return auth


def change_authorisation(
    auth: Authorisation,
    *,
    actor: Any,
    values: dict[str, Any],
    used: int,
    expected_version: int,
) -> Authorisation:
    with transaction.atomic():
        current = lock_for_edit(Authorisation, auth.pk, expected_version, what="authorisation")
        if current.voided:
            raise CoverageError("This authorisation was voided: it is kept as it was.")
        coverage = Coverage.objects.filter(
            pk=values["coverage"].pk, participant_id=current.participant_id
        ).first()
        values = {**values, "coverage": coverage}
        _refuse(authorisation_problems(values, used=used, editing=True))
        before = audit.snapshot(current, AUTHORISATION_FIELDS)
        for name in AUTHORISATION_FIELDS:
            setattr(current, name, values.get(name))
        current.reviewer = current.reviewer or ""
        current.notes = current.notes or ""
        changes = audit.diff(before, audit.snapshot(current, AUTHORISATION_FIELDS))
        save_change(current, actor=actor, fields=AUTHORISATION_FIELDS, changes=changes)
    return current


def void_authorisation(
    auth: Authorisation, *, actor: Any, reason: str, expected_version: int
) -> None:
    reason = reason.strip()
    if not reason:
        raise CoverageError("Say why the authorisation is voided.")
    with transaction.atomic():
        current = lock_for_edit(Authorisation, auth.pk, expected_version, what="authorisation")
        if current.voided:
            raise CoverageError("This authorisation was already voided.")
        _void(current, actor=actor, reason=reason)


__all__ = [
    "FULL_FEE",
    "CoverageError",
    "Payer",
    "StaleEdit",
    "authorisation_problems",
    "chains",
    "coverage_problems",
    "renewal_of",
]
