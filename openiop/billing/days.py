"""Billable days: which days of service can be billed, and why each one can or cannot.

A **service day** is a day a participant attended at least one session of the program.
It is **billable** when (issue 11, point 3):

* the minutes attended that day reach the program's billable minimum (H0015 is a day of
  at least 3 hours, DOMAIN.md §6.1 — `BillingProfile.billable_minimum_minutes`), and
* every session attended that day has a signed note (co-signed where the note needs it).

A billable day is **claimable** when nothing stands between it and the payer: primary
coverage in force, an authorisation with units left (where the payer asks for one), a
diagnosis on the episode, a consent that lets the program tell the payer (42 CFR Part 2:
a claim is a disclosure for payment, DOMAIN.md §2), telehealth paid when the day was by
telehealth, and not already on a claim. Everything that stands in the way is a **risk**
(`choices.Risk`), listed with the day.

**Authorisations are counted** from service days that reach the minimum, whether or not
their notes are signed yet: the payer will be billed for a day once its note is signed,
so a day waiting for a signature already uses its unit. Days are given to
authorisations in date order; each day goes to the earliest-starting authorisation of
the day's coverage that covers the date and has units left, so a renewal that overlaps
the authorisation it continues takes over when that one runs out (`allocate`).

Everything is read in a fixed number of queries, whatever the number of days: pages
built on this module keep their query counts flat as the record grows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from openiop.attendance.choices import ATTENDED, AttendanceStatus
from openiop.attendance.models import Attendance
from openiop.intake.models import Diagnosis
from openiop.notes.choices import NoteStatus
from openiop.notes.models import Note
from openiop.programs.choices import Modality
from openiop.scheduling.choices import SessionStatus

from . import sliding
from .choices import CoverageKind, PlaceOfService, Risk
from .models import Authorisation, BillingProfile, ClaimLine, Coverage, SlidingFeeTier

# Warn this many days before a payer's filing limit (timely filing) runs out.
FILING_WARNING_DAYS = 14


class NoteState:
    SIGNED = "signed"
    COSIGN = "cosign"  # signed, waiting for the supervisor's co-signature
    UNSIGNED = "unsigned"  # a draft
    MISSING = "missing"


NOTE_LABELS = {
    NoteState.SIGNED: "note signed",
    NoteState.COSIGN: "note awaits co-signature",
    NoteState.UNSIGNED: "note not signed",
    NoteState.MISSING: "no note",
}
NOTE_RISK = {
    NoteState.COSIGN: Risk.NOTE_COSIGN,
    NoteState.UNSIGNED: Risk.NOTE_UNSIGNED,
    NoteState.MISSING: Risk.NOTE_MISSING,
}


@dataclass(frozen=True)
class SessionPart:
    session_id: int
    title: str
    starts_at: dt.datetime
    minutes: int
    telehealth: bool
    note: str  # NoteState
    note_id: int | None = None

    @property
    def note_label(self) -> str:
        return NOTE_LABELS[self.note]


# --- the rules, as pure functions --------------------------------------------------------


def note_state(notes: Iterable[tuple[str, bool, bool]]) -> str:
    """The state of a session's documentation for one participant, from its notes as
    (status, co-signature required, co-signed) — the best of them counts."""
    states = set()
    for status, cosign_required, cosigned in notes:
        if status == NoteStatus.SIGNED:
            states.add(NoteState.COSIGN if cosign_required and not cosigned else NoteState.SIGNED)
        else:
            states.add(NoteState.UNSIGNED)
    for state in (NoteState.SIGNED, NoteState.COSIGN, NoteState.UNSIGNED):
        if state in states:
            return state
    return NoteState.MISSING


def day_verdict(
    minutes: int, minimum: int, parts: Sequence[SessionPart]
) -> tuple[bool, list[tuple[str, str]], str]:
    """(billable, note risks, why) for one service day."""
    risks: list[tuple[str, str]] = []
    for part in parts:
        if part.note != NoteState.SIGNED:
            risks.append(
                (NOTE_RISK[part.note], f"{part.title} at {part.starts_at:%H:%M}: {part.note_label}")
            )
    meets = minutes >= minimum
    if not meets:
        why = f"Not billable: {minutes} minutes attended, the minimum is {minimum}."
    elif risks:
        why = "Not billable yet: " + "; ".join(message for _, message in risks) + "."
    else:
        why = f"Billable: {minutes} minutes attended (minimum {minimum}) and every note signed."
    return meets and not risks, risks, why


def modifiers_and_place(
    telehealth: bool, *, in_person_place: str, at_home: bool, telehealth_modifier: str
) -> tuple[list[str], str]:
    """Procedure modifiers and place of service of a day (DOMAIN.md §6.3): a telehealth
    day carries the payer's telehealth modifier (95, or GT where the payer still asks for
    it) and place of service 10 (patient at home) or 02 (elsewhere); an in-person day
    has no modifier and the program's own place of service."""
    if not telehealth:
        return [], in_person_place
    place = PlaceOfService.TELEHEALTH_HOME if at_home else PlaceOfService.TELEHEALTH_OTHER
    return [telehealth_modifier], str(place)


def day_is_telehealth(parts: Sequence[SessionPart]) -> bool:
    """A day is billed as telehealth when every session attended was by telehealth; a day
    with any in-person session is an in-person day."""
    return bool(parts) and all(part.telehealth for part in parts)


@dataclass(frozen=True)
class AuthSlot:
    """What `allocate` needs of an authorisation."""

    id: int
    coverage_id: int
    start: dt.date
    end: dt.date
    units: int


@dataclass(frozen=True)
class Allocation:
    authorisation_id: int | None
    risk: str | None  # Risk.NO_AUTH / Risk.AUTH_EXHAUSTED when no authorisation took it


def allocate(
    days: Iterable[tuple[Any, dt.date, int, int]], slots: Iterable[AuthSlot]
) -> tuple[dict[Any, Allocation], dict[int, int]]:
    """Give days to authorisations. `days` are (key, date, coverage id, units the day
    uses); returns each key's allocation and the units used of each authorisation.

    Days go in date order (then key order) to the earliest-starting authorisation of the
    same coverage that covers the date and still has the units; a day no authorisation
    covers is NO_AUTH, a day only full ones cover is AUTH_EXHAUSTED."""
    by_coverage: dict[int, list[AuthSlot]] = defaultdict(list)
    for slot in slots:
        by_coverage[slot.coverage_id].append(slot)
    for group in by_coverage.values():
        group.sort(key=lambda s: (s.start, s.id))
    used: dict[int, int] = {slot.id: 0 for group in by_coverage.values() for slot in group}
    out: dict[Any, Allocation] = {}
    for key, day, coverage_id, units in sorted(days, key=lambda d: (d[1], str(d[0]))):
        covering = [s for s in by_coverage.get(coverage_id, []) if s.start <= day <= s.end]
        chosen = next((s for s in covering if used[s.id] + units <= s.units), None)
        if chosen is not None:
            used[chosen.id] += units
            out[key] = Allocation(chosen.id, None)
        else:
            out[key] = Allocation(None, Risk.AUTH_EXHAUSTED if covering else Risk.NO_AUTH)
    return out, used


def primary_coverage(
    coverages: Sequence[Coverage], day: dt.date
) -> tuple[Coverage | None, str | None, str]:
    """The coverage that pays for a day: the highest-priority insurance in force, else a
    self-pay arrangement in force. (coverage, risk, message)."""
    live = [c for c in coverages if not c.voided]
    in_force = sorted((c for c in live if c.in_force(day)), key=lambda c: (c.priority, c.pk))
    insurance = [c for c in in_force if c.kind == CoverageKind.INSURANCE]
    if insurance:
        return insurance[0], None, ""
    self_pay = [c for c in in_force if c.kind == CoverageKind.SELF_PAY]
    if self_pay:
        return self_pay[0], None, ""
    ended = [c for c in live if c.end_date is not None and c.end_date < day]
    if ended:
        last = max(ended, key=lambda c: c.end_date or day)
        return None, Risk.COVERAGE_ENDED, f"{last} ended on {last.end_date:%Y-%m-%d}"
    later = [c for c in live if c.start_date > day]
    if later:
        first = min(later, key=lambda c: c.start_date)
        return None, Risk.NO_COVERAGE, f"{first} starts on {first.start_date:%Y-%m-%d}"
    return None, Risk.NO_COVERAGE, "No coverage on file"


# --- reading the record ------------------------------------------------------------------


@dataclass
class ServiceDay:
    participant_id: int
    episode_id: int
    day: dt.date
    participant: Any = None
    parts: list[SessionPart] = field(default_factory=list)
    minutes: int = 0
    meets_minimum: bool = False
    billable: bool = False
    telehealth: bool = False
    why: str = ""
    coverage: Coverage | None = None
    authorisation: Authorisation | None = None
    risks: list[tuple[str, str]] = field(default_factory=list)
    claim_number: str = ""
    claim_id: int | None = None
    service_code: str = ""
    modifiers: list[str] = field(default_factory=list)
    place_of_service: str = ""
    units: int = 0
    charge: Decimal = Decimal("0")
    self_pay_fee: Decimal | None = None

    @property
    def key(self) -> tuple[int, dt.date]:
        return (self.episode_id, self.day)

    @property
    def payer(self) -> Any:
        return self.coverage.payer if self.coverage is not None else None

    @property
    def self_pay(self) -> bool:
        return self.coverage is not None and self.coverage.kind == CoverageKind.SELF_PAY

    @property
    def claimed(self) -> bool:
        return self.claim_id is not None

    @property
    def claimable(self) -> bool:
        """Ready to go on a claim: billable, to a payer, nothing in the way, not claimed."""
        return (
            self.billable
            and self.payer is not None
            and not self.self_pay
            and not self.claimed
            and not [r for r, _ in self.risks if r != Risk.FILING_LIMIT]
        )

    @property
    def other_risks(self) -> list[tuple[str, str]]:
        """Risks besides the notes (which `why` already names)."""
        notes = set(NOTE_RISK.values())
        return [(code, message) for code, message in self.risks if code not in notes]

    @property
    def risk_codes(self) -> list[str]:
        return [code for code, _ in self.risks]


def profile_for(program: Any) -> BillingProfile | None:
    return BillingProfile.objects.filter(program=program).first()


def _attended(program: Any) -> Any:
    return Attendance.objects.filter(
        voided=False,
        status__in=sorted(ATTENDED),
        session__program=program,
        session__voided=False,
    ).exclude(session__status=SessionStatus.CANCELLED)


def _telehealth(status: str, modality: str) -> bool:
    return status == AttendanceStatus.TELEHEALTH or modality == Modality.TELEHEALTH


def service_days(
    program: Any,
    start: dt.date,
    end: dt.date,
    *,
    today: dt.date,
    participant_ids: Iterable[int] | None = None,
    profile: BillingProfile | None = None,
) -> list[ServiceDay]:
    """Every service day of the program's participants from `start` to `end`, with its
    verdict, coverage, authorisation, code, modifiers, place, units, charge and risks;
    in date order, then by participant. A program without a billing profile has none."""
    profile = profile or profile_for(program)
    if profile is None:
        return []
    ids = list(participant_ids) if participant_ids is not None else None

    rows = _attended(program).filter(session__date__gte=start, session__date__lte=end)
    if ids is not None:
        rows = rows.filter(participant_id__in=ids)
    rows = rows.select_related("session", "participant").order_by(
        "session__date", "session__starts_at", "pk"
    )
    grouped: dict[tuple[int, dt.date], list[Attendance]] = defaultdict(list)
    for row in rows:
        grouped[(row.episode_id, row.session.date)].append(row)
    if not grouped:
        return []
    episode_ids = {key[0] for key in grouped}
    participants = {row.participant_id: row.participant for g in grouped.values() for row in g}

    # Notes of the sessions attended, per (session, episode).
    session_ids = {row.session_id for g in grouped.values() for row in g}
    notes: dict[tuple[int, int], list[tuple[str, bool, bool]]] = defaultdict(list)
    note_ids: dict[tuple[int, int], int] = {}
    for note in Note.objects.filter(
        session_id__in=session_ids, episode_id__in=episode_ids, voided=False
    ).values("pk", "session_id", "episode_id", "status", "cosign_required", "cosigned_at"):
        key = (note["session_id"], note["episode_id"])
        notes[key].append(
            (note["status"], note["cosign_required"], note["cosigned_at"] is not None)
        )
        if note["status"] == NoteStatus.SIGNED or key not in note_ids:
            note_ids[key] = note["pk"]

    days: list[ServiceDay] = []
    for (episode_id, day), group in grouped.items():
        parts = [
            SessionPart(
                session_id=row.session_id,
                title=row.session.title,
                starts_at=timezone.localtime(row.session.starts_at, program.tz),
                minutes=row.minutes_attended,
                telehealth=_telehealth(row.status, row.session.modality),
                note=note_state(notes.get((row.session_id, episode_id), [])),
                note_id=note_ids.get((row.session_id, episode_id)),
            )
            for row in group
        ]
        minutes = sum(part.minutes for part in parts)
        billable, note_risks, why = day_verdict(minutes, profile.billable_minimum_minutes, parts)
        days.append(
            ServiceDay(
                participant_id=group[0].participant_id,
                episode_id=episode_id,
                day=day,
                participant=participants[group[0].participant_id],
                parts=parts,
                minutes=minutes,
                meets_minimum=minutes >= profile.billable_minimum_minutes,
                billable=billable,
                telehealth=day_is_telehealth(parts),
                why=why,
                risks=list(note_risks),
            )
        )
    _add_payer_facts(program, profile, days, start, today=today)
    days.sort(key=lambda d: (d.day, d.participant.legal_last_name, d.participant_id))
    return days


def _add_payer_facts(
    program: Any, profile: BillingProfile, days: list[ServiceDay], start: dt.date, *, today
) -> None:
    """Coverage, authorisation, diagnosis, consent, claim, codes and charge of each day."""
    from openiop.privacy import gate
    from openiop.privacy.choices import Channel, InfoCategory, Purpose, RecipientKind

    participant_ids = {d.participant_id for d in days}
    episode_ids = {d.episode_id for d in days}
    coverages: dict[int, list[Coverage]] = defaultdict(list)
    for cov in Coverage.objects.filter(
        participant_id__in=participant_ids, voided=False
    ).select_related("payer"):
        coverages[cov.participant_id].append(cov)
    auths = list(
        Authorisation.objects.filter(
            episode_id__in=episode_ids, voided=False, service_code=profile.service_code
        )
    )
    auth_by_id = {a.pk: a for a in auths}
    diagnosed = set(
        Diagnosis.objects.filter(episode_id__in=episode_ids, voided=False).values_list(
            "episode_id", flat=True
        )
    )
    claimed = {
        (line["participant_id"], line["service_date"]): (line["claim_id"], line["claim__number"])
        for line in ClaimLine.objects.filter(
            participant_id__in=participant_ids,
            service_date__gte=min(d.day for d in days),
            service_date__lte=max(d.day for d in days),
            claim__voided=False,
        ).values("participant_id", "service_date", "claim_id", "claim__number")
    }
    tiers = list(SlidingFeeTier.objects.filter(program=program, retired=False))

    # Days before `start` also use units of authorisations that run into the period.
    earliest = min([a.start_date for a in auths] + [start])
    earlier: list[tuple[Any, dt.date, int, int]] = []
    minimum = profile.billable_minimum_minutes
    for row in (
        _attended(program)
        .filter(episode_id__in=episode_ids, session__date__gte=earliest, session__date__lt=start)
        .values("episode_id", "participant_id", "session__date")
        .annotate(minutes=Sum("minutes_attended"))
        .filter(minutes__gte=minimum)
        .order_by()
    ):
        day = row["session__date"]
        coverage, _, _ = primary_coverage(coverages[row["participant_id"]], day)
        if coverage is not None and coverage.kind == CoverageKind.INSURANCE:
            units = coverage.payer.units_per_day if coverage.payer else 1
            earlier.append(((row["episode_id"], day), day, coverage.pk, units))

    for d in days:
        coverage, risk, message = primary_coverage(coverages[d.participant_id], d.day)
        d.coverage = coverage
        if risk:
            d.risks.append((risk, message))
    needing = [
        (d.key, d.day, d.coverage.pk, d.coverage.payer.units_per_day)
        for d in days
        if d.meets_minimum
        and d.coverage is not None
        and d.coverage.kind == CoverageKind.INSURANCE
        and d.coverage.payer is not None
        and d.coverage.payer.requires_authorisation
    ]
    slots = [AuthSlot(a.pk, a.coverage_id, a.start_date, a.end_date, a.units) for a in auths]
    allocation, _ = allocate(earlier + needing, slots)

    decisions: dict[tuple[int, int], gate.Decision] = {}
    insured = [d for d in days if d.payer is not None and not d.self_pay]
    requests: dict[tuple[int, int], gate.DisclosureRequest] = {}
    for d in insured:
        requests.setdefault(
            (d.participant_id, d.payer.pk),
            gate.DisclosureRequest(
                participant=d.participant,
                recipient_kind=RecipientKind.PAYER,
                recipient_name=d.payer.name,
                purpose=Purpose.PAYMENT,
                information=(
                    InfoCategory.ENROLMENT,
                    InfoCategory.ATTENDANCE,
                    InfoCategory.DIAGNOSIS,
                ),
                channel=Channel.EXPORT,
                description="Claim for payment",
            ),
        )
    if requests:
        keys = list(requests)
        answers = gate.check_many([requests[k] for k in keys], on=today)
        decisions = dict(zip(keys, answers, strict=True))

    for d in days:
        d.service_code = profile.service_code
        if d.self_pay and d.coverage is not None:
            d.self_pay_fee = sliding.fee_per_day(profile, tiers, d.coverage)
        payer = d.payer if not d.self_pay else None
        modifier = payer.telehealth_modifier if payer is not None else "95"
        d.modifiers, d.place_of_service = modifiers_and_place(
            d.telehealth,
            in_person_place=profile.place_of_service,
            at_home=profile.telehealth_at_home,
            telehealth_modifier=modifier,
        )
        d.units = payer.units_per_day if payer is not None else 1
        d.charge = Decimal(profile.daily_charge)
        if (d.participant_id, d.day) in claimed:
            d.claim_id, d.claim_number = claimed[(d.participant_id, d.day)]
        if d.episode_id not in diagnosed:
            d.risks.append((Risk.NO_DIAGNOSIS, "No diagnosis recorded on the episode"))
        if payer is None:
            continue
        if d.telehealth and not payer.covers_telehealth:
            d.risks.append(
                (Risk.TELEHEALTH_NOT_COVERED, f"{payer} does not pay program days by telehealth")
            )
        if d.meets_minimum and payer.requires_authorisation:
            alloc = allocation.get(d.key)
            if alloc is not None and alloc.authorisation_id is not None:
                d.authorisation = auth_by_id[alloc.authorisation_id]
            elif alloc is not None and alloc.risk == Risk.AUTH_EXHAUSTED:
                message = f"Every {payer} authorisation for the day is used up"
                d.risks.append((Risk.AUTH_EXHAUSTED, message))
            else:
                message = f"No {payer} authorisation covers {d.day:%Y-%m-%d}"
                d.risks.append((Risk.NO_AUTH, message))
        verdict = decisions.get((d.participant_id, payer.pk))
        if verdict is not None and not verdict.allowed:
            message = f"No consent in force lets the program tell {payer} (42 CFR Part 2)"
            d.risks.append((Risk.NO_CONSENT, message))
        if d.billable and not d.claimed:
            deadline = d.day + dt.timedelta(days=payer.timely_filing_days)
            if (deadline - today).days <= FILING_WARNING_DAYS:
                passed = "passed" if deadline < today else "falls"
                message = f"{payer}'s filing deadline {passed} on {deadline:%Y-%m-%d}"
                d.risks.append((Risk.FILING_LIMIT, message))


# --- authorisations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    authorisation: Authorisation
    used: int
    remaining: int
    days_to_end: int
    alerts: tuple[str, ...]

    @property
    def percent_used(self) -> int:
        units = self.authorisation.units
        return min(100, round(100 * self.used / units)) if units else 100


def authorisation_usage(
    authorisations: Sequence[Authorisation],
    *,
    today: dt.date,
    profile: BillingProfile | None = None,
) -> dict[int, Usage]:
    """Units used and left of each authorisation, and its alerts (few units left, end
    date or concurrent review near), counted as `service_days` counts them. Reads the
    authorisations' episodes' attendance in four queries, whatever their number."""
    auths = [a for a in authorisations if not a.voided]
    if not auths:
        return {}
    episode_ids = {a.episode_id for a in auths}
    if profile is None:
        first = auths[0]
        profile = BillingProfile.objects.filter(program_id=first.episode.program_id).first()
    minimum = profile.billable_minimum_minutes if profile else 180
    remaining_alert = profile.alert_remaining_days if profile else 3
    end_alert = profile.alert_end_days if profile else 5
    all_auths = list(
        Authorisation.objects.filter(episode_id__in=episode_ids, voided=False).select_related(
            "coverage__payer"
        )
    )
    participant_ids = {a.participant_id for a in all_auths}
    coverages: dict[int, list[Coverage]] = defaultdict(list)
    for cov in Coverage.objects.filter(
        participant_id__in=participant_ids, voided=False
    ).select_related("payer"):
        coverages[cov.participant_id].append(cov)
    lo = min(a.start_date for a in all_auths)
    hi = max(a.end_date for a in all_auths)
    days = []
    for row in (
        Attendance.objects.filter(
            voided=False,
            status__in=sorted(ATTENDED),
            episode_id__in=episode_ids,
            session__voided=False,
            session__date__gte=lo,
            session__date__lte=hi,
        )
        .exclude(session__status=SessionStatus.CANCELLED)
        .values("episode_id", "participant_id", "session__date")
        .annotate(minutes=Sum("minutes_attended"))
        .filter(minutes__gte=minimum)
        .order_by()
    ):
        day = row["session__date"]
        coverage, _, _ = primary_coverage(coverages[row["participant_id"]], day)
        if coverage is not None and coverage.kind == CoverageKind.INSURANCE and coverage.payer:
            days.append(((row["episode_id"], day), day, coverage.pk, coverage.payer.units_per_day))
    slots = [
        AuthSlot(a.pk, a.coverage_id, a.start_date, a.end_date, a.units)
        for a in all_auths
        if profile is None or a.service_code == profile.service_code
    ]
    _, used = allocate(days, slots)
    out = {}
    for auth in auths:
        spent = used.get(auth.pk, 0)
        remaining = max(0, auth.units - spent)
        to_end = (auth.end_date - today).days
        alerts = []
        if auth.end_date >= today:
            if remaining <= remaining_alert:
                alerts.append(
                    "No units left"
                    if remaining == 0
                    else f"Only {remaining} unit{'s' if remaining != 1 else ''} left"
                )
            if to_end <= end_alert:
                alerts.append("Ends today" if to_end == 0 else f"Ends in {to_end} days")
            if auth.next_review_on is not None and (auth.next_review_on - today).days <= end_alert:
                overdue = auth.next_review_on < today
                alerts.append(
                    f"Concurrent review {'was due' if overdue else 'due'} "
                    f"{auth.next_review_on:%Y-%m-%d}"
                )
        out[auth.pk] = Usage(auth, spent, remaining, to_end, tuple(alerts))
    return out


def live_authorisations(program: Any, today: dt.date, participant_ids: Any = None) -> Any:
    """Authorisations of the program in force today or starting later (not voided)."""
    qs = Authorisation.objects.filter(
        voided=False, episode__program=program, end_date__gte=today
    ).select_related("coverage__payer", "participant", "episode")
    if participant_ids is not None:
        qs = qs.filter(participant_id__in=participant_ids)
    return qs.order_by("end_date", "pk")
