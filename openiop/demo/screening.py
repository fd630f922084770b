"""The demo's drug screening (issue 7, point 10): eight weeks of history.

* The program's policy: about one random test per participant per week over its four
  program days, a test at admission, supportive handling, refusals counted as positive.
* Each past program day has its random draw (through the real selection code, with a seed
  from the demo's own random stream so the demo is the same every time; the live worker
  uses a fresh CSPRNG seed) and the days are revealed, so "verify" works on any of them.
* Most selected participants were collected by the lab nurse the same morning; a few
  refused or did not come. Results follow what participants reported: someone who told
  the group they smoked cannabis screens positive for THC at the next test. Two people on
  buprenorphine and one on a prescribed benzodiazepine screen positive as *expected*. A
  few unreported positives (cocaine, fentanyl) are realistic too, one of them sent out
  for definitive confirmation with its chain of custody.
* Reviews older than a week are done, with what changed in the plan; the recent ones wait
  on the counsellor's list. Today's draw is made and waits for the lab.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from openiop.accounts.models import User
from openiop.attendance.models import CheckIn
from openiop.participants.choices import IN_CARE
from openiop.participants.models import Episode
from openiop.programs.models import Program
from openiop.scheduling.models import Session
from openiop.screening import selection
from openiop.screening import services as screening
from openiop.screening.choices import (
    CustodyStep,
    Interpretation,
    OrderReason,
    OrderStatus,
    ResultMethod,
    ResultOutcome,
    ReviewOutcome,
    ReviewStatus,
)
from openiop.screening.models import Analyte, Order, Panel, Review

PAST_WEEKS = 8
# Check-in substances → the cup analyte that would show them (alcohol is not on the cup).
SHOWS_AS = {"cannabis": "THC", "cocaine": "COC", "opioids": "OPI", "fentanyl": "FEN"}
MOUD = [
    ("Buprenorphine/naloxone 8/2 mg daily", ["BUP", "NORBUP"], "Dr. A. Patel (office-based)"),
    ("Buprenorphine/naloxone 12/3 mg daily", ["BUP", "NORBUP"], "Harbor OTP"),
    ("Clonazepam 0.5 mg twice daily (prescribed)", ["BZO"], "Dr. L. Nguyen (psychiatry)"),
]
PLAN_CHANGES = {
    ReviewOutcome.USE: [
        "Added a problem on dimension 5 (return to use); weekly individual session for four "
        "weeks and a craving log. Relapse-prevention plan updated with the new trigger.",
        "Talked it through in individual session; participant acknowledged use at a party. "
        "Objective added: call a support person before going to events with alcohol.",
        "Moved to observed collection for the next four weeks at the participant's request; "
        "added a Thursday individual check-in.",
    ],
    ReviewOutcome.EXPECTED: [
        "Prescription confirmed with the prescriber; added to expected medications. No change.",
    ],
    ReviewOutcome.NOTED: [
        "Discussed the missed test; participant was at a job interview. No change to the plan; "
        "reminded of the call-in procedure.",
        "Participant said they were not ready to test; we talked about what that meant. "
        "Added an individual session this week.",
    ],
}


@dataclass
class ScreeningSummary:
    days: int = 0
    orders: int = 0
    collected: int = 0
    unexpected: int = 0
    expected: int = 0
    reviews_open: int = 0


def build(
    rng: random.Random, program: Program, staff: dict[str, User], today: dt.date
) -> ScreeningSummary:
    summary = ScreeningSummary()
    lab = staff["lab"]
    director = staff["director"]
    policy = screening.policy_for(program)
    screening.update_policy(
        policy,
        actor=director,
        random_rate=policy.random_rate,
        draw_days_per_week=4,
        test_at_admission=True,
        handling="supportive",
        refusal_counts_as="positive",
        no_show_counts_as="missed",
        dilute_counts_as="retest",
        minimum_per_week=policy.random_rate / 2,
    )
    analytes = {a.code: a for a in Analyte.objects.all()}
    in_care = list(
        Episode.objects.filter(program=program, status__in=IN_CARE, voided=False)
        .select_related("participant", "primary_counsellor")
        .order_by("pk")
    )
    on_moud = _expected_medications(rng, in_care, analytes, staff)
    used = _reported_use(program)
    # Use nobody reported: it shows up on a random test sooner or later.
    hidden = {
        e.participant_id: rng.choice(["COC", "FEN", "THC", "COC"]) for e in rng.sample(in_care, 5)
    }
    first = today - dt.timedelta(weeks=PAST_WEEKS)
    days = sorted(
        set(
            Session.objects.filter(
                program=program, date__gte=first, date__lte=today, voided=False
            ).values_list("date", flat=True)
        )
    )
    for day in days:
        seed = rng.getrandbits(256).to_bytes(32, "big")
        selection.draw_day(program, day, seed=seed, actor=None)
        selection.order_scheduled(program, day, actor=None)
        summary.days += 1
    selection.reveal_past(program, today)
    orders = list(
        Order.objects.filter(program=program, day__lt=today, voided=False, status=OrderStatus.OPEN)
        .select_related("episode__program", "panel", "participant")
        .order_by("day", "pk")
    )
    summary.orders = len(orders)
    sent_out = False
    recent_positive = False
    for order in orders:
        at = dt.datetime.combine(order.day, dt.time(9, rng.randint(5, 55)), tzinfo=program.tz)
        roll = rng.random()
        if roll < 0.03:
            screening.record_refusal(order, actor=lab, note="Declined to give a specimen.")
            continue
        if roll < 0.07:
            screening.record_no_show(order, actor=lab, note="Did not come in on the day.")
            continue
        collection = screening.record_collection(
            order,
            screening.CollectionInput(
                specimen_id=f"D{order.day:%y%m%d}{order.pk:05d}",
                collected_at=at,
                observed=rng.random() < 0.1,
                observed_reason="Observed at the participant's request.",
                temperature_in_range=True if order.panel.specimen_type == "urine" else None,
            ),
            actor=lab,
        )
        summary.collected += 1
        screening.add_custody(
            collection, actor=lab, step=CustodyStep.SEALED, at=at + dt.timedelta(minutes=3)
        )
        positives = set()
        for use_day, what in used.get(order.participant_id, []):
            if dt.timedelta(0) <= order.day - use_day <= dt.timedelta(days=3) and what in SHOWS_AS:
                positives.add(SHOWS_AS[what])
        if order.participant_id in hidden and rng.random() < 0.5:
            positives.add(hidden.pop(order.participant_id))
        if not recent_positive and order.day >= today - dt.timedelta(days=5):
            # One recent unexpected positive waits on the counsellor's review list.
            positives.add("COC")
            recent_positive = True
        for code in on_moud.get(order.participant_id, []):
            positives.add(code)
        entries = []
        for line in order.panel.lines.all():
            code = line.analyte.code
            entries.append(
                screening.ResultInput(
                    analyte=line.analyte,
                    method=ResultMethod.PRESUMPTIVE,
                    outcome=ResultOutcome.POSITIVE if code in positives else ResultOutcome.NEGATIVE,
                    cutoff=line.cutoff,
                    unit=line.unit,
                )
            )
        results = screening.record_results(
            collection, entries, actor=lab, resulted_at=at + dt.timedelta(minutes=8)
        )
        summary.unexpected += sum(r.interpretation == Interpretation.UNEXPECTED for r in results)
        summary.expected += sum(r.interpretation == Interpretation.EXPECTED for r in results)
        unexpected = [r for r in results if r.interpretation == Interpretation.UNEXPECTED]
        if unexpected and not sent_out and order.day < today - dt.timedelta(days=10):
            sent_out = True
            _send_out(collection, unexpected, lab, at)
    summary.collected += _alcohol_for_cause(program, used, analytes, lab, today)
    _answer_reviews(rng, program, today)
    summary.reviews_open = Review.objects.filter(
        episode__program=program, status=ReviewStatus.OPEN
    ).count()
    # Today's draw: the lab's list for the morning.
    selection.draw_day(program, today, seed=rng.getrandbits(256).to_bytes(32, "big"))
    selection.order_scheduled(program, today, actor=None)
    return summary


def _expected_medications(
    rng: random.Random, episodes: list[Episode], analytes: dict[str, Analyte], staff: dict
) -> dict[int, list[str]]:
    """Two participants on buprenorphine and one on a prescribed benzodiazepine."""
    out: dict[int, list[str]] = {}
    for episode, (name, codes, prescriber) in zip(rng.sample(episodes, 3), MOUD, strict=False):
        start = (episode.admission_date or episode.referral_date) - dt.timedelta(days=30)
        screening.add_expected_medication(
            episode.participant,
            actor=episode.primary_counsellor or staff["counsellor"],
            name=name,
            analytes=[analytes[c] for c in codes],
            start_date=start,
            prescriber=prescriber,
            note="Verified with the prescriber and the state PDMP at admission.",
        )
        out[episode.participant_id] = [c for c in codes if c in ("BUP", "BZO")]
    return out


def _reported_use(program: Program) -> dict[int, list[tuple[dt.date, str]]]:
    out: dict[int, list[tuple[dt.date, str]]] = {}
    for row in CheckIn.objects.filter(episode__program=program, used=True, voided=False).values(
        "participant_id", "day", "substances"
    ):
        out.setdefault(row["participant_id"], []).append((row["day"], row["substances"]))
    return out


def _send_out(collection: Any, unexpected: list, lab: User, at: dt.datetime) -> None:
    """A disputed positive sent out for definitive testing, with its chain of custody."""
    screening.add_custody(
        collection,
        actor=lab,
        step=CustodyStep.SENT,
        at=at + dt.timedelta(hours=2),
        by_name="",
        detail="Courier pick-up, manifest 55-2193",
    )
    screening.add_custody(
        collection,
        actor=lab,
        step=CustodyStep.RECEIVED,
        at=at + dt.timedelta(days=1, hours=3),
        by_name="Northeast Toxicology, accessioning",
        detail="Accession NT-884120; seal intact",
    )
    entries = [
        screening.ResultInput(
            analyte=r.analyte,
            method=ResultMethod.DEFINITIVE,
            outcome=ResultOutcome.POSITIVE,
            value=r.cutoff * 3 if r.cutoff else None,
            unit=r.unit,
            cutoff=r.cutoff,
        )
        for r in unexpected
    ]
    screening.record_results(
        collection,
        entries,
        actor=lab,
        accession="NT-884120",
        resulted_at=at + dt.timedelta(days=3),
    )


def _alcohol_for_cause(
    program: Program,
    used: dict[int, list[tuple[dt.date, str]]],
    analytes: dict[str, Analyte],
    lab: User,
    today: dt.date,
) -> int:
    """Drinking the participant reported: a for-cause EtG test the next day, sent out to
    the laboratory with its chain of custody, positive on the definitive result."""
    etg = Panel.objects.get(name="EtG urine (send-out)")
    episodes = {
        e.participant_id: e
        for e in Episode.objects.filter(program=program, status__in=IN_CARE, voided=False)
    }
    made = 0
    for participant_id, uses in sorted(used.items()):
        episode = episodes.get(participant_id)
        for use_day, what in uses:
            day = use_day + dt.timedelta(days=1)
            if what != "alcohol" or episode is None or day >= today - dt.timedelta(days=4):
                continue
            order = screening.order_test(
                episode,
                actor=lab,
                day=day,
                reason=OrderReason.FOR_CAUSE,
                panel=etg,
                reason_detail="Reported drinking at check-in; EtG to see the extent.",
            )
            at = dt.datetime.combine(day, dt.time(9, 40), tzinfo=program.tz)
            collection = screening.record_collection(
                order,
                screening.CollectionInput(
                    specimen_id=f"E{day:%y%m%d}{order.pk:05d}",
                    collected_at=at,
                    temperature_in_range=True,
                ),
                actor=lab,
            )
            steps = [
                (CustodyStep.SEALED, dt.timedelta(minutes=4), "", ""),
                (CustodyStep.SENT, dt.timedelta(hours=3), "", "Courier pick-up, manifest 55-31"),
                (
                    CustodyStep.RECEIVED,
                    dt.timedelta(days=1, hours=2),
                    "Northeast Toxicology, accessioning",
                    f"Accession NT-9{order.pk:05d}; seal intact",
                ),
            ]
            for step, after, who, detail in steps:
                screening.add_custody(
                    collection, actor=lab, step=step, at=at + after, by_name=who, detail=detail
                )
            screening.record_results(
                collection,
                [
                    screening.ResultInput(
                        analyte=analytes["ETG"],
                        method=ResultMethod.DEFINITIVE,
                        outcome=ResultOutcome.POSITIVE,
                        value=Decimal("1840"),
                        unit="ng/mL",
                        cutoff=Decimal("500"),
                    ),
                    screening.ResultInput(
                        analyte=analytes["ETS"],
                        method=ResultMethod.DEFINITIVE,
                        outcome=ResultOutcome.POSITIVE,
                        value=Decimal("410"),
                        unit="ng/mL",
                        cutoff=Decimal("100"),
                    ),
                ],
                actor=lab,
                accession=f"NT-9{order.pk:05d}",
                resulted_at=at + dt.timedelta(days=3),
            )
            made += 1
    return made


def _answer_reviews(rng: random.Random, program: Program, today: dt.date) -> None:
    """Reviews of tests more than a week old are done; recent ones stay open."""
    reviews = (
        Review.objects.filter(episode__program=program, status=ReviewStatus.OPEN)
        .select_related("order", "assigned_to", "episode__primary_counsellor")
        .order_by("pk")
    )
    for review in reviews:
        if review.order.day >= today - dt.timedelta(days=7):
            continue
        outcome = ReviewOutcome.USE if review.reason == "positive" else ReviewOutcome.NOTED
        reviewer = review.assigned_to or review.episode.primary_counsellor
        if reviewer is None:
            continue
        screening.complete_review(
            review,
            actor=reviewer,
            outcome=outcome,
            plan_change=rng.choice(PLAN_CHANGES[outcome]),
            expected_version=review.version,
        )
