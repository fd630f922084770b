"""Random selection for drug screening: who is tested today, fairly and verifiably
(issue 7, point 3; DOMAIN.md §5.6).

How a day is drawn
------------------
Each program day the worker (`jobs.py`) takes a fresh 256-bit seed from the operating
system's CSPRNG (`secrets.token_bytes`). For every participant in the pool, identified by
the neutral episode id, it computes

    HMAC-SHA256(key=seed, msg="hmac-sha256-bernoulli-v1|<day>|<episode id>")

reads the first 8 bytes as a fraction u in [0, 1) and selects the participant when
u < p, where p = the policy's random rate ÷ program days per week.

Why this is fair
----------------
DOMAIN.md §5.6 (49 CFR 382.305(i), the model the issue asks us to copy): a scientifically
valid method, a computer random-number generator matched to a neutral id, and *every
person in the pool has an equal chance of selection each time a draw is made*.

* Same chance for everyone: HMAC-SHA256 keyed with a secret uniformly random key behaves
  as a random function, so each participant's u is uniform and the chance of selection is
  ceil(p·2⁶⁴)/2⁶⁴ — p to within 2⁻⁶⁴ — for every eligible participant alike. The message
  holds only the method, the day and the episode id: nothing about the person.
* Independent of past selections: each participant's draw is a separate Bernoulli trial
  (no quota, no "without replacement"), and each day has its own fresh seed, so whether
  someone was picked yesterday — or last week — changes nothing today. A selected person
  stays in the pool (DOMAIN.md §5.6: independent draws).
* Independent of the weekday: p is the same on every program day.
* Independent of anything staff can see: the seed comes from the CSPRNG at draw time and
  stays secret until the day is over; no input a person can choose or observe (names,
  results, attendance) enters the computation, and staff cannot hand-pick (for-cause tests
  are a separate, documented order type).

Verifiable
----------
Before the list exists, the seed's SHA-256 (and a hash of the pool) is written to the
audit log, in the same transaction as the draw. After the day the seed is revealed, and
`verify` re-derives the selection from the seed and the recorded pool: a seed or pool
changed afterwards no longer matches the audit log. DOMAIN.md §5.6: log the pool snapshot,
method, seed and who ran it; results of a draw must be reproducible from the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.core import audit
from openiop.core.choices import AuditAction
from openiop.core.models import AuditEvent
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.scheduling.choices import SessionKind, SessionStatus
from openiop.scheduling.enrolment import (
    bookings_for_sessions,
    enrolments_for_tracks,
    expected_episodes,
)
from openiop.scheduling.models import Session

from . import services
from .choices import OrderReason, OrderStatus
from .models import Order, ScreeningPolicy, SelectionDay

METHOD = "hmac-sha256-bernoulli-v1"
SEED_BYTES = 32
# The audit event of a draw: found again by program and day, whatever the row says.
AUDIT_TYPE = "screening.selectionday"
_SCALE = 2**64
# SelectionDay.probability keeps six decimals: the draw uses exactly what is stored.
_PROBABILITY_PLACES = Decimal("0.000001")


# --- the selection rule (pure) --------------------------------------------------------


def draw_value(seed: bytes, day: dt.date, episode_id: int) -> int:
    """The participant's 64-bit draw for the day: HMAC-SHA256 read as an integer in
    [0, 2⁶⁴). Divided by 2⁶⁴ it is a uniform fraction."""
    message = f"{METHOD}|{day.isoformat()}|{int(episode_id)}".encode()
    digest = hmac.new(seed, message, hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big")


def derive(seed: bytes, day: dt.date, eligible: list[int], probability: Decimal) -> list[int]:
    """The episode ids selected on `day` from `eligible`: each picked independently when
    its draw, as a fraction of 2⁶⁴, is below `probability` (see the module doc for why
    every eligible participant has the same chance). Pure: same inputs, same answer."""
    # Exact comparison: value / 2**64 < p  <=>  value < p * 2**64 (no float rounding).
    threshold = Fraction(probability) * _SCALE
    return sorted({int(e) for e in eligible if draw_value(seed, day, int(e)) < threshold})


def seed_hash(seed: bytes) -> str:
    return hashlib.sha256(seed).hexdigest()


def pool_hash(eligible: Iterable[int]) -> str:
    """SHA-256 of the pool as sorted JSON, written to the audit log with the draw."""
    canonical = json.dumps(sorted(int(e) for e in eligible), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def probability_for(policy: ScreeningPolicy) -> Decimal:
    """The policy's chance per program day, to the six decimals a draw records."""
    return policy.daily_probability.quantize(_PROBABILITY_PLACES)


# --- who is in the pool ---------------------------------------------------------------


def eligible_episodes(program: Any, day: dt.date) -> list[Episode]:
    """Participants in care (admitted or active, not voided) expected at the program that
    day: enrolled on the track of a scheduled group session, or booked into a scheduled
    session. Sorted by episode id. Three queries at most, whatever the census.

    A day without a scheduled session (a weekend, a closure: its sessions are cancelled)
    has an empty pool."""
    sessions = list(
        Session.objects.filter(
            program=program, date=day, status=SessionStatus.SCHEDULED, voided=False
        ).only("pk", "track_id", "kind", "date")
    )
    if not sessions:
        return []
    track_ids = {s.track_id for s in sessions if s.track_id and s.kind == SessionKind.GROUP}
    enrolments = enrolments_for_tracks(track_ids, day, day)
    bookings = bookings_for_sessions([s.pk for s in sessions])
    found: dict[int, Episode] = {}
    for session in sessions:
        for episode in expected_episodes(session, enrolments, bookings):
            found.setdefault(episode.pk, episode)
    return sorted(
        (
            e
            for e in found.values()
            if e.status in IN_CARE and not e.voided and e.program_id == program.pk
        ),
        key=lambda e: e.pk,
    )


# --- the daily draw -------------------------------------------------------------------


def _audit_key(program_id: int, day: dt.date) -> str:
    return f"{program_id}:{day.isoformat()}"


def _actor_name(actor: Any) -> str:
    return (getattr(actor, "username", "") or "worker")[:150]


def draw_day(
    program: Any, day: dt.date, *, seed: bytes | None = None, actor: Any = None
) -> SelectionDay:
    """Draw the program's random selection for `day`, once: a second call returns the
    row already written. In one transaction: first the audit event with the seed's hash
    and the pool's hash, then the `SelectionDay` (seed kept secret until the day is
    over), then a random order for each selected participant.

    `seed` is for the demo and tests; the worker leaves it out and a fresh one comes from
    the CSPRNG."""
    existing = SelectionDay.objects.filter(program=program, day=day).first()
    if existing is not None:
        return existing
    if seed is None:
        seed = secrets.token_bytes(SEED_BYTES)
    if not isinstance(seed, bytes) or not 1 <= len(seed) <= SEED_BYTES:
        raise ValueError(f"A seed is 1 to {SEED_BYTES} bytes.")
    policy = services.policy_for(program)
    probability = probability_for(policy)
    try:
        with transaction.atomic():
            pool = eligible_episodes(program, day)
            eligible = [e.pk for e in pool]
            selected = derive(seed, day, eligible, probability)
            hashed = seed_hash(seed)
            # The hash is in the audit log before any list or order exists.
            audit.record(
                AuditAction.CREATE,
                actor=actor,
                object_type=AUDIT_TYPE,
                object_id=_audit_key(program.pk, day),
                object_repr=f"random selection {day.isoformat()}",
                changes={
                    "seed_hash": [None, hashed],
                    "method": [None, METHOD],
                    "probability": [None, str(probability)],
                    "eligible_count": [None, len(eligible)],
                    "eligible_hash": [None, pool_hash(eligible)],
                    "selected_count": [None, len(selected)],
                },
            )
            row = SelectionDay.objects.create(
                program=program,
                day=day,
                method=METHOD,
                probability=probability,
                seed_hash=hashed,
                seed=seed.hex(),
                eligible=eligible,
                selected=selected,
                drawn_by=_actor_name(actor),
            )
            picked = set(selected)
            _order_selected(row, [e for e in pool if e.pk in picked], policy, actor)
    except IntegrityError:
        # Drawn by someone else in the meantime: theirs stands.
        found = SelectionDay.objects.filter(program=program, day=day).first()
        if found is None:
            raise
        return found
    return row


def _order_selected(
    row: SelectionDay, episodes: Sequence[Episode], policy: ScreeningPolicy, actor: Any
) -> None:
    if not episodes:
        return
    panel = policy.random_panel or services.default_panel()
    if panel is None:
        raise services.ScreeningError("Choose the panel for random tests in the policy.")
    for episode in episodes:
        try:
            services.order_test(
                episode,
                actor=actor,
                day=row.day,
                reason=OrderReason.RANDOM,
                panel=panel,
                selection=row,
            )
        except services.ScreeningError:
            # The same test is already to be collected that day (e.g. for cause): that
            # collection covers the selection.
            continue


# --- scheduled and admission tests ----------------------------------------------------


def order_scheduled(program: Any, day: dt.date, actor: Any = None) -> list[Order]:
    """Order the day's non-random tests for the participants in care:

    * at admission (`test_at_admission`): an episode whose admission date is the day;
    * on a weekday (`scheduled_weekday`): everyone expected that day;
    * every N days from admission (`scheduled_every_days`): when an N-day period since
      admission has begun without a scheduled test, at the first day they are expected.

    Never a second open order the same day, and never the same reason twice the same day
    (a re-run orders nothing new). Six queries at most, plus three per order made."""
    policy = services.policy_for(program)
    weekly = policy.scheduled_weekday is not None and day.weekday() == policy.scheduled_weekday
    every = policy.scheduled_every_days
    if not (policy.test_at_admission or weekly or every):
        return []
    expected = {e.pk: e for e in eligible_episodes(program, day)}
    due: dict[int, tuple[Episode, str]] = {}
    if policy.test_at_admission:
        admitted = Episode.objects.filter(
            program=program, admission_date=day, status__in=IN_CARE, voided=False
        ).filter(participant__voided=False)
        for episode in admitted:
            due[episode.pk] = (expected.get(episode.pk, episode), OrderReason.ADMISSION)
    for episode in expected.values():
        if episode.pk in due or episode.admission_date is None or episode.admission_date > day:
            continue
        if weekly or (every and (day - episode.admission_date).days >= every):
            due[episode.pk] = (episode, OrderReason.SCHEDULED)
    if not due:
        return []
    since = day - dt.timedelta(days=every or 0)
    existing = list(
        Order.objects.filter(
            episode_id__in=list(due), voided=False, day__gte=min(since, day), day__lte=day
        ).values_list("episode_id", "day", "reason", "status")
    )
    panel = policy.random_panel or services.default_panel()
    made: list[Order] = []
    for episode_id, (episode, reason) in sorted(due.items()):
        mine = [(d, r, s) for e, d, r, s in existing if e == episode_id]
        if any(d == day and (s == OrderStatus.OPEN or r == reason) for d, r, s in mine):
            continue
        if reason == OrderReason.SCHEDULED and not weekly and every:
            assert episode.admission_date is not None  # noqa: S101  (checked above)
            elapsed = (day - episode.admission_date).days
            period_start = episode.admission_date + dt.timedelta(days=elapsed - elapsed % every)
            if any(r == OrderReason.SCHEDULED and d >= period_start for d, r, _ in mine):
                continue
        if panel is None:
            raise services.ScreeningError("Choose the panel for scheduled tests in the policy.")
        made.append(services.order_test(episode, actor=actor, day=day, reason=reason, panel=panel))
    return made


# --- revealing and verifying ----------------------------------------------------------


def reveal_past(program: Any, today: dt.date, *, actor: Any = None) -> int:
    """Reveal the seeds of the program's draws before `today` (the day is over, so the
    list can no longer be predicted); each reveal is audited. Returns how many."""
    now = timezone.now()
    revealed = 0
    with transaction.atomic():
        rows = list(
            SelectionDay.objects.select_for_update()
            .filter(program=program, day__lt=today, revealed_at__isnull=True)
            .order_by("day")
        )
        for row in rows:
            row.revealed_at = now
            row.save(update_fields=["revealed_at"])
            audit.record(
                AuditAction.CHANGE,
                actor=actor,
                object_type=AUDIT_TYPE,
                object_id=_audit_key(row.program_id, row.day),
                object_repr=f"random selection {row.day.isoformat()}",
                changes={"revealed_at": [None, now.isoformat()], "seed_hash": row.seed_hash},
            )
            revealed += 1
    return revealed


@dataclass
class Verification:
    ok: bool
    message: str
    derived: list[int] = field(default_factory=list)


def draw_event(selection_day: SelectionDay) -> AuditEvent | None:
    """The audit event written when the day was drawn (the first one, should there be
    more)."""
    return (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE,
            object_type=AUDIT_TYPE,
            object_id=_audit_key(selection_day.program_id, selection_day.day),
        )
        .order_by("at", "pk")
        .first()
    )


def _logged(event: AuditEvent, name: str) -> Any:
    value = (event.changes or {}).get(name)
    return value[-1] if isinstance(value, list) and value else value


def _ids(value: Any) -> list[int] | None:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return None
    return list(value)


def _same_decimal(value: Any, logged: Any) -> bool:
    try:
        return Decimal(str(value)) == Decimal(str(logged))
    except (ArithmeticError, ValueError):
        return False


def verify(selection_day: SelectionDay, today: dt.date | None = None) -> Verification:
    """Re-derive a past day's selection from its revealed seed and recorded pool.

    Refused (`ScreeningError`) while the day is not over: the seed is still secret. The
    checks, in order: the seed matches the hash written to the audit log at draw time
    (and the row's hash); the pool matches the pool hash in that event; the method and
    probability are those logged; and deriving again gives exactly the recorded list (and
    no random order of the day is for someone it did not select)."""
    row = selection_day
    if today is None:
        today = row.program.today()
    if row.day >= today:
        raise services.ScreeningError(
            "The day is not over: its seed is revealed after the day, then it can be verified."
        )
    event = draw_event(row)
    if event is None:
        return Verification(False, "No draw event in the audit log for this day.")
    try:
        seed = bytes.fromhex(row.seed)
    except ValueError:
        return Verification(False, "Tampered seed: the stored seed is not hexadecimal.")
    logged_hash = _logged(event, "seed_hash")
    if seed_hash(seed) != logged_hash:
        return Verification(
            False,
            "Tampered seed: its SHA-256 does not match the hash written to the audit log "
            "before the list could be seen.",
        )
    if row.seed_hash != logged_hash:
        return Verification(
            False, "Tampered seed hash: the day's hash differs from the one in the audit log."
        )
    eligible = _ids(row.eligible)
    if eligible is None or eligible != sorted(set(eligible)):
        return Verification(False, "Tampered eligible list: it is not a sorted list of ids.")
    if pool_hash(eligible) != _logged(event, "eligible_hash"):
        return Verification(
            False,
            "Tampered eligible list: it differs from the pool recorded in the audit log at "
            "draw time.",
        )
    if row.method != METHOD or _logged(event, "method") not in (None, row.method):
        return Verification(False, f"Unknown or changed method {row.method!r}.")
    if not _same_decimal(row.probability, _logged(event, "probability")):
        return Verification(
            False, "Tampered probability: it differs from the one in the audit log."
        )
    derived = derive(seed, row.day, eligible, Decimal(row.probability))
    selected = _ids(row.selected)
    if selected is None or derived != sorted(selected):
        recorded = len(selected) if selected is not None else "?"
        return Verification(
            False,
            f"Tampered selected list: re-deriving from the seed and the eligible list gives "
            f"{len(derived)} selected, the record has {recorded}, and they differ.",
            derived,
        )
    ordered = set(
        Order.objects.filter(selection=row, reason=OrderReason.RANDOM, voided=False).values_list(
            "episode_id", flat=True
        )
    )
    if ordered - set(derived):
        return Verification(
            False, "A random order of this day is for someone the draw did not select.", derived
        )
    return Verification(
        True,
        f"Verified: {len(derived)} selected of {len(eligible)} in the pool, re-derived from "
        f"the revealed seed; the seed and the pool match the audit log.",
        derived,
    )


def audit_verification(selection_day: SelectionDay, result: Verification, *, actor: Any) -> None:
    """Record that someone verified a day, and what came out."""
    audit.record(
        AuditAction.VIEW,
        actor=actor,
        object_type=AUDIT_TYPE,
        object_id=_audit_key(selection_day.program_id, selection_day.day),
        object_repr=f"random selection {selection_day.day.isoformat()} verified",
        changes={"verified": result.ok},
        reason=result.message,
    )


# --- the daily job --------------------------------------------------------------------


@dataclass
class DailyRun:
    programs: int = 0
    revealed: int = 0
    drawn: int = 0
    selected: int = 0
    scheduled: int = 0


def run_daily(now: dt.datetime | None = None, *, programs: Any = None) -> DailyRun:
    """For every program in use: reveal the past days, draw today, order the scheduled
    and admission tests."""
    from openiop.programs.models import Program

    now = now or timezone.now()
    summary = DailyRun()
    for program in programs if programs is not None else Program.objects.filter(retired=False):
        today = program.today(now)
        summary.programs += 1
        summary.revealed += reveal_past(program, today)
        before = SelectionDay.objects.filter(program=program, day=today).exists()
        row = draw_day(program, today)
        if not before:
            summary.drawn += 1
            summary.selected += len(row.selected)
        summary.scheduled += len(order_scheduled(program, today))
    return summary
